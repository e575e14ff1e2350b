import { createInterface } from "node:readline";
import {
  type AgentToHarness,
  type HarnessToAgent,
  HarnessToAgentSchema,
  type ModelChannel,
  type ModelTurn,
} from "../src/contract/index.ts";

/**
 * The agent's side of the stdio protocol: requests go out on stdout, replies come in on stdin.
 * The first message from the harness is `start`; `abort` ends the attempt.
 */
export class StdioChannel implements ModelChannel {
  private nextId = 1;
  private pending = new Map<number, (turn: ModelTurn) => void>();
  private startWaiters: Array<(msg: Extract<HarnessToAgent, { type: "start" }>) => void> = [];
  readonly abort = new AbortController();

  constructor(
    input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
  ) {
    const lines = createInterface({ input });
    lines.on("line", (line) => this.receive(line));
    lines.on("close", () => this.abort.abort());
  }

  send(message: AgentToHarness): void {
    this.output.write(`${JSON.stringify(message)}\n`);
  }

  waitForStart(): Promise<Extract<HarnessToAgent, { type: "start" }>> {
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }

  complete(request: Parameters<ModelChannel["complete"]>[0]): Promise<ModelTurn> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.abort.signal.addEventListener(
        "abort",
        () => resolve({ content: [], stopReason: "error", usage: zero, error: "aborted by the harness" }),
        { once: true },
      );
      this.send({ type: "model_request", id, request });
    });
  }

  private receive(line: string): void {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      json = undefined;
    }
    const parsed = HarnessToAgentSchema.safeParse(json);
    if (!parsed.success) {
      process.stderr.write(`agent: ignoring malformed harness message: ${line.slice(0, 200)}\n`);
      return;
    }
    const msg = parsed.data;
    if (msg.type === "start") for (const waiter of this.startWaiters.splice(0)) waiter(msg);
    else if (msg.type === "abort") this.abort.abort();
    else {
      this.pending.get(msg.id)?.(msg.turn);
      this.pending.delete(msg.id);
    }
  }
}

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
