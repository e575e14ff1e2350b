#!/usr/bin/env node
// The packaged-install check (CI, and tests/packaged-install.test.ts): packs moss with `npm pack`,
// installs the tarball globally into a temp prefix with --omit=dev, and, as a non-root user,
// runs what a newcomer runs: --version, init, an evolving `moss run` against a loopback fake of
// the Anthropic API (gate runs, candidate promoted), log --verify, rollback, and the default home.
// Self-contained on purpose: nothing here may come from the tests, which are not in the package.
// Exits non-zero with the failed step's output. Usage: node scripts/packaged-install-check.mjs [--keep]
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const USER = "moss-ci";
const asRoot = process.getuid?.() === 0;

const tmp = mkdtempSync(path.join(os.tmpdir(), "moss-pkgcheck-"));
chmodSync(tmp, 0o755);
const step = (name) => console.log(`packaged-install: ${name}`);

function fail(message) {
  console.error(`packaged-install: FAILED: ${message}`);
  process.exit(1);
}

let env = {};

async function main() {
try {
  step("npm pack");
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: repo, encoding: "utf8" }),
  );
  const tarball = path.join(tmp, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const need of [
    "bin/moss.js",
    "dist/cli/main.js",
    "dist/demo/demo.cassette.json",
    "agent-src/main.ts",
    "agent-src/tsconfig.json",
    "agent-src/test/schema.test.ts",
    "src/contract/index.ts",
    "tsconfig.base.json",
    "evolution-log/README.md",
    "README.md",
    "LICENSE",
  ]) {
    if (!files.includes(need)) fail(`the tarball lacks ${need}`);
  }
  const stray = files.filter((f) => /^(tests|runs|bench|scripts)\/|^evolution-log\/ev-|\.map$/.test(f));
  if (stray.length) fail(`the tarball holds what users do not need: ${stray.slice(0, 5).join(", ")}`);

  step("npm install -g --omit=dev into a temp prefix");
  const prefix = path.join(tmp, "prefix");
  execFileSync("npm", ["install", "-g", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pkgDir = path.join(prefix, "lib", "node_modules", "moss-agent");
  const pkgBefore = listTree(pkgDir);

  const userHome = path.join(tmp, "user");
  mkdirSync(userHome);
  if (asRoot) {
    try {
      execFileSync("id", ["-u", USER], { stdio: "ignore" });
    } catch {
      execFileSync("useradd", ["--no-create-home", "--shell", "/bin/sh", USER]);
    }
    execFileSync("chown", [USER, userHome]);
  }
  env = {
    PATH: `${path.join(prefix, "bin")}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: userHome,
    LANG: "C.UTF-8",
  };
  const server = await startFakeAnthropic();
  const modelEnv = { ANTHROPIC_API_KEY: "sk-fake", ANTHROPIC_BASE_URL: server.url };

  const home = path.join(userHome, "agent-home");
  const ws = path.join(userHome, "ws");
  const version = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")).version;

  step(`moss --version (as ${asRoot ? USER : "this user"})`);
  const v = await moss(["--version"]);
  if (v.code !== 0 || v.stdout.trim() !== version) fail(`moss --version printed ${JSON.stringify(v)}`);

  step("moss init");
  expectOk(await moss(["init", home]), "moss init");
  await runNode(plantWeakness, [home, [[GOOD, WEAK], [GOOD_WRITE, WEAK_WRITE]]]);
  await runNode(writeWorkspace, [ws]);
  const before = (await git(home, ["rev-parse", "main"])).trim();

  step("moss run (evolving, loopback fake model)");
  const run = await moss(
    ["--home", home, "run", TASK, "-w", ws, "--check", "node check.js", "--yes", "--depth", "shallow", "--json"],
    modelEnv,
  );
  expectOk(run, "moss run");
  const out = JSON.parse(run.stdout);
  if (!out.evolution?.accepted || !out.evolution.retry?.passed) fail(`no promoted candidate: ${run.stdout}`);
  const after = (await git(home, ["rev-parse", "main"])).trim();
  if (after === before || after !== out.evolution.accepted.commit) fail("the head did not move to the candidate");
  if (!readFileSync(path.join(ws, "src/greeting.js"), "utf8").includes("Hello, ${name}!"))
    fail("the retry's result was not applied to the workspace");

  step("moss run on a real project: vitest installed in its ignored node_modules");
  const proj = path.join(userHome, "urlkit");
  await runNode(writeRealProject, [proj]);
  // The project's own install: this checkout's node_modules (npm ci put vitest there), copied.
  execFileSync("cp", ["-a", path.join(repo, "node_modules"), path.join(proj, "node_modules")]);
  if (asRoot) execFileSync("chown", ["-R", USER, proj]);
  const runnerBefore = readFileSync(path.join(proj, "node_modules/vitest/package.json"), "utf8");
  const real = await moss(
    ["--home", home, "run", JOIN_TASK, "-w", proj, "--check", "npx vitest run", "--no-evolve", "--json"],
    modelEnv,
  );
  expectOk(real, "moss run on the real project");
  const realOut = JSON.parse(real.stdout);
  if (realOut.scoreBefore !== 0.5 || realOut.score !== 1 || !realOut.applied)
    fail(`expected 2/4 before, 4/4 after and the fix applied: ${real.stdout}`);
  if (readFileSync(path.join(proj, "node_modules/vitest/package.json"), "utf8") !== runnerBefore)
    fail("the project's node_modules changed");
  if (JSON.stringify(realOut.changedFiles) !== JSON.stringify([{ path: "src/join.js", kind: "modified" }]))
    fail(`changed more than the fix: ${JSON.stringify(realOut.changedFiles)}`);

  step("moss log --verify");
  expectOk(await moss(["--home", home, "log", "--verify"]), "moss log --verify");

  step("moss rollback");
  expectOk(await moss(["--home", home, "rollback", before]), "moss rollback");
  expectOk(await moss(["--home", home, "log", "--verify"]), "moss log --verify after rollback");

  step("the default home (no --home, no MOSS_HOME)");
  const runs = await moss(["runs"]);
  expectOk(runs, "moss runs");
  if (!runs.stderr.includes("created your agent home in")) fail(`no first-use notice: ${runs.stderr}`);
  expectOk(await moss(["log", "--verify"]), "moss log --verify in the default home");

  const pkgAfter = listTree(pkgDir);
  if (pkgAfter.join("\n") !== pkgBefore.join("\n")) fail("moss wrote into its own package folder");
  await server.close();
  step("ok");
} finally {
  if (keep) console.log(`packaged-install: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
}

function expectOk(r, what) {
  if (r.code !== 0) fail(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

function listTree(dir) {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** Runs `command args` as the check's non-root user (or as this user when not root). */
function asUser(command, args, extraEnv = {}) {
  const vars = Object.entries({ ...env, ...extraEnv }).map(([k, v]) => `${k}=${v}`);
  return asRoot
    ? { command: "runuser", args: ["-u", USER, "--", "env", "-i", ...vars, command, ...args] }
    : { command: "env", args: ["-i", ...vars, command, ...args] };
}

function exec(command, args, extraEnv) {
  const c = asUser(command, args, extraEnv);
  return new Promise((resolve) => {
    const child = spawn(c.command, c.args, { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const moss = (args, extraEnv) => exec("moss", args, extraEnv);
const git = async (dir, args) => {
  const r = await exec("git", ["-C", dir, ...args]);
  if (r.code !== 0) fail(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};
async function runNode(fn, args) {
  const r = await exec("node", ["--input-type=module", "-e", `(${fn.toString()})(...${JSON.stringify(args)})`]);
  if (r.code !== 0) fail(`${fn.name}: ${r.stderr}`);
}

// ---- the scenario: a CRLF file trips a weakness planted in edit_file; the patch fixes it ----

const TASK = 'Make greet() in src/greeting.js return "Hello, <name>!" instead of "Hi <name>".';
const EDIT_TOOL = "agent-src/tools/edit-file-tool.ts";
const GOOD = [
  '    const crlf = raw.includes("\\r\\n");',
  "    // Match on LF text so the model need not reproduce the file's line endings.",
  '    const text = (bom ? raw.slice(1) : raw).replace(/\\r\\n/g, "\\n");',
  '    const oldText = input.old_string.replace(/\\r\\n/g, "\\n");',
  '    const newText = input.new_string.replace(/\\r\\n/g, "\\n");',
].join("\n");
const WEAK = ["    const text = bom ? raw.slice(1) : raw;", "    const oldText = input.old_string;", "    const newText = input.new_string;"].join("\n");
const GOOD_WRITE = '    await writeFile(file, bom + (crlf ? updated.replace(/\\n/g, "\\r\\n") : updated));';
const WEAK_WRITE = "    await writeFile(file, bom + updated);";

/** Runs as the user, in its own node: turns the pristine edit_file into one that fails on CRLF files, and commits. */
async function plantWeakness(home, pairs) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const file = `${home}/agent-src/tools/edit-file-tool.ts`;
  let text = readFileSync(file, "utf8");
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`edit-file-tool.ts no longer holds: ${from}`);
    text = text.replace(from, () => to);
  }
  writeFileSync(file, text);
  const test = `${home}/agent-src/test/tools.test.ts`;
  const lines = readFileSync(test, "utf8").split("\n");
  const start = lines.findIndex((l) => l.includes('it("keeps CRLF line endings'));
  if (start < 0) throw new Error("tools.test.ts no longer holds the CRLF test");
  const indent = lines[start].match(/^\s*/)[0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}});`);
  lines.splice(start, end - start + 1);
  writeFileSync(test, lines.join("\n"));
  const id = ["-c", "user.name=moss ci", "-c", "user.email=ci@moss.invalid"];
  execFileSync("git", ["-C", home, ...id, "commit", "-qam", "plant a CRLF weakness in edit_file"]);
}

const JOIN_TASK = "Make the joinURL tests pass.";

/** A small library whose tests run with vitest from its own (ignored) node_modules; joinURL is wrong. */
async function writeRealProject(dir) {
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(`${dir}/src`, { recursive: true });
  mkdirSync(`${dir}/test`, { recursive: true });
  writeFileSync(`${dir}/package.json`, '{ "name": "urlkit", "type": "module", "scripts": { "test": "vitest run" } }\n');
  writeFileSync(`${dir}/.gitignore`, "node_modules\n");
  writeFileSync(`${dir}/src/join.js`, "export function joinURL(base, path) {\n  if (!path) return base;\n  return base + path;\n}\n");
  writeFileSync(
    `${dir}/test/join.test.js`,
    [
      'import { expect, it } from "vitest";',
      'import { joinURL } from "../src/join.js";',
      'it("joins with a slash", () => expect(joinURL("a", "b")).toBe("a/b"));',
      'it("keeps one slash", () => expect(joinURL("a/", "/b")).toBe("a/b"));',
      'it("keeps the base alone", () => expect(joinURL("a", "")).toBe("a"));',
      'it("keeps the base without a path", () => expect(joinURL("a")).toBe("a"));',
      "",
    ].join("\n"),
  );
}

async function writeWorkspace(ws) {
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(`${ws}/src`, { recursive: true });
  writeFileSync(`${ws}/package.json`, '{ "name": "greeter", "type": "module" }\n');
  writeFileSync(`${ws}/src/greeting.js`, 'export function greet(name) {\r\n  return "Hi " + name;\r\n}\r\n');
  writeFileSync(
    `${ws}/check.js`,
    'import { greet } from "./src/greeting.js";\nif (greet("moss") !== "Hello, moss!") { console.log("FAIL"); process.exit(1); }\nconsole.log("ok");\n',
  );
}

/**
 * A loopback fake of the Anthropic Messages API that answers from the request itself, so head,
 * candidate and retry runs each get the reply their code deserves: the executor edits
 * greeting.js (which fails on the weak edit_file), the patcher stages submit a diagnosis, a plan,
 * an approval and the patch that restores edit_file.
 */
async function startFakeAnthropic() {
  let n = 0;
  const message = (content) => ({
    id: `msg_${++n}`,
    type: "message",
    role: "assistant",
    model: "fake",
    content,
    stop_reason: content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  });
  const use = (name, input) => message([{ type: "tool_use", id: `toolu_${++n}`, name, input }]);
  const submissions = {
    submit_diagnosis: {
      rootCause: "edit_file matches old_string against raw CRLF text, so LF text from the model never matches.",
      evidence: [{ file: EDIT_TOOL, line: 20, note: "text keeps \\r\\n" }],
      confidence: "high",
    },
    submit_plan: { summary: "Match on LF-normalized text; write back CRLF.", steps: ["normalize", "restore"], test: "tools tests" },
    submit_review: { approved: true, concerns: [] },
    submit_patch: {
      rationale: "edit_file: match on LF-normalized text and keep the file's line endings.",
      edits: [
        { path: EDIT_TOOL, old_string: WEAK, new_string: GOOD },
        { path: EDIT_TOOL, old_string: WEAK_WRITE, new_string: GOOD_WRITE },
      ],
      new_files: [],
    },
  };
  const reply = (body) => {
    const submit = (body.tools ?? []).find((t) => t.name in submissions);
    if (submit) return use(submit.name, submissions[submit.name]);
    const last = body.messages.at(-1);
    const result = Array.isArray(last.content) ? last.content.find((b) => b.type === "tool_result") : undefined;
    const task = JSON.stringify(body.messages[0]?.content ?? "");
    if (!result && task.includes("joinURL"))
      return use("edit_file", {
        path: "src/join.js",
        old_string: "  return base + path;",
        new_string: '  return `${base.replace(/\\/+$/, "")}/${path.replace(/^\\/+/, "")}`;',
      });
    if (!result)
      return use("edit_file", {
        path: "src/greeting.js",
        old_string: 'export function greet(name) {\n  return "Hi " + name;',
        new_string: "export function greet(name) {\n  return `Hello, ${name}!`;",
      });
    return message([{ type: "text", text: result.is_error ? "The edit did not apply." : "Done." }]);
  };
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply(JSON.parse(raw))));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

await main();
