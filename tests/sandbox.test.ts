import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runAgentProcess } from "../src/agent-host/agent-process.ts";
import type { AgentLimits } from "../src/contract/index.ts";
import { createScriptedProvider, turn } from "../src/models/scripted-provider.ts";
import { sandboxAvailable } from "../src/sandbox/sandbox.ts";
import { anthropicMessage, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

// CI installs bubblewrap (.ci/run): these tests run the real sandbox, never a mock of it.
const LIMITS = { maxProcs: 128, memoryMb: 1024 };
const limits: AgentLimits = {
  maxTurns: 5,
  wallClockMs: 30_000,
  tokenBudget: 1e6,
  commandTimeoutMs: 15_000,
  maxOutputTokens: 256,
};

/** Runs the real agent in the sandbox and has it execute `command` through run_command. */
async function agentRuns(command: string, commandTimeoutMs = 15_000) {
  const workspace = mkdtempSync(path.join(os.tmpdir(), "moss-sb-"));
  const provider = createScriptedProvider([
    turn([{ type: "tool_use", id: "c1", name: "run_command", input: { command } }]),
    turn([{ type: "text", text: "done" }]),
  ]);
  let output = "";
  const result = await runAgentProcess({
    agentDir: repoRoot,
    workspace,
    task: "t",
    limits: { ...limits, commandTimeoutMs },
    provider,
    sandbox: LIMITS,
    onEvent: (e) => {
      if (e.type === "tool_result") output = e.content;
    },
  });
  return { result, output, workspace };
}

/** A hostile agent: agent-src/main.ts replaced by `code`, run in the sandbox. */
async function hostileAgent(code: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "moss-hostile-"));
  mkdirSync(path.join(dir, "agent-src"));
  writeFileSync(path.join(dir, "package.json"), '{"type":"module"}');
  writeFileSync(path.join(dir, "agent-src", "main.ts"), code);
  const ws = mkdtempSync(path.join(os.tmpdir(), "moss-sb-"));
  const idle = createScriptedProvider([]);
  const result = await runAgentProcess({
    agentDir: dir,
    workspace: ws,
    task: "t",
    limits,
    provider: idle,
    sandbox: LIMITS,
  });
  return { result, ws };
}

describeSandboxed("the bubblewrap sandbox", () => {
  it("is available here", () => {
    expect(sandboxAvailable()).toEqual({ ok: true, reason: "bubblewrap" });
  });

  it("lets the agent work in its workspace", async () => {
    const { result, output, workspace } = await agentRuns("echo made > made.txt && cat made.txt");
    expect(result.exitReason).toBe("completed");
    expect(output).toContain("made");
    expect(readFileSync(path.join(workspace, "made.txt"), "utf8")).toBe("made\n");
  });

  it("has no network, not even loopback to the harness", async () => {
    const { output } = await agentRuns(
      "node -e \"require('net').connect(80, '127.0.0.1').on('error', e => { console.log('NET', e.code); process.exit(3) })\"",
    );
    expect(output).toMatch(/NET (ECONNREFUSED|ENETUNREACH|EACCES)/);
  });

  it("cannot write outside its workspace: not the agent home, not ~/.bashrc, not /etc", async () => {
    const { output } = await agentRuns(
      `touch ${repoRoot}/agent-src/pwned 2>&1; echo x >> ~/.bashrc; ls -la ${os.homedir()}/.bashrc 2>&1; touch /etc/pwned 2>&1; echo done`,
    );
    expect(output).toMatch(/agent-src\/pwned': Read-only file system/);
    expect(output).toMatch(/\/etc\/pwned': (Read-only file system|Permission denied)/);
    expect(output).toMatch(/cannot access .*\.bashrc/);
    expect(() => readFileSync(path.join(repoRoot, "agent-src", "pwned"))).toThrow();
  });

  it("hides the user's home secrets", async () => {
    const secretDir = path.join(os.homedir(), ".moss-test-secret");
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(path.join(secretDir, "credentials"), "aws_secret_access_key=AKIASECRET");
    try {
      const { output } = await agentRuns(
        `cat ${secretDir}/credentials 2>&1; ls ${os.homedir()}/.ssh 2>&1; echo end`,
      );
      expect(output).not.toContain("AKIASECRET");
      expect(output).toMatch(/No such file or directory/);
    } finally {
      rmSync(secretDir, { recursive: true, force: true });
    }
  });

  it("gives agent code no key: not in its env, not via /proc of its parent, not in config", async () => {
    process.env.ANTHROPIC_API_KEY = "sk-ant-sandbox-secret";
    try {
      const { ws } = await hostileAgent(`
        import { readFileSync, writeFileSync, readdirSync } from "node:fs";
        const found = [JSON.stringify(process.env)];
        for (const pid of readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
          try { found.push(readFileSync("/proc/" + pid + "/environ", "utf8")); } catch (e) { found.push("denied " + pid); }
        }
        try { found.push(readFileSync("/proc/" + process.ppid + "/environ", "utf8")); } catch (e) { found.push("ppid denied"); }
        for (const f of ["${repoRoot}/moss.config.json", "${os.homedir()}/.config/moss/config.json"]) {
          try { found.push(readFileSync(f, "utf8")); } catch { found.push("no " + f); }
        }
        writeFileSync("loot.txt", found.join("\\n"));
        process.exit(0);
      `);
      const loot = readFileSync(path.join(ws, "loot.txt"), "utf8");
      expect(loot).not.toContain("sk-ant-sandbox-secret");
      expect(loot).toContain("MOSS_AGENT");
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  });

  it("stops a fork bomb", async () => {
    const { result, output } = await agentRuns(
      "bomb() { bomb | bomb & }; bomb; sleep 1; echo survived",
      3000,
    );
    // Either the watchdog kills the whole sandbox, or the process limit starves the bomb.
    expect(["completed", "sandbox_limit"]).toContain(result.exitReason);
    if (result.exitReason === "completed")
      expect(output).toMatch(/fork|Resource temporarily unavailable|timed out/i);
  });

  it("kills an agent that allocates 2 GB", async () => {
    const { result } = await hostileAgent(`
      process.stdout.write(JSON.stringify({ type: "ready" }) + "\\n");
      const hog = [];
      for (let i = 0; i < 16; i++) { hog.push(Buffer.alloc(128 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 20)); }
      setInterval(() => {}, 1000);
    `);
    expect(result).toMatchObject({
      exitReason: "sandbox_limit",
      detail: expect.stringMatching(/over the 1024 MB limit/),
    });
  });
});

describeSandboxed("the check command, which runs what the agent wrote", () => {
  it("gets no key and no network, and its output cannot smuggle a key into the workspace", async () => {
    const server = await startFakeModelServer([
      {
        body: anthropicMessage([
          {
            type: "tool_use",
            name: "write_file",
            input: {
              path: "check.sh",
              content:
                "env > envdump.txt\n(echo > /dev/tcp/127.0.0.1/80) 2>/dev/null && echo NET-OPEN >> envdump.txt\nexit 0\n",
            },
          },
        ]),
      },
      { body: anthropicMessage([{ type: "text", text: "done" }]) },
    ]);
    try {
      const ws = makeWorkspace({ "check.sh": "exit 1\n" });
      const r = await moss(
        ["run", "make the check pass", "-w", ws, "--check", "bash check.sh", "--no-evolve", "--json"],
        {
          ANTHROPIC_API_KEY: "sk-ant-check-secret",
          ANTHROPIC_BASE_URL: server.url,
        },
      );
      expect(JSON.parse(r.stdout)).toMatchObject({ passed: true, applied: true });
      const dump = readFileSync(path.join(ws, "envdump.txt"), "utf8");
      expect(dump).toContain("MOSS_AGENT=1");
      expect(dump).not.toContain("sk-ant-check-secret");
      expect(dump).not.toContain("NET-OPEN");
    } finally {
      await server.close();
    }
  });
});

describe("without bubblewrap", () => {
  /** A PATH that has every program of this machine except bwrap. */
  function pathWithoutBwrap(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "moss-nobwrap-"));
    for (const bin of (process.env.PATH ?? "").split(":").reverse()) {
      let names: string[] = [];
      try {
        names = readdirSync(bin);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name === "bwrap") continue;
        rmSync(path.join(dir, name), { force: true });
        symlinkSync(path.join(bin, name), path.join(dir, name));
      }
    }
    return dir;
  }

  it("refuses to run agent code, unless --no-sandbox, which it then reports on the run and in its record", async () => {
    const PATH = pathWithoutBwrap();
    const ws = makeWorkspace(mathProject);
    const refused = await moss(["run", "fix add", "-w", ws, "--check", "node --test", "--no-evolve"], {
      PATH,
      ANTHROPIC_API_KEY: "sk-test",
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /no sandbox can start here: .*install bubblewrap.*unless you pass --no-sandbox/,
    );

    const server = await startFakeModelServer([
      {
        body: anthropicMessage([
          {
            type: "tool_use",
            name: "edit_file",
            input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
          },
        ]),
      },
      { body: anthropicMessage([{ type: "text", text: "fixed" }]) },
    ]);
    try {
      const r = await moss(
        ["run", "fix add", "-w", ws, "--check", "node --test", "--no-evolve", "--no-sandbox", "--json"],
        {
          PATH,
          ANTHROPIC_API_KEY: "sk-test",
          ANTHROPIC_BASE_URL: server.url,
        },
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/WARNING: running agent code WITHOUT a sandbox/);
      expect(JSON.parse(r.stdout)).toMatchObject({ passed: true, sandbox: "none" });
    } finally {
      await server.close();
    }
  });
});

describe("what a sandbox mounts", () => {
  /** A fake home with the usual toolchain layouts, and secrets beside them. */
  function fakeHome(): string {
    const home = mkdtempSync(path.join(os.tmpdir(), "moss-fakehome-"));
    const file = (rel: string, text = "x") => {
      mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
      writeFileSync(path.join(home, rel), text);
    };
    file(".local/bin/tool");
    file(".local/share/keyrings/login.keyring");
    file(".local/share/app/token");
    file(".local/lib/node_modules/cli/package.json", "{}");
    file(".local/lib/node_modules/cli/bin/cli.js");
    symlinkSync(path.join(home, ".local/lib/node_modules/cli/bin/cli.js"), path.join(home, ".local/bin/cli"));
    file(".nvm/versions/node/v20.1.0/bin/node");
    file(".nvm/versions/node/v20.1.0/lib/node_modules/npm/package.json", "{}");
    file(".nvm/versions/node/v20.1.0/etc/npmrc", "//registry/:_authToken=secret");
    file(".nvm/alias/default", "20");
    for (const v of ["3.11.7", "3.12.1"]) file(`.pyenv/versions/${v}/bin/python3`);
    file(".pyenv/shims/python3");
    file(".pyenv/libexec/pyenv");
    file(".pyenv/version", "3.11.7\n");
    file(".cargo/bin/rustup");
    file(".cargo/credentials.toml", "token = 'secret'");
    file(".rustup/toolchains/stable/bin/rustc");
    file(".rustup/settings.toml");
    file(".config/bin/evil");
    return home;
  }

  it("mounts each toolchain exactly, never a whole folder in HOME nor a credential store", async () => {
    const { toolchainMounts } = await import("../src/sandbox/mounts.ts");
    const home = fakeHome();
    const ws = mkdtempSync(path.join(os.tmpdir(), "moss-ws-"));
    const PATH = [".local/bin", ".nvm/versions/node/v20.1.0/bin", ".pyenv/shims", ".cargo/bin", ".config/bin"]
      .map((p) => path.join(home, p))
      .concat("/usr/local/bin", "/usr/bin")
      .join(":");
    try {
      const mounts = toolchainMounts(PATH, ws, home).map((p) => path.relative(home, p));
      expect(mounts).toEqual(
        expect.arrayContaining([
          ".local/bin",
          ".local/lib/node_modules/cli",
          ".nvm/versions/node/v20.1.0/bin",
          ".nvm/versions/node/v20.1.0/lib",
          ".pyenv/shims",
          ".pyenv/libexec",
          ".pyenv/versions/3.11.7",
          ".cargo/bin",
          ".rustup/toolchains",
        ]),
      );
      for (const never of [
        ".local",
        ".local/share",
        ".nvm",
        ".pyenv",
        ".pyenv/versions",
        ".cargo",
        ".config/bin",
        "",
      ])
        expect(mounts).not.toContain(never);
      expect(
        mounts.filter((m) => m.includes("3.12.1") || m.includes("credentials") || m.startsWith("..")),
      ).toEqual([]);
      // A workspace that selects another Python gets that version instead.
      writeFileSync(path.join(ws, ".python-version"), "3.12.1\n");
      const other = toolchainMounts(PATH, ws, home).map((p) => path.relative(home, p));
      expect(other).toContain(".pyenv/versions/3.12.1");
      expect(other).not.toContain(".pyenv/versions/3.11.7");
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it("shares only ignored dependency folders, nested ones and workspace.shareIgnored, and detaches without following links", async () => {
    const { attachSharedDeps, detachSharedDeps, findSharedDeps } = await import(
      "../src/sandbox/shared-deps.ts"
    );
    const ws = makeWorkspace({
      ".gitignore": "node_modules/\n.venv/\n.cache/\n",
      "node_modules/a/index.js": "1",
      "node_modules/a/node_modules/b/index.js": "1",
      "packages/p/node_modules/c/index.js": "1",
      ".venv/bin/python": "",
      "vendor/lib.go": "package lib",
      ".cache/tool/data": "1",
      "src/index.js": "1",
    });
    const deps = findSharedDeps(ws, [".cache/tool", "src", "../outside"]);
    // vendor/ is not ignored: it is copied with the workspace; src is not ignored either.
    expect(deps.paths).toEqual([".cache/tool", ".venv", "node_modules", "packages/p/node_modules"]);

    const scratch = mkdtempSync(path.join(os.tmpdir(), "moss-scratch-test-"));
    mkdirSync(path.join(scratch, "packages"));
    // An agent without a sandbox replaced a parent folder by a link to the user's folder.
    symlinkSync(path.join(ws, "packages", "p"), path.join(scratch, "packages", "p"));
    expect(attachSharedDeps(scratch, deps, false)).toEqual([]);
    expect(readFileSync(path.join(scratch, "node_modules", "a", "index.js"), "utf8")).toBe("1");
    detachSharedDeps(scratch, deps);
    // Only the (empty) parent folders attach made are left: a diff never lists empty folders.
    expect(readdirSync(scratch).sort()).toEqual([".cache", "packages"]);
    expect(readdirSync(path.join(scratch, ".cache"))).toEqual([]);
    expect(readFileSync(path.join(ws, "packages/p/node_modules/c/index.js"), "utf8")).toBe("1");
    expect(readFileSync(path.join(ws, "node_modules/a/index.js"), "utf8")).toBe("1");
    rmSync(scratch, { recursive: true, force: true });
  });

  it("never shares a dependency folder that is a symlink, or reached through one (a hostile workspace)", async () => {
    const { attachSharedDeps, findSharedDeps } = await import("../src/sandbox/shared-deps.ts");
    const outside = mkdtempSync(path.join(os.tmpdir(), "moss-secret-"));
    mkdirSync(path.join(outside, "node_modules"));
    writeFileSync(path.join(outside, "key.txt"), "secret");
    const ws = makeWorkspace({ ".gitignore": "build\nnode_modules\n.venv\nlinked\n", "src/index.js": "1" });
    symlinkSync(outside, path.join(ws, "build"));
    symlinkSync(path.join(outside, "node_modules"), path.join(ws, "node_modules"));
    symlinkSync(outside, path.join(ws, ".venv"));
    symlinkSync(outside, path.join(ws, "linked"));
    const deps = findSharedDeps(ws, ["build", "linked/node_modules"]);
    expect(deps.paths).toEqual([]);
    // Even when handed such a path (the workspace changed after the scan), attach skips it.
    const scratch = mkdtempSync(path.join(os.tmpdir(), "moss-scratch-test-"));
    const forged = { workspace: ws, paths: ["build", "node_modules", ".venv", "linked/node_modules"] };
    expect(attachSharedDeps(scratch, forged, true, "linux")).toEqual([]);
    expect(readdirSync(scratch)).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
});
