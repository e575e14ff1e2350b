import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGate } from "../src/evolve/check/gate.ts";
import { createWorktree } from "../src/git/worktree.ts";
import type { SandboxLimits } from "../src/sandbox/limits.ts";
import { anthropicMessage, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { type CliResult, moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

// Hostile check scripts and agent commands against the real sandbox, each through the real
// `moss run` binary. A check runs what the agent wrote, so it is agent code: whatever it can
// read can be copied into the workspace and applied back by a passing run.
const table: Array<[string, string]> = [];
afterAll(() => {
  console.log(`\nsandbox threat cases (${table.length}):`);
  console.table(table.map(([threat, outcome]) => ({ threat, outcome })));
});

type Reply = Parameters<typeof anthropicMessage>[0];
const done: Reply = [{ type: "text", text: "done" }];
const runCommand = (command: string): Reply => [
  { type: "tool_use", name: "run_command", input: { command } },
];

/** `moss run` on `ws` with `check`, the model replying `replies` then "done", config `config`. */
async function mossRun(
  ws: string,
  check: string,
  opts: { replies?: Reply[]; config?: object; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ r: CliResult; json: Record<string, unknown> }> {
  const server = await startFakeModelServer(
    [...(opts.replies ?? []), done].map((content) => ({ body: anthropicMessage(content) })),
  );
  const home = await makeHome();
  writeFileSync(path.join(home, "moss.config.json"), JSON.stringify(opts.config ?? {}));
  try {
    const r = await moss(
      [
        "--home",
        home,
        "run",
        "the task",
        "-w",
        ws,
        "--check",
        check,
        "--no-evolve",
        "--json",
        ...(opts.args ?? []),
      ],
      { ANTHROPIC_API_KEY: "sk-ant-threat-secret", ANTHROPIC_BASE_URL: server.url, ...opts.env },
    );
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      throw new Error(`moss run printed no JSON (exit ${r.code}): ${r.stderr}`);
    }
    return { r, json };
  } finally {
    await server.close();
    rmSync(path.dirname(home), { recursive: true, force: true });
  }
}

/** The check's output: the attempt's, else the baseline's (a check killed there ends the run). */
function checkOutput(json: Record<string, unknown>): string {
  const baseline = json.baseline as { outputTail?: string } | undefined;
  return `${String(json.checkOutputTail ?? "")}\n${baseline?.outputTail ?? ""}`;
}

/** Names, sizes and contents of every file under `dir`, to see that nothing changed. */
function treeHash(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      h.update(`${path.relative(dir, p)}:${st.mode}:`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

describeSandboxed("a hostile check script", () => {
  const home = os.homedir();
  const localBin = path.join(home, ".local", "bin");
  const secretDir = path.join(home, ".local", "share", "moss-threat-test");
  const made: string[] = [];
  let loot = "";
  let run: { r: CliResult; json: Record<string, unknown> };

  beforeAll(async () => {
    // A user whose PATH holds ~/.local/bin, with a token in ~/.local/share (issue 7 class 5).
    if (!existsSync(localBin)) {
      mkdirSync(localBin, { recursive: true });
      made.push(localBin);
    }
    writeFileSync(path.join(localBin, "moss-threat-tool"), "#!/bin/sh\necho tool-ran\n", { mode: 0o755 });
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(path.join(secretDir, "token"), "ghp_LOCALSHARETOKEN");
    made.push(secretDir, path.join(localBin, "moss-threat-tool"));
    const probe = [
      'p() { echo "== $1"; shift; "$@" 2>&1 | head -c 2000; echo; }',
      `p tool moss-threat-tool`,
      `p localshare cat ${secretDir}/token`,
      `p localshare-ls ls ${path.join(home, ".local")}`,
      "p shadow cat /etc/shadow",
      "p etc ls -a /etc",
      "p npmrc cat /etc/npmrc /etc/pip.conf",
      "p passwd cat /etc/passwd",
      "p home ls -a $HOME",
      `p realhome ls -a ${home}`,
      "p deps-write sh -c 'echo pwned > node_modules/dep/index.js; touch node_modules/new-file'",
      "p deps-read node -e 'console.log(require(\"dep\").hello())'",
      "p python python3 -c 'import sys; print(\"python\", sys.version_info[0])'",
      `p pyenv-versions ls ${path.join(home, ".pyenv", "versions")}`,
      `p cargo-env cat ${path.join(home, ".cargo", "env")}`,
    ].join("\n");
    const ws = makeWorkspace({
      "check.sh": `{\n${probe}\n} > loot.txt\nexit 0\n`,
      ".gitignore": "node_modules\n",
      "node_modules/dep/index.js": "exports.hello = () => 'dep-loaded';\n",
      "node_modules/dep/package.json": '{"name":"dep","main":"index.js"}',
    });
    const before = treeHash(path.join(ws, "node_modules"));
    run = await mossRun(ws, "bash check.sh", { env: { PATH: `${localBin}:${process.env.PATH}` } });
    expect(run.json).toMatchObject({ passed: true, applied: true });
    loot = readFileSync(path.join(ws, "loot.txt"), "utf8");
    expect(treeHash(path.join(ws, "node_modules"))).toBe(before);
  }, 120_000);

  afterAll(() => {
    for (const p of made.reverse()) rmSync(p, { recursive: true, force: true });
  });

  const section = (name: string) => loot.split(`== ${name}\n`)[1]?.split("\n== ")[0] ?? "";

  it("runs a tool from ~/.local/bin but cannot read ~/.local/share next to it", () => {
    expect(section("tool")).toContain("tool-ran");
    expect(section("localshare")).toMatch(/No such file or directory/);
    expect(loot).not.toContain("ghp_LOCALSHARETOKEN");
    expect(section("localshare-ls")).not.toContain("share");
    table.push(["check reads a token in ~/.local/share (~/.local/bin on PATH)", "no such file; not applied"]);
  });

  it("cannot read /etc/shadow", () => {
    expect(section("shadow")).toMatch(/No such file or directory/);
    table.push(["check reads /etc/shadow", "no such file"]);
  });

  it("sees only the listed /etc: no shadow, sudoers, ssh, package-manager config", () => {
    const etc = section("etc").split("\n").filter(Boolean);
    expect(etc).toEqual(expect.arrayContaining(["passwd", "group", "hosts", "ld.so.cache", "ssl"]));
    for (const name of ["shadow", "gshadow", "sudoers", "ssh", "npmrc", "pip.conf", "crontab", "pam.d"])
      expect(etc).not.toContain(name);
    table.push(["check lists /etc", `${etc.length} entries, none of shadow/sudoers/ssh/npmrc`]);
  });

  it("cannot read registry tokens in /etc/npmrc or /etc/pip.conf", () => {
    expect(section("npmrc")).toMatch(/npmrc: No such file or directory/);
    expect(section("npmrc")).toMatch(/pip.conf: No such file or directory/);
    table.push(["check reads /etc/npmrc, /etc/pip.conf", "no such file"]);
  });

  it("sees a generated passwd with no user accounts of the host", () => {
    expect(section("passwd")).toMatch(/^root:x:0:0:/m);
    expect(section("passwd")).toMatch(/moss sandbox/);
    expect(section("passwd").split("\n").filter(Boolean).length).toBeLessThanOrEqual(3);
    table.push(["check reads /etc/passwd", "generated: root, sandbox, nobody"]);
  });

  it("has an empty private HOME and no view of the user's home", () => {
    expect(
      section("home")
        .split("\n")
        .filter((l) => l && l !== "." && l !== ".."),
    ).toEqual([]);
    expect(section("realhome")).not.toMatch(/\.bashrc|\.ssh|\.gitconfig/);
    table.push(["check lists $HOME and the real home", "empty; only mounted toolchain folders"]);
  });

  it("reads the workspace's installed dependency but cannot write into it", () => {
    expect(section("deps-read")).toContain("dep-loaded");
    expect(section("deps-write")).toMatch(/Read-only file system/);
    table.push([
      "check writes into the workspace's node_modules",
      "read-only; user's node_modules unchanged",
    ]);
  });

  it("gets exact toolchain folders: pyenv's selected version only, not ~/.cargo itself", () => {
    if (!existsSync(path.join(home, ".pyenv", "shims"))) return;
    expect(section("python")).toMatch(/python 3/);
    const selected = readFileSync(path.join(home, ".pyenv", "version"), "utf8")
      .trim()
      .split(/\s+/);
    expect(section("pyenv-versions").split("\n").filter(Boolean).sort()).toEqual(selected.sort());
    if (existsSync(path.join(home, ".cargo", "env")))
      expect(section("cargo-env")).toMatch(/No such file or directory/);
    table.push(["check runs python3 through pyenv shims", `runs; sees versions ${selected.join(",")} only`]);
  });
});

describeSandboxed("sandbox limits on a check", () => {
  it("kills a check that fills /tmp: its tmpfs counts against memory, and says so", async () => {
    const ws = makeWorkspace({});
    const { json } = await mossRun(
      ws,
      "head -c 400M /dev/zero > /tmp/fill; node -e 'const b = Buffer.alloc(120 * 1024 * 1024, 1); setTimeout(() => console.log(b.length), 5000)'; echo survived",
      { config: { sandbox: { memoryMb: 256, tmpMb: 200 } } },
    );
    const out = checkOutput(json);
    expect(out).toMatch(/No space left on device/);
    expect(out).toMatch(/over the 256 MB limit \(\d+ MB of it in \/tmp and \/dev\/shm\) and was killed/);
    expect(out).not.toContain("survived");
    expect(json.passed).toBe(false);
    table.push([
      "check writes 400 MB to /tmp (tmpMb 200, memoryMb 256)",
      "tmpfs full at 200 MB; killed as memory",
    ]);
  }, 120_000);

  it("caps a huge file in the scratch copy and never applies it", async () => {
    const ws = makeWorkspace({});
    const { json } = await mossRun(ws, "head -c 3G /dev/zero > big.bin; ls -l big.bin; exit 0", {
      config: { sandbox: { diskMb: 64 } },
    });
    const out = checkOutput(json);
    expect(out).toMatch(/ 67108864 .*big\.bin/);
    expect(
      existsSync(path.join(ws, "big.bin")) ? statSync(path.join(ws, "big.bin")).size : 0,
    ).toBeLessThanOrEqual(64 * 1024 * 1024);
    table.push(["check writes a 3 GB file (diskMb 64)", "RLIMIT_FSIZE stops it at 64 MB"]);
  }, 120_000);

  it("kills a check whose files add up past the disk cap", async () => {
    const ws = makeWorkspace({});
    const { json } = await mossRun(
      ws,
      "for i in 1 2 3 4 5 6; do head -c 60M /dev/zero > f$i.bin; sleep 0.5; done; sleep 3; echo survived",
      { config: { sandbox: { diskMb: 128 } } },
    );
    const out = checkOutput(json);
    expect(out).toMatch(/wrote more than its disk cap of 128 MB .* and was killed/);
    expect(out).not.toContain("survived");
    expect(readdirSync(ws).filter((f) => f.endsWith(".bin"))).toEqual([]);
    table.push([
      "check writes 6 x 60 MB (diskMb 128)",
      "killed by the disk watchdog, reported; nothing applied",
    ]);
  }, 120_000);

  it("kills a check that holds disk in deleted files it keeps open", async () => {
    const ws = makeWorkspace({});
    const { json } = await mossRun(
      ws,
      'for i in 3 4 5 6; do eval "exec $i>h$i.bin"; rm h$i.bin; head -c 60M /dev/zero >&$i; sleep 0.5; done; sleep 3; echo survived',
      { config: { sandbox: { diskMb: 128 } } },
    );
    const out = checkOutput(json);
    expect(out).toMatch(/disk cap of 128 MB .*\(\d+ MB of it in deleted files kept open\) and was killed/);
    expect(out).not.toContain("survived");
    table.push(["check holds 4 x 60 MB in unlinked open files (diskMb 128)", "killed by the disk watchdog"]);
  }, 120_000);

  it("kills a check that holds memory in memfds no process maps", async () => {
    const ws = makeWorkspace({});
    const hog =
      "import os, time\nfds = []\nfor k in range(6):\n    m = os.memfd_create('x'); fds.append(m)\n    for i in range(10): os.write(m, b'\\1' * (8 << 20))\n    time.sleep(0.3)\ntime.sleep(3)\nprint('survived')\n";
    writeFileSync(path.join(ws, "hog.py"), hog);
    const { json } = await mossRun(ws, "python3 hog.py", { config: { sandbox: { memoryMb: 256 } } });
    const out = checkOutput(json);
    expect(out).toMatch(/over the 256 MB limit .*MB in memory files \(memfd\)/);
    expect(out).not.toContain("survived");
    table.push(["check writes 480 MB into memfds (memoryMb 256)", "killed as memory, memfds named"]);
  }, 120_000);

  it("gives /dev/shm a small tmpfs of its own", async () => {
    const ws = makeWorkspace({});
    const { json } = await mossRun(
      ws,
      "head -c 200M /dev/zero > /dev/shm/fill; ls -l /dev/shm/fill; df -k /dev/shm | tail -1; exit 0",
    );
    const out = checkOutput(json);
    expect(out).toMatch(/No space left on device/);
    expect(out).toMatch(/ 67108864 .*\/dev\/shm\/fill/);
    table.push(["check writes 200 MB to /dev/shm", "stops at its 64 MB tmpfs"]);
  }, 120_000);
});

/** A JS project whose tests need a package installed in its ignored node_modules (issue 8). */
function depsProject(): string {
  const ws = makeWorkspace({
    "package.json": JSON.stringify({ name: "proj", type: "commonjs", scripts: { test: "node --test" } }),
    ".gitignore": "node_modules/\n",
    "src/math.js":
      "const pad = require('padlib');\nexports.add = (a, b) => a - b;\nexports.label = (n) => pad(String(n), 3);\n",
    "test/math.test.js": [
      "const { test } = require('node:test');",
      "const assert = require('node:assert');",
      "const { add, label } = require('../src/math.js');",
      "const nested = require('../packages/util/node_modules/inner');",
      "test('adds', () => assert.equal(add(2, 3), 5));",
      "test('labels', () => assert.equal(label(7), '007'));",
      "test('labels wide', () => assert.equal(label(123), '123'));",
      "test('nested dependency', () => assert.equal(nested(), 'inner'));",
      "",
    ].join("\n"),
    "node_modules/padlib/package.json": '{"name":"padlib","main":"index.js"}',
    "node_modules/padlib/index.js": "module.exports = (s, n) => s.padStart(n, '0');\n",
    "packages/util/index.js": "module.exports = 1;\n",
    "packages/util/node_modules/inner/package.json": '{"name":"inner","main":"index.js"}',
    "packages/util/node_modules/inner/index.js": "module.exports = () => 'inner';\n",
  });
  return ws;
}

describeSandboxed("installed dependencies in the scratch copy", () => {
  it("are there for the check: an unchanged run scores the true fraction (3 of 4)", async () => {
    const ws = depsProject();
    const { json } = await mossRun(ws, "node --test");
    expect(json.score).toBe(0.75);
    expect(String(json.checkOutputTail)).not.toMatch(/Cannot find module/);
    table.push(["unchanged run of a project whose tests need node_modules (nested too)", "score 0.75 = 3/4"]);
  }, 120_000);

  it("cannot be written by the agent; a right fix passes, is applied, and no dependency is copied back", async () => {
    const ws = depsProject();
    const before = treeHash(path.join(ws, "node_modules"));
    const nestedBefore = treeHash(path.join(ws, "packages", "util", "node_modules"));
    let output = "";
    const { json } = await mossRun(ws, "node --test", {
      replies: [
        runCommand(
          "echo 'module.exports = () => \"x\"' > node_modules/padlib/index.js; touch packages/util/node_modules/inner/x; rm -rf node_modules/padlib; echo rc=$?",
        ),
        [
          {
            type: "tool_use",
            name: "edit_file",
            input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
          },
        ],
      ],
    });
    output = JSON.stringify(json);
    expect(json).toMatchObject({ passed: true, applied: true, score: 1 });
    expect(treeHash(path.join(ws, "node_modules"))).toBe(before);
    expect(treeHash(path.join(ws, "packages", "util", "node_modules"))).toBe(nestedBefore);
    expect(readFileSync(path.join(ws, "src/math.js"), "utf8")).toContain("a + b");
    expect((json.changedFiles as Array<{ path: string }>).map((c) => c.path)).toEqual(["src/math.js"]);
    expect(output).not.toContain('node_modules/padlib/index.js"');
    table.push([
      "agent writes and deletes in node_modules, then fixes the bug",
      "read-only; fix applied alone",
    ]);
  }, 120_000);

  it("without a sandbox are linked, never applied back as links", async () => {
    const ws = depsProject();
    const { r, json } = await mossRun(ws, "node --test", {
      args: ["--no-sandbox"],
      replies: [
        [
          {
            type: "tool_use",
            name: "edit_file",
            input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
          },
        ],
      ],
    });
    expect(r.stderr).toMatch(/linked into its copy of the workspace, not mounted read-only/);
    expect(json).toMatchObject({ passed: true, applied: true, score: 1 });
    expect(lstatSync(path.join(ws, "node_modules")).isDirectory()).toBe(true);
    expect((json.changedFiles as Array<{ path: string }>).map((c) => c.path)).toEqual(["src/math.js"]);
    table.push(["--no-sandbox run of the same project", "deps linked (warned); only the fix applied"]);
  }, 120_000);

  it("include a Python .venv: its test runner runs in the sandbox with the right interpreter", async () => {
    // Needs python3 with venv on this machine (the CI image has it); nothing to prove without.
    let python = "";
    try {
      python = execFileSync("python3", ["-c", "import sys, venv; print(sys.version_info[1])"])
        .toString()
        .trim();
    } catch {
      return;
    }
    const ws = makeWorkspace({
      ".gitignore": ".venv/\n",
      "calc.py": "def add(a, b):\n    return a - b\n\ndef neg(a):\n    return -a\n",
      "tests/test_calc.py":
        "from calc import add, neg\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_neg():\n    assert neg(2) == -2\n\ndef test_zero():\n    assert add(0, 0) == 0\n",
    });
    execFileSync("python3", ["-m", "venv", "--without-pip", path.join(ws, ".venv")]);
    // A tiny pytest-like runner installed only in the ignored .venv.
    writeFileSync(
      path.join(ws, ".venv", "lib", `python3.${python}`, "site-packages", "minitest.py"),
      [
        "import glob, importlib.util, sys, time",
        "sys.path.insert(0, '.')",
        "passed = failed = 0",
        "t0 = time.time()",
        "for f in sorted(glob.glob('tests/test_*.py')):",
        "    spec = importlib.util.spec_from_file_location('t', f); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
        "    for name in sorted(n for n in dir(m) if n.startswith('test_')):",
        "        try:",
        "            getattr(m, name)(); passed += 1",
        "        except AssertionError:",
        "            failed += 1; print('FAILED', name)",
        "print(f'===== {failed} failed, {passed} passed in {time.time() - t0:.2f}s =====')",
        "sys.exit(1 if failed else 0)",
        "",
      ].join("\n"),
    );
    const { json } = await mossRun(ws, ".venv/bin/python -m minitest", {
      replies: [runCommand("touch .venv/pwned; echo hacked >> .venv/pyvenv.cfg")],
    });
    expect(json.score).toBe(0.667);
    expect(existsSync(path.join(ws, ".venv", "pwned"))).toBe(false);
    expect(readFileSync(path.join(ws, ".venv", "pyvenv.cfg"), "utf8")).not.toContain("hacked");
    table.push([
      "unchanged run of a Python project whose runner lives in .venv",
      "score 0.667 = 2/3; .venv read-only",
    ]);
  }, 120_000);
});

describeSandboxed("a hostile candidate's test in the gate", () => {
  /** The gate's verdict on a worktree of a fresh home with `name` added to its agent tests. */
  async function gateWith(name: string, body: string, limits: SandboxLimits) {
    const home = await makeHome();
    const wt = await createWorktree(
      home,
      execFileSync("git", ["rev-parse", "HEAD"], { cwd: home }).toString().trim(),
    );
    try {
      writeFileSync(path.join(wt.dir, "agent-src", "test", name), `import { it } from "vitest";\n${body}\n`);
      // The gate runs the staged tree, exactly what would be committed.
      execFileSync("git", ["add", "-A"], { cwd: wt.dir });
      return await runGate(wt.dir, 120_000, limits);
    } finally {
      await wt.remove();
      rmSync(path.dirname(home), { recursive: true, force: true });
    }
  }

  it("is killed when it fills /tmp: the tmpfs counts against the gate's memory", async () => {
    const gate = await gateWith(
      "fill.test.ts",
      'import { writeFileSync } from "node:fs";\nit("fills", async () => { const mb = Buffer.alloc(1024 * 1024, 1); for (let i = 0; i < 600; i++) { try { writeFileSync(`/tmp/f${i}`, mb); } catch {} } await new Promise((r) => setTimeout(r, 8000)); });',
      { maxProcs: 256, memoryMb: 600, tmpMb: 500 },
    );
    expect(gate.passed).toBe(false);
    expect(gate.summary).toMatch(
      /sandbox: the tests used \d+ MB of memory, over the 600 MB limit \(\d+ MB of it in \/tmp and \/dev\/shm\)/,
    );
    table.push([
      "gate test writes 600 MB to /tmp (tmpMb 500, memoryMb 600)",
      "gate killed, reported with the /tmp share",
    ]);
  }, 180_000);

  it("cannot write a file past the disk cap in the gate's only writable folder", async () => {
    const gate = await gateWith(
      "big.test.ts",
      'import { openSync, writeSync } from "node:fs";\nimport path from "node:path";\nit("writes", () => { const out = process.argv.find((a) => a.startsWith("--outputFile="))!.slice(13); const fd = openSync(path.join(path.dirname(out), "big"), "w"); const mb = Buffer.alloc(1024 * 1024, 1); for (let i = 0; i < 300; i++) writeSync(fd, mb); });',
      { maxProcs: 256, memoryMb: 2048, diskMb: 64 },
    );
    expect(gate.passed).toBe(false);
    table.push([
      "gate test writes 300 MB next to the vitest report (diskMb 64)",
      `gate fails: ${gate.summary.slice(0, 60)}`,
    ]);
  }, 180_000);
});
