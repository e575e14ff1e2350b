import http from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted reply: a JSON body, an HTTP error, or a delay longer than the client's timeout. */
export type FakeReply =
  | { body: unknown }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hangMs: number; body: unknown }
  /** The connection is cut before any reply (a reset), or a 200 whose body is not JSON. */
  | { drop: true }
  | { garbage: string }
  /** A 200 whose body stops half-way: the connection is cut mid-reply. */
  | { cut: true }
  /** A 200 whose body comes one byte every `everyMs`: headers at once, the reply never in time. */
  | { trickleMs: number };

export interface FakeServer {
  url: string;
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Builds the reply to a request from its body (for callers whose requests arrive in any order). */
export type FakeResponder = (body: Record<string, unknown>, index: number) => FakeReply | Promise<FakeReply>;

/**
 * A loopback HTTP server that answers the Anthropic Messages API (POST /v1/messages) or the
 * OpenAI chat API (POST /v1/chat/completions) from a script, in order, or from a responder
 * function of each request, and records requests.
 */
export async function startFakeModelServer(replies: FakeReply[] | FakeResponder): Promise<FakeServer> {
  const requests: FakeServer["requests"] = [];
  let i = 0;
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => {
      raw += c;
    });
    req.on("end", async () => {
      const body = raw ? JSON.parse(raw) : {};
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      const index = i++;
      const reply: FakeReply | undefined =
        typeof replies === "function" ? await replies(body, index) : replies[index];
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (!reply)
        return send(500, { type: "error", error: { type: "api_error", message: "script exhausted" } });
      if ("drop" in reply) return void res.socket?.destroy();
      if ("trickleMs" in reply) {
        const whole = JSON.stringify(anthropicMessage([{ type: "text", text: "slow" }]));
        res.writeHead(200, { "content-type": "application/json", "content-length": String(whole.length) });
        let sent = 0;
        const drip = setInterval(() => {
          if (res.destroyed || sent >= whole.length) return clearInterval(drip);
          res.write(whole[sent++]);
        }, reply.trickleMs);
        res.on("close", () => clearInterval(drip));
        return;
      }
      if ("cut" in reply) {
        const whole = JSON.stringify(anthropicMessage([{ type: "text", text: "a reply that never ends" }]));
        res.writeHead(200, { "content-type": "application/json", "content-length": String(whole.length) });
        res.write(whole.slice(0, whole.length >> 1));
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      if ("garbage" in reply) {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(reply.garbage);
      }
      if ("hangMs" in reply) {
        const t = setTimeout(() => send(200, reply.body), reply.hangMs as number);
        res.on("close", () => clearTimeout(t));
        return;
      }
      if ("status" in reply) {
        return send(
          reply.status,
          reply.body ?? {
            type: "error",
            error: { type: "overloaded_error", message: `status ${reply.status}` },
          },
          reply.headers ?? {},
        );
      }
      send(200, reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let n = 0;
/** An Anthropic Messages API response body. */
export function anthropicMessage(
  content: Array<
    { type: "text"; text: string } | { type: "tool_use"; name: string; input: unknown; id?: string }
  >,
  usage = { input_tokens: 120, output_tokens: 30 },
) {
  const blocks = content.map((b) => (b.type === "tool_use" ? { ...b, id: b.id ?? `toolu_${++n}` } : b));
  return {
    id: `msg_${++n}`,
    type: "message",
    role: "assistant",
    model: "claude-haiku-5-5",
    content: blocks,
    stop_reason: blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...usage },
  };
}

/** An OpenAI chat completion response body. */
export function openaiCompletion(text: string | null, calls: Array<{ name: string; args: string }> = []) {
  return {
    id: `chatcmpl-${++n}`,
    object: "chat.completion",
    created: 0,
    model: "local-model",
    choices: [
      {
        index: 0,
        finish_reason: calls.length ? "tool_calls" : "stop",
        message: {
          role: "assistant",
          content: text,
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: `call_${++n}`,
                  type: "function",
                  function: { name: c.name, arguments: c.args },
                })),
              }
            : {}),
        },
      },
    ],
    usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 },
  };
}
