import { PLANT } from "../../src/demo/demo-scenario.ts";
import {
  anthropicMessage,
  type FakeReply,
  type FakeResponder,
  type FakeServer,
  startFakeModelServer,
} from "./fake-model-server.ts";

/** What the default config names the executor; every other model is the patcher here. */
const EXECUTOR_MODEL = "claude-haiku-5-5";

export interface ModelScript {
  /**
   * The executor's edit for one agent run, from the task text and the run's number (0-based,
   * counting every run this server saw): an edit_file input, or a reply (e.g. an HTTP error).
   */
  edit(task: string, run: number): { path: string; old_string: string; new_string: string } | FakeReply;
  /** The patcher's answer for one stage's tool (submit_diagnosis, submit_plan, ...), given what it was shown. */
  patcher(tool: string, prompt: string): unknown;
}

/**
 * A loopback Anthropic API that plays a whole evolution from a script: each executor run makes
 * one edit and says it is done; each patcher call answers the stage's tool. It reads only the
 * request, so trials of head and candidate can come in any order.
 */
export function startModelScript(script: ModelScript): Promise<FakeServer & { runs: () => number }> {
  const { responder, runs } = scriptResponder(script);
  return startFakeModelServer(responder).then((server) => ({ ...server, runs }));
}

/** startModelScript's answers as a responder, for a server that wraps them (e.g. in noise). */
export function scriptResponder(script: ModelScript): { responder: FakeResponder; runs: () => number } {
  let runs = 0;
  const handler = (body: Record<string, unknown>): FakeReply => {
    const messages = body.messages as Array<{ role: string; content: unknown }>;
    if (body.model !== EXECUTOR_MODEL) {
      const tool = (body.tools as Array<{ name: string }>)[0]!.name;
      const input = script.patcher(tool, JSON.stringify(messages));
      return { body: anthropicMessage([{ type: "tool_use", name: tool, input }]) };
    }
    const assistantTurns = messages.filter((m) => m.role === "assistant").length;
    if (assistantTurns > 0) return { body: anthropicMessage([{ type: "text", text: "Done." }]) };
    const first = messages[0]!.content;
    const task = typeof first === "string" ? first : JSON.stringify(first);
    const edit = script.edit(task, runs++);
    if (!("path" in edit)) return edit;
    return { body: anthropicMessage([{ type: "tool_use", name: "edit_file", input: edit }]) };
  };
  return { responder: handler, runs: () => runs };
}

/** The demo task's edit of greeting.js, as a model writes it (LF text). */
export const DEMO_GREET_EDIT = {
  path: "src/greeting.js",
  old_string: 'export function greet(name) {\n  return "Hi " + name;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the fix writes a template literal into greeting.js
  new_string: "export function greet(name) {\n  return `Hello, ${name}!`;",
};

/** The demo's CRLF fix: restore what the plant replaced in edit_file. */
export const DEMO_FIX = (
  PLANT.filter((p) => "from" in p) as Array<{ file: string; from: string; to: string }>
).map((p) => ({ path: p.file, old_string: p.to, new_string: p.from }));

/** Patcher answers for a patch of `edits`, with a diagnosis and plan that name the first file. */
export function patcherAnswers(
  rationale: string,
  edits: Array<{ path: string; old_string: string; new_string: string }>,
  newFiles: Array<{ path: string; content: string }> = [],
): (tool: string) => unknown {
  return (tool) => {
    if (tool === "submit_diagnosis")
      return {
        rootCause: rationale,
        evidence: [{ file: edits[0]?.path ?? "agent-src/loop.ts", line: 1, note: "here" }],
        confidence: "medium",
      };
    if (tool === "submit_plan") return { summary: rationale, steps: ["edit"], test: "the agent's tests" };
    if (tool === "submit_review") return { approved: true, concerns: [] };
    return { rationale, edits, new_files: newFiles };
  };
}
