import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { anthropicMessage, type FakeResponder } from "./fake-model-server.ts";
import { mossBin } from "./moss-cli.ts";
import { makeWorkspace, repoRoot } from "./workspaces.ts";

/** What the fake executor does on a task, by a marker in its prompt. */
type Behaviour = "solve" | "give-up";

/**
 * A fake executor for suites whose trials arrive in any order: the reply depends only on the
 * task (a `[solve]` or `[give-up]` marker in the prompt; the example task's prompt solves) and
 * on how many turns the conversation has had, so every trial of a task plays out the same.
 */
export function suiteResponder(opts: { delayMs?: number } = {}): FakeResponder {
  return async (body) => {
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const messages = (body.messages ?? []) as Array<{ role: string; content: unknown }>;
    const first = JSON.stringify(messages[0]?.content ?? "");
    const turn = messages.filter((m) => m.role === "assistant").length;
    const behaviour: Behaviour = first.includes("[give-up]") ? "give-up" : "solve";
    if (behaviour === "give-up" || turn > 0)
      return { body: anthropicMessage([{ type: "text", text: "Done." }]) };
    const isExample = first.includes("src/math.js");
    return {
      body: anthropicMessage([
        isExample
          ? {
              type: "tool_use",
              name: "write_file",
              input: { path: "src/math.js", content: "export function add(a, b) {\n  return a + b;\n}\n" },
            }
          : { type: "tool_use", name: "write_file", input: { path: "answer.txt", content: "42\n" } },
      ]),
    };
  };
}

/** A workspace whose check passes when answer.txt holds 42. */
export const answerWorkspace = () =>
  makeWorkspace({
    "check.js":
      'const fs = require("node:fs");\nconst got = fs.existsSync("answer.txt") ? fs.readFileSync("answer.txt", "utf8").trim() : "";\nif (got !== "42") { console.log(`FAIL: answer.txt holds "${got}"`); process.exit(1); }\nconsole.log("ok");\n',
  });

/** Adds tasks to a suite.json. */
export function addTasks(suiteDir: string, tasks: Array<Record<string, unknown>>): void {
  const file = path.join(suiteDir, "suite.json");
  const suite = JSON.parse(readFileSync(file, "utf8"));
  suite.tasks.push(...tasks);
  writeFileSync(file, JSON.stringify(suite, null, 2));
}

/** A task for `answerWorkspace` that the fake executor solves or gives up on. */
export const answerTask = (id: string, behaviour: Behaviour, extra: Record<string, unknown> = {}) => ({
  id,
  prompt: `[${behaviour}] Write 42 into answer.txt (task ${id}).`,
  workspace: answerWorkspace(),
  check: "node check.js",
  ...extra,
});

/** Starts the moss binary without waiting (for tests that kill it). */
export function spawnMoss(args: string[], env: NodeJS.ProcessEnv) {
  return spawn(process.execPath, [mossBin, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
