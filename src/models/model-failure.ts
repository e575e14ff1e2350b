import type { ModelFailure, ModelFailureKind, ModelTurn } from "../contract/index.ts";
import { callDeadlineMs, errorTurn, withDeadline } from "./provider.ts";

/**
 * Failures of the model service or the way to it: the agent had no fair try when one of these
 * ended its run (after the SDK's own retries). A bad request (400/413/422) is the request's fault,
 * an abort is the user's, and `other` (a cassette mismatch, an empty reply) is not blamed on the
 * service.
 */
const SERVICE_KINDS: ReadonlySet<ModelFailureKind> = new Set([
  "auth",
  "model_not_found",
  "rate_limited",
  "overloaded",
  "server_error",
  "connection",
  "timeout",
]);

export const isServiceFailure = (failure: ModelFailure | undefined): failure is ModelFailure =>
  failure !== undefined && SERVICE_KINDS.has(failure.kind);

/** The error turn for an exception thrown by an SDK (Anthropic's or OpenAI's: same error shapes). */
export function providerErrorTurn(err: unknown, baseUrl: string | undefined): ModelTurn {
  return { ...errorTurn(describeError(err, baseUrl)), failure: classifyProviderError(err) };
}

/**
 * The error turn for a 200 reply that is not the API's answer (not JSON, or JSON without the
 * message's fields: a proxy's error page, a cut body): the service's failure, like a 5xx.
 */
export function malformedReplyTurn(err: unknown, baseUrl: string | undefined): ModelTurn {
  const where = baseUrl ? ` (${baseUrl})` : "";
  const why = (err as { message?: string } | null)?.message ?? String(err);
  return {
    ...errorTurn(`the model service's reply is not an API reply${where}: ${why.slice(0, 200)}`),
    failure: { kind: "server_error" },
  };
}

/**
 * One SDK call as a provider makes it: under the hard deadline (see withDeadline), an exception
 * from `send` becomes a classified error turn, and a reply `parse` rejects is a malformed reply.
 */
export function callService(
  opts: { timeoutMs: number; maxRetries: number; baseUrl?: string | undefined },
  signal: AbortSignal | undefined,
  send: (signal: AbortSignal) => Promise<unknown>,
  parse: (reply: unknown) => ModelTurn,
): Promise<ModelTurn> {
  const where = opts.baseUrl ? ` (${opts.baseUrl})` : "";
  return withDeadline(callDeadlineMs(opts.timeoutMs, opts.maxRetries), signal, where, async (s) => {
    let reply: unknown;
    try {
      reply = await send(s);
    } catch (err) {
      return providerErrorTurn(err, opts.baseUrl);
    }
    try {
      return parse(reply);
    } catch (err) {
      return malformedReplyTurn(err, opts.baseUrl);
    }
  });
}

/** The failure kind (and HTTP status, when there was one) of an SDK exception. */
export function classifyProviderError(err: unknown): ModelFailure {
  const e = err as { status?: unknown; code?: string; message?: string } | null;
  const name = errorName(err);
  if (name === "APIConnectionTimeoutError" || /timed? ?out/i.test(name)) return { kind: "timeout" };
  if (name === "AbortError" || name === "APIUserAbortError") return { kind: "aborted" };
  // The SDK parsing a 200 body that is not JSON: the service (or a proxy before it) failed.
  if (name === "SyntaxError") return { kind: "server_error" };
  if (name === "APIConnectionError") return { kind: "connection" };
  if (typeof e?.status === "number") {
    const status = e.status;
    return { kind: statusKind(status), status };
  }
  if (CUT.test(causeChain(err))) return { kind: "connection" };
  return { kind: "other" };
}

/**
 * What an HTTP error status says. Only 400, 413 and 422 are the request's fault (what the agent
 * sent); every other status is the service's or the account's (402 no credit, 409 conflict, 410
 * gone, 418, ...), so it is never blamed on the agent. A status under 400 that arrives as an error
 * is the service misbehaving too.
 */
function statusKind(status: number): ModelFailureKind {
  if (status === 400 || status === 413 || status === 422) return "bad_request";
  if (status === 401 || status === 402 || status === 403) return "auth";
  if (status === 404 || status === 410) return "model_not_found";
  if (status === 429) return "rate_limited";
  if (status === 529) return "overloaded";
  if (status === 408) return "timeout";
  return "server_error";
}

/**
 * A refused, reset or cut connection, as Node's fetch (undici) reports it: its own code or
 * message, or those of an error it wraps (a body cut mid-reply is "TypeError: terminated" whose
 * cause is "other side closed").
 */
const CUT =
  /ECONNREFUSED|ENOTFOUND|ECONNRESET|EPIPE|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CLOSED|fetch failed|terminated|other side closed|socket hang up/i;

/** The codes and messages of an error and the errors it wraps (at most 5 deep). */
function causeChain(err: unknown): string {
  const parts: string[] = [];
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    parts.push(`${String(e.code ?? "")} ${String(e.message ?? "")}`);
  }
  return parts.join(" | ");
}

/** One line saying what failed, where, and what to do about it. */
export function describeError(err: unknown, baseUrl: string | undefined): string {
  const e = err as { status?: number; message?: string };
  const name = errorName(err);
  const where = baseUrl ? ` (${baseUrl})` : "";
  if (name === "APIConnectionTimeoutError") return `model request timed out after retries${where}`;
  if (name === "APIConnectionError") return `could not connect to the model endpoint${where}: ${e.message}`;
  if (typeof e?.status === "number") {
    const hint =
      e.status === 401 || e.status === 403
        ? " (check the API key)"
        : e.status === 404
          ? " (check the model name in moss.config.json)"
          : e.status === 429 || e.status === 529 || e.status >= 500
            ? " (still failing after retries)"
            : "";
    return `model API error ${e.status}${hint}${where}: ${e.message ?? ""}`.trim();
  }
  if (name === "AbortError" || name === "APIUserAbortError") return "model request aborted";
  if (name === "SyntaxError")
    return `the model service's reply is not valid JSON${where}: ${e?.message ?? ""}`;
  return `model request failed${where}: ${e?.message ?? String(err)}`;
}

/**
 * The SDK error class's name: the Anthropic SDK sets `name`, the OpenAI SDK leaves it "Error", so
 * the constructor's name is the one both share.
 */
function errorName(err: unknown): string {
  const e = err as { name?: string; constructor?: { name?: string } } | null;
  const ctor = e?.constructor?.name;
  return ctor && ctor !== "Error" && ctor !== "Object" ? ctor : (e?.name ?? "");
}

/** How the failure reads in a summary: "overloaded (HTTP 529)". */
export const failureLabel = (f: ModelFailure) =>
  `${f.kind.replace(/_/g, " ")}${f.status !== undefined ? ` (HTTP ${f.status})` : ""}`;
