import { anthropicMessage, type FakeResponder } from "./fake-model-server.ts";

type Msg = { role: string; content: unknown };
type Block = { type: string; text?: string; content?: unknown; is_error?: boolean };
type Reply = Parameters<typeof anthropicMessage>[0][number];

const blocks = (m: Msg | undefined): Block[] =>
  typeof m?.content === "string" ? [{ type: "text", text: m.content }] : ((m?.content as Block[]) ?? []);
const textOf = (c: unknown): string =>
  typeof c === "string"
    ? c
    : Array.isArray(c)
      ? c.map((b: Block) => b.text ?? textOf(b.content)).join("\n")
      : "";

const tool = (name: string, input: unknown): Reply => ({ type: "tool_use", name, input });
const say = (text: string): Reply => ({ type: "text", text });

/**
 * A fake executor for the built-in `seeded` suite that plays each task as a diligent model would,
 * from what the agent's tools return: it never knows whether the agent is planted. It picks the
 * task by a phrase of its prompt and acts on the tool results (and, for check-first, on whether
 * the system prompt asks it to verify its change), so a weakness in the tools or the prompt is
 * what makes a task fail.
 */
export function seededExecutor(): FakeResponder {
  return (body) => {
    const messages = (body.messages ?? []) as Msg[];
    const prompt = textOf(
      blocks(messages[0])
        .map((b) => b.text ?? "")
        .join("\n"),
    );
    const system = JSON.stringify(body.system ?? "");
    const turn = messages.filter((m) => m.role === "assistant").length;
    const results = messages
      .filter((m) => m.role === "user")
      .flatMap(blocks)
      .filter((b) => b.type === "tool_result")
      .map((b) => ({ text: textOf(b.content), error: b.is_error === true }));
    const last = results.at(-1);
    const reply = play(prompt, system, turn, results, last);
    return { body: anthropicMessage([reply]) };
  };
}

function play(
  prompt: string,
  system: string,
  turn: number,
  results: Array<{ text: string; error: boolean }>,
  last: { text: string; error: boolean } | undefined,
): Reply {
  if (prompt.includes("greet()")) {
    if (turn === 0) return tool("read_file", { path: "src/greeting.js" });
    if (turn === 1)
      return tool("edit_file", {
        path: "src/greeting.js",
        old_string: 'export function greet(name) {\n  return "Hi " + name;',
        new_string: "export function greet(name) {\n  return `Hello, ${name}!`;",
      });
    return say(last?.error ? "The edit did not apply: old_string was not found." : "Done.");
  }
  if (prompt.includes("numbers.txt")) {
    // Reads until read_file says no more lines follow, then sums every numbered line it saw.
    if (turn === 0) return tool("read_file", { path: "numbers.txt" });
    const more = last?.text.match(/use offset=(\d+)/);
    if (more) return tool("read_file", { path: "numbers.txt", offset: Number(more[1]) });
    if (last?.text.startsWith("Wrote") || results.length > 1 + countPages(results)) return say("Done.");
    const sum = results
      .flatMap((r) => [...r.text.matchAll(/^\s*\d+→(-?\d+)\s*$/gm)])
      .reduce((s, m) => s + Number(m[1]), 0);
    return tool("write_file", { path: "answer.txt", content: `${sum}\n` });
  }
  if (prompt.includes("RELEASE_CODE")) {
    if (turn === 0) return tool("grep", { pattern: "RELEASE_CODE\\s*=" });
    if (turn > 1) return say("Done.");
    const value = last?.text.match(/RELEASE_CODE\s*=\s*(\d+)/)?.[1];
    return value
      ? tool("write_file", { path: "answer.txt", content: `${value}\n` })
      : say("grep found no definition of RELEASE_CODE in this project; I could not complete the task.");
  }
  if (prompt.includes("build.js")) {
    if (turn === 0) return tool("run_command", { command: "node build.js" });
    return say(last?.error ? `The build failed: ${last.text.split("\n")[0]}` : "Built.");
  }
  if (prompt.includes("CURRENT")) {
    // A hasty first answer; it checks its work only when the system prompt says to.
    if (turn === 0) return tool("read_file", { path: "CURRENT" });
    if (turn === 1) return tool("write_file", { path: "VERSION", content: "2.1\n" });
    if (turn === 2)
      return system.includes("run the project's tests or the command the task names")
        ? tool("run_command", { command: "node check.js" })
        : say("Done: VERSION is 2.1.");
    const want = last?.text.match(/expected (\d+\.\d+\.\d+)/)?.[1];
    if (turn === 3 && want) return tool("write_file", { path: "VERSION", content: `${want}\n` });
    return say("Done.");
  }
  return say(`seeded executor: no behaviour for this prompt: ${prompt.slice(0, 80)}`);
}

/** How many of the results were read_file pages that pointed to a further page. */
const countPages = (results: Array<{ text: string }>) =>
  results.filter((r) => /use offset=\d+/.test(r.text)).length;
