import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeHome } from "./helpers/homes.ts";
import { commandReplies, hostileRun } from "./helpers/hostile-runs.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

// What a second red team (given only the threat, attacking the real binary) broke in real-project
// runs, each now a test through the binary: a hostile agent, workspace or model against the
// harness's own reads of the scratch copy and the user's workspace.

const table: Array<[string, string]> = [];
afterAll(() => console.table(table.map(([attack, outcome]) => ({ attack, outcome }))));

let home = "";
let secretDir = "";
const SECRET = `ROOTONLY-SECRET-${process.pid}`;
beforeAll(async () => {
  home = await makeHome();
  // A host folder the sandbox does not show, holding a file only its owner may read.
  secretDir = mkdtempSync(path.join(os.tmpdir(), "moss-host-secret-"));
  writeFileSync(path.join(secretDir, "secret.txt"), `${SECRET}\n`);
  chmodSync(path.join(secretDir, "secret.txt"), 0o600);
  mkdirSync(path.join(secretDir, "node_modules"));
});

describeSandboxed("red team 2: real-project runs", () => {
  it("the diff never reads through a folder the agent replaced by a symlink to a host folder", async () => {
    const run = await hostileRun({
      home,
      files: { "d/secret.txt": "placeholder\n", "README.md": "hi\n" },
      check: "true",
      replies: commandReplies(`rm -rf d && ln -s ${secretDir} d && echo linked`),
    });
    const everything = JSON.stringify([run.out, run.record, run.requests]);
    expect(everything).not.toContain(SECRET);
    // The folder became a link: shown as such, never applied (it points outside the workspace).
    expect(run.out?.diff).toMatch(/symlink -> /);
    expect(existsSync(path.join(run.ws, "d", "secret.txt"))).toBe(true);
    table.push(["agent swaps a folder for a link to a root-only host folder", "not read; link refused"]);
  }, 120_000);

  it("a workspace.shareIgnored folder that is a symlink out of the workspace is not mounted", async () => {
    const ws = makeWorkspace({ ".gitignore": "build\n", "a.txt": "x\n" });
    const { symlinkSync } = await import("node:fs");
    const readable = mkdtempSync(path.join(os.tmpdir(), "moss-outside-"));
    writeFileSync(path.join(readable, "key.txt"), "WORLD-READABLE-KEY\n");
    symlinkSync(readable, path.join(ws, "build"));
    const run = await hostileRun({
      home,
      ws,
      check: "true",
      config: { workspace: { shareIgnored: ["build"] } },
      replies: commandReplies("cat build/key.txt; cat build/key.txt > leaked.txt; ls build"),
    });
    expect(JSON.stringify([run.out, run.requests])).not.toContain("WORLD-READABLE-KEY");
    expect(existsSync(path.join(ws, "leaked.txt")) ? "leaked.txt applied" : "no leak").not.toMatch(/KEY/);
    table.push(["shareIgnored entry is a symlink to a folder outside", "not shared"]);
  }, 120_000);

  it("a workspace file name that is not UTF-8 is refused with its name; one the agent makes is never applied", async () => {
    const ws = makeWorkspace({ "ok.txt": "ok\n" });
    writeFileSync(Buffer.from(`${ws}/caf\xe9.txt`, "latin1"), "latin1\n");
    const refused = await hostileRun({ home, ws, check: "true" });
    expect(refused.r.code).toBe(2);
    expect(refused.r.stderr).toMatch(
      /not valid UTF-8.*caf\\xe9\.txt.*Rename them, or add them to \.gitignore/,
    );

    const run = await hostileRun({
      home,
      check: "true",
      replies: commandReplies("printf x > \"$(printf 'bad\\xff')\"; echo made > good.txt"),
    });
    expect(run.r.code, run.r.stderr).toBe(0);
    expect(run.out).toMatchObject({ passed: true, applied: true });
    expect(readdirSync(run.ws).sort()).toEqual(["README.md", "good.txt"]);
    table.push(["non-UTF-8 names: in the workspace / made by the agent", "exit 2 naming it / left out"]);
  }, 120_000);

  it("apply-back never writes into node_modules, even one the project does not ignore", async () => {
    // The two-step attack: one run un-ignores node_modules (a visible .gitignore change), the next
    // writes into it. Here the folder is already not ignored, as after the first step.
    const run = await hostileRun({
      home,
      files: { "node_modules/dep/index.js": "module.exports = 1;\n", "README.md": "hi\n" },
      check: "true",
      replies: commandReplies("echo 'module.exports = 666;' > node_modules/dep/index.js"),
    });
    expect(run.r.code).toBe(3);
    expect(JSON.stringify(run.out?.applyRefused)).toMatch(
      /node_modules\/dep\/index\.js: inside a node_modules folder/,
    );
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(path.join(run.ws, "node_modules/dep/index.js"), "utf8")).toBe(
      "module.exports = 1;\n",
    );
    table.push(["agent writes into a node_modules the project does not ignore", "refused (exit 3)"]);
  }, 120_000);

  it("a 3,000-level folder tree made by the agent is scored and cleaned up, not a crash", async () => {
    const deep =
      "node -e \"const fs=require('fs');for(let i=0;i<3000;i++){fs.mkdirSync('d');process.chdir('d')}fs.writeFileSync('f','deep')\"; echo made";
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), "moss-pid-")), "pid");
    // `before` runs in the shell that then execs moss: $$ is moss's pid, which names its temp folders.
    const run = await hostileRun({
      home,
      check: "true",
      replies: commandReplies(deep),
      before: `echo $$ > ${pidFile}`,
    });
    expect(run.r.stderr).not.toMatch(/ENAMETOOLONG|Maximum call stack/);
    expect(run.out).toMatchObject({ passed: true });
    expect(run.record).toMatchObject({ exitReason: "completed" });
    const { readFileSync } = await import("node:fs");
    const pid = readFileSync(pidFile, "utf8").trim();
    expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith(`moss-scratch-${pid}-`))).toEqual([]);
    expect(existsSync(path.join(run.ws, "d"))).toBe(false);
    table.push(["agent makes a 3,000-level folder tree", "scored, recorded, scratch removed"]);
  }, 180_000);

  it("a newline in a file name cannot forge lines of the diff", async () => {
    const run = await hostileRun({
      home,
      check: "true",
      replies: commandReplies("printf 'x\\n' > \"$(printf 'a\\n+++ innocent.txt\\n@@ forged')\"; echo ok"),
    });
    const diff = String(run.out?.diff);
    expect(diff).toContain("\\u{a}+++ innocent.txt\\u{a}@@ forged");
    expect(diff.split("\n").filter((l) => l.startsWith("+++ innocent.txt"))).toEqual([]);
    table.push(["a file name holding newlines and diff headers", "shown escaped on one line"]);
  }, 120_000);

  it("a judge outage never lets an attempt pass on the check alone: model_error, nothing applied", async () => {
    const { anthropicMessage } = await import("./helpers/fake-model-server.ts");
    const write = (p: string) => ({
      body: anthropicMessage([{ type: "tool_use", name: "write_file", input: { path: p, content: "x\n" } }]),
    });
    const run = await hostileRun({
      home,
      check: "true",
      args: ["--rubric", "only done.txt may change"],
      config: { providers: { anthropic: { apiKeyEnv: "ANTHROPIC_API_KEY", maxRetries: 0 } } },
      // The executor writes two files; every judge request then meets an overloaded service.
      replies: async (body) => {
        if ((body.tools as Array<{ name: string }>).some((t) => t.name === "submit_verdict"))
          return { status: 529 };
        const turns = (body.messages as Array<{ role: string }>).filter((m) => m.role === "assistant").length;
        return turns === 0
          ? write("done.txt")
          : turns === 1
            ? write("backdoor.js")
            : { body: anthropicMessage([{ type: "text", text: "done" }]) };
      },
    });
    expect(run.out).toMatchObject({ passed: false, applied: false, exitReason: "model_error" });
    expect(run.record).toMatchObject({ modelFailure: { role: "judge", kind: "overloaded" } });
    expect(existsSync(path.join(run.ws, "backdoor.js"))).toBe(false);
    table.push(["judge answers 529 to every verdict request", "model_error; nothing applied"]);
  }, 120_000);

  it("a reply that trickles in past the model timeout ends the run as the service's time-out, promptly", async () => {
    const run = await hostileRun({
      home,
      check: "true",
      config: {
        providers: { anthropic: { apiKeyEnv: "ANTHROPIC_API_KEY", maxRetries: 0, timeoutMs: 1000 } },
      },
      replies: [{ trickleMs: 500 }],
    });
    expect(run.out).toMatchObject({ exitReason: "model_error" });
    expect(run.record).toMatchObject({ modelFailure: { role: "executor", kind: "timeout" } });
    table.push(["a 200 whose body trickles in a byte every 500 ms", "time-out after 1 s: model_error"]);
  }, 120_000);

  it("workspace names git will not store are refused with their names, not silently left out", async () => {
    const run = await hostileRun({
      home,
      check: "true",
      files: { "git~1/data.txt": "x\n", "plain.txt": "y\n" },
    });
    expect(run.r.code).toBe(2);
    expect(run.r.stderr).toMatch(
      /names git refuses to store.*git~1\/data\.txt.*Rename them, or add them to \.gitignore/,
    );
    table.push(["a workspace file git~1/data.txt", "exit 2 naming it"]);
  }, 120_000);

  it("a judge whose verdict is invalid is the model's failure, not the agent's", async () => {
    const { anthropicMessage } = await import("./helpers/fake-model-server.ts");
    const run = await hostileRun({
      home,
      check: "true",
      args: ["--rubric", "anything"],
      replies: async (body) => {
        if ((body.tools as Array<{ name: string }>).some((t) => t.name === "submit_verdict"))
          return {
            body: anthropicMessage([
              { type: "tool_use", name: "submit_verdict", input: { score: 7, rationale: "ok" } },
            ]),
          };
        return { body: anthropicMessage([{ type: "text", text: "done" }]) };
      },
    });
    expect(run.out).toMatchObject({ passed: false, exitReason: "model_error" });
    expect(run.record).toMatchObject({ modelFailure: { role: "judge" } });
    table.push(["judge submits a verdict of score 7", "model_error (judge); not passed"]);
  }, 120_000);

  it("a model call still waiting when the wall clock runs out is the model's delay, not the agent's", async () => {
    const { anthropicMessage } = await import("./helpers/fake-model-server.ts");
    const run = await hostileRun({
      home,
      check: "true",
      config: {
        limits: { wallClockMs: 2000 },
        providers: { anthropic: { apiKeyEnv: "ANTHROPIC_API_KEY", maxRetries: 0, timeoutMs: 120_000 } },
      },
      replies: [{ hangMs: 60_000, body: anthropicMessage([{ type: "text", text: "late" }]) }],
    });
    expect(run.out).toMatchObject({ exitReason: "model_error" });
    expect(run.record).toMatchObject({ modelFailure: { role: "executor", kind: "timeout" } });
    table.push(["a call still waiting at the wall clock", "model_error (timeout)"]);
  }, 120_000);

  it("a folder that is a git repository of its own is in the snapshot, by both ignore rules", async () => {
    const { execFileSync } = await import("node:child_process");
    const ws = makeWorkspace({
      ".gitignore": "node_modules\n",
      "sub/code.txt": "vendored\n",
      "sub/node_modules/x/i.js": "installed\n",
    });
    execFileSync("git", ["init", "-q"], { cwd: path.join(ws, "sub") });
    const run = await hostileRun({ home, ws, check: "test -f sub/code.txt && test ! -e sub/node_modules/x" });
    expect(run.out).toMatchObject({ passed: true, scoreBefore: 1 });
    table.push(["a nested git repository in the workspace", "its files in the snapshot"]);
  }, 120_000);

  it("the disk watchdog counts files whose names are not UTF-8", async () => {
    const { treeBytes } = await import("../src/sandbox/resource-watch.ts");
    const dir = mkdtempSync(path.join(os.tmpdir(), "moss-names-"));
    writeFileSync(
      Buffer.concat([Buffer.from(`${dir}/big-`), Buffer.from([0xff, 0xfe])]),
      Buffer.alloc(100_000),
    );
    writeFileSync(path.join(dir, "small.txt"), "12345");
    expect(treeBytes(dir)).toBe(100_005);
  });

  it("a reply with a negative or fractional token count is the service's failure; the record stays readable", async () => {
    const { anthropicMessage } = await import("./helpers/fake-model-server.ts");
    const run = await hostileRun({
      home,
      check: "true",
      replies: [
        {
          body: anthropicMessage([{ type: "text", text: "done" }], {
            input_tokens: -1e8,
            output_tokens: 1.5,
          }),
        },
      ],
    });
    expect(run.out).toMatchObject({ exitReason: "model_error", costUsd: 0 });
    expect(String(run.out?.detail)).toMatch(/not a token count/);
    const { moss } = await import("./helpers/moss-cli.ts");
    const runs = await moss(["--home", home, "runs", "--json"]);
    expect(runs.stderr).not.toMatch(/unreadable/);
    table.push(["model reply with usage.input_tokens -1e8", "model_error; cost 0; record readable"]);
  }, 120_000);
});
