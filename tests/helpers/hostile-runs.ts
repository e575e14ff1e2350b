import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  anthropicMessage,
  type FakeReply,
  type FakeResponder,
  startFakeModelServer,
} from "./fake-model-server.ts";
import { makeHome } from "./homes.ts";
import { type CliResult, mossBin } from "./moss-cli.ts";
import { makeWorkspace, repoRoot } from "./workspaces.ts";

/**
 * The start of a hostile agent-src/main.ts: it speaks the stdio protocol by hand, so it can break
 * it at will. `send`, `next` (the next harness message), `request(id, maxTokens)`, `done(reason)`
 * and `flush()` are in scope; the task's `start` message is already received as `start`.
 */
export const HOSTILE_PRELUDE = `
import { createInterface } from "node:readline";
const send = (m) => process.stdout.write(JSON.stringify(m) + "\\n");
const inbox = []; let waiting = null;
createInterface({ input: process.stdin }).on("line", (l) => {
  const m = JSON.parse(l);
  if (waiting) { const w = waiting; waiting = null; w(m); } else inbox.push(m);
});
const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => (waiting = r)));
const request = (id, maxTokens = 100) => ({ type: "model_request", id, request: { system: "s", tools: [],
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], maxTokens } });
const usage0 = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
const done = (exitReason, extra = {}) =>
  send({ type: "done", result: { exitReason, turns: 0, usage: usage0, finalText: "", ...extra } });
const flush = () => new Promise((r) => process.stdout.write("", r));
send({ type: "ready" });
const start = await next();
`;

/** A fresh agent home whose agent-src/main.ts is the prelude plus `body`. */
export async function hostileHome(body: string): Promise<string> {
  const home = await makeHome();
  writeFileSync(path.join(home, "agent-src", "main.ts"), `${HOSTILE_PRELUDE}\n${body}\n`);
  return home;
}

export interface HostileRun {
  r: CliResult;
  ws: string;
  /** The parsed --json output, or null when the run printed a summary. */
  out: Record<string, unknown> | null;
  /** The run's record.json. */
  record: Record<string, unknown>;
  /** Bodies of the requests the fake model API received. */
  requests: Array<Record<string, unknown>>;
}

export interface RunSpec {
  home: string;
  replies?: FakeReply[] | FakeResponder;
  files?: Record<string, string>;
  /** Config written to a file passed with --config. */
  config?: Record<string, unknown>;
  check?: string;
  json?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Bash run before moss starts, in the same process ($$ is moss's pid; $W is the workspace). */
  before?: string;
  ws?: string;
  task?: string;
  /** More `moss run` arguments (e.g. --rubric). */
  args?: string[];
}

/** One `moss run` through the built binary against the loopback fake model API. */
export async function hostileRun(spec: RunSpec): Promise<HostileRun> {
  const server = await startFakeModelServer(
    spec.replies ?? [{ body: anthropicMessage([{ type: "text", text: "done" }]) }],
  );
  try {
    const ws = spec.ws ?? makeWorkspace(spec.files ?? { "README.md": "hello\n" });
    const cfgDir = mkdtempSync(path.join(os.tmpdir(), "moss-hostile-cfg-"));
    const cfg = path.join(cfgDir, "moss.config.json");
    writeFileSync(cfg, JSON.stringify(spec.config ?? {}));
    const args = [
      "--home",
      spec.home,
      "run",
      spec.task ?? "do the task",
      "-w",
      ws,
      "--no-evolve",
      "--config",
      cfg,
      ...(spec.check ? ["--check", spec.check] : []),
      ...(spec.json === false ? [] : ["--json"]),
      ...(spec.args ?? []),
    ];
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FORCE_COLOR: "0",
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: server.url,
      W: ws,
      ...spec.env,
    };
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        "bash",
        ["-c", `${spec.before ?? ""}\nexec "$0" "$@"`, process.execPath, mossBin, ...args],
        { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    const out = spec.json === false ? null : safeParse(r.stdout);
    const runId =
      (out?.runId as string | undefined) ?? /run (\d{8}-\d{6}-[a-z0-9]+)/.exec(r.stdout)?.[1] ?? "";
    const recordFile = path.join(spec.home, "runs", runId, "record.json");
    let record: Record<string, unknown> = {};
    try {
      record = JSON.parse(readFileSync(recordFile, "utf8"));
    } catch {
      // No record: the assertions on it fail with the output in view.
    }
    return { r, ws, out, record, requests: server.requests.map((q) => q.body) };
  } finally {
    await server.close();
  }
}

function safeParse(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A tool call to run `command` in the workspace, then a final answer. */
export function commandReplies(command: string, final = "done"): FakeReply[] {
  return [
    { body: anthropicMessage([{ type: "tool_use", name: "run_command", input: { command } }]) },
    { body: anthropicMessage([{ type: "text", text: final }]) },
  ];
}
