import type {
  AgentEvent,
  AgentLimits,
  AgentResult,
  ContentBlock,
  ExitReason,
  Message,
  ModelChannel,
  ToolResultBlock,
  ToolUseBlock,
  Usage,
} from "../src/contract/index.ts";
import { addUsage, emptyUsage } from "../src/contract/index.ts";
import type { Tool } from "./tools/tool.ts";

export interface LoopOptions {
  task: string;
  systemPrompt: string;
  channel: ModelChannel;
  tools: Tool[];
  limits: AgentLimits;
  onEvent?: (event: AgentEvent) => void;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * The agent loop: ask the model, run the tools it calls, append the results, check the limits,
 * repeat. Always resolves with a typed exit reason; never throws for model or tool failures.
 */
export async function runAgentLoop(options: LoopOptions): Promise<AgentResult> {
  const { channel, tools, limits, onEvent = () => {}, now = Date.now } = options;
  const signal = options.signal ?? new AbortController().signal;
  const started = now();
  const byName = new Map(tools.map((t) => [t.spec.name, t]));
  const messages: Message[] = [{ role: "user", content: [{ type: "text", text: options.task }] }];
  let usage: Usage = emptyUsage();
  let turns = 0;
  let finalText = "";
  const finish = (exitReason: ExitReason, detail?: string): AgentResult => ({
    exitReason,
    turns,
    usage,
    finalText,
    ...(detail ? { detail } : {}),
  });

  while (true) {
    if (signal.aborted) return finish("aborted");
    if (turns >= limits.maxTurns) return finish("max_turns", `stopped after ${turns} turns`);
    if (now() - started > limits.wallClockMs)
      return finish("timeout", `wall clock of ${limits.wallClockMs} ms`);

    turns++;
    const reply = await channel.complete({
      system: options.systemPrompt,
      tools: tools.map((t) => t.spec),
      messages,
      maxTokens: limits.maxOutputTokens,
    });
    usage = addUsage(usage, reply.usage);
    if (reply.stopReason === "error") return finish("model_error", reply.error ?? "model call failed");

    messages.push({ role: "assistant", content: reply.content });
    const text = textOf(reply.content);
    if (text) {
      finalText = text;
      onEvent({ type: "assistant_text", turn: turns, text });
    }
    const calls = reply.content.filter((b): b is ToolUseBlock => b.type === "tool_use");
    if (calls.length === 0) {
      if (reply.stopReason === "max_tokens") {
        messages.push(userText("Your reply was cut off at the output limit. Continue, more briefly."));
        continue;
      }
      return finish("completed");
    }

    const results: ToolResultBlock[] = [];
    for (const call of calls) {
      onEvent({ type: "tool_call", turn: turns, id: call.id, name: call.name, input: call.input });
      const t0 = now();
      const output = await runTool(byName.get(call.name), call, signal);
      onEvent({ type: "tool_result", turn: turns, id: call.id, name: call.name, ms: now() - t0, ...output });
      results.push({
        type: "tool_result",
        tool_use_id: call.id,
        content: output.content,
        is_error: output.isError,
      });
    }
    messages.push({ role: "user", content: results });

    if (totalTokens(usage) >= limits.tokenBudget) {
      return finish("budget_exhausted", `used ${totalTokens(usage)} of ${limits.tokenBudget} tokens`);
    }
  }
}

async function runTool(tool: Tool | undefined, call: ToolUseBlock, signal: AbortSignal) {
  if (!tool) {
    return { content: `Unknown tool "${call.name}". Use one of the tools you were given.`, isError: true };
  }
  return tool.run(call.input, signal);
}

function textOf(content: ContentBlock[]): string {
  return content
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("\n")
    .trim();
}

const userText = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });

export const totalTokens = (u: Usage): number =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
