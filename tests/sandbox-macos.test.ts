import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sandboxCommandLine } from "../src/sandbox/command-line.ts";
import { homeSecrets, macosSandboxProfile, userSecrets } from "../src/sandbox/macos-profile.ts";
import { psTable, usageOfTree } from "../src/sandbox/resource-watch.ts";
import { prepareSandboxed } from "../src/sandbox/run-sandboxed.ts";
import { sandboxAvailable } from "../src/sandbox/sandbox.ts";
import { attachSharedDeps, detachSharedDeps } from "../src/sandbox/shared-deps.ts";

// macOS cannot run here: these tests pin the darwin command line and wiring on Linux. Running
// agent code under sandbox-exec for real is untested (see the README: what is tested where).

const spec = {
  readOnly: ["/opt/agent/agent-src"],
  writable: ["/private/var/folders/xy/T/moss-scratch-1-abc"],
  cwd: "/private/var/folders/xy/T/moss-scratch-1-abc",
  maxProcs: 512,
  maxFileMb: 100,
  uid: 0,
};
const extras = {
  privateTmp: "/private/var/folders/xy/T/moss-agent-home-1-def",
  deniedReads: homeSecrets("/Users/ada/.local/share/moss", "/Users/ada/.config/moss"),
};

describe("the darwin sandbox command line (built on Linux, platform passed in)", () => {
  it("is sandbox-exec with the generated profile, bash setting RLIMIT_FSIZE, then the command and its args", () => {
    const line = sandboxCommandLine("darwin", "/usr/local/bin/node", ["main.js", "--x"], spec, extras);
    expect(line).toEqual({
      command: "/usr/bin/sandbox-exec",
      args: [
        "-p",
        macosSandboxProfile({ writable: spec.writable, network: false, ...extras }),
        "/bin/bash",
        "-c",
        `ulimit -f ${100 * 1024} || exit 125; exec "$@"`,
        "moss-sandbox",
        "/usr/local/bin/node",
        "main.js",
        "--x",
      ],
    });
    const profile = line.args[1]!;
    expect(profile).toContain("(deny network*)");
    expect(profile).not.toContain("(allow network*)");
    expect(profile).toContain('(subpath "/private/var/folders/xy/T/moss-scratch-1-abc")');
    expect(profile).toContain('(deny file-read* (subpath "/Users/ada/.local/share/moss/runs"))');
    // Read-only paths are readable anyway; they never become writable.
    expect(profile).not.toContain("/opt/agent");
  });

  it("keeps the network only when asked (the external patcher), and is bubblewrap on Linux", () => {
    const withNet = sandboxCommandLine("darwin", "patcher", [], { ...spec, network: true }, extras).args[1]!;
    expect(withNet).toContain("(allow network*)");
    expect(withNet).not.toContain("(deny network*)");
    expect(sandboxCommandLine("linux", "true", [], spec, extras).command).toBe("bwrap");
    expect(() => sandboxCommandLine("win32", "true", [], spec, extras)).toThrow(/no sandbox for win32/);
  });

  it("denies reads of the user's credential folders by name", () => {
    const secrets = userSecrets("/Users/ada");
    expect(secrets.folders).toEqual(
      expect.arrayContaining(["/Users/ada/.ssh", "/Users/ada/.aws", "/Users/ada/Library/Keychains"]),
    );
    expect(secrets.files).toEqual(expect.arrayContaining(["/Users/ada/.netrc", "/Users/ada/.npmrc"]));
  });
});

describe("prepareSandboxed on darwin (wired, not run)", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "moss-macos-test-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("launches sandbox-exec with the writable folder's real path, a private HOME/TMPDIR it writes, and the denied reads", () => {
    const scratch = path.join(root, "scratch");
    mkdirSync(scratch);
    const link = path.join(root, "scratch-link");
    execFileSync("ln", ["-s", scratch, link]);
    const p = prepareSandboxed(
      {
        command: "node",
        args: ["main.js"],
        cwd: link,
        env: { kind: "agent" },
        extraEnv: { MOSS_PROMPT_FILE: "/x" },
        writable: [link],
        limits: {
          maxProcs: 64,
          memoryMb: 512,
          diskMb: 10,
          deniedReads: { files: ["/h/moss.config.json"], folders: ["/h/runs"] },
        },
      },
      "darwin",
    );
    try {
      expect(p.command).toBe("/usr/bin/sandbox-exec");
      expect(p.args.slice(-2)).toEqual(["node", "main.js"]);
      const profile = p.args[1]!;
      expect(profile).toContain(`(subpath "${realpathSync(scratch)}")`);
      expect(profile).not.toContain(`(subpath "${link}")`);
      expect(profile).toContain(`(subpath "${p.env.HOME}")`);
      expect(profile).toContain('(deny file-read* (subpath "/h/runs"))');
      expect(profile).toContain('(deny file-read* (literal "/h/moss.config.json"))');
      expect(p.args).toContain(`ulimit -f ${10 * 1024} || exit 125; exec "$@"`);
      expect(p.env.TMPDIR).toBe(p.env.HOME);
      expect(p.env.MOSS_AGENT).toBe("1");
      expect(p.env.MOSS_PROMPT_FILE).toBe("/x");
      expect(existsSync(p.env.HOME!)).toBe(true);
    } finally {
      p.dispose();
    }
    expect(existsSync(p.env.HOME!)).toBe(false);
  });

  it("shares dependencies as symlinks on darwin (the profile keeps them read-only), as mount points on Linux", () => {
    const ws = path.join(root, "ws");
    mkdirSync(path.join(ws, "node_modules", "dep"), { recursive: true });
    writeFileSync(path.join(ws, "node_modules", "dep", "index.js"), "");
    const deps = { workspace: ws, paths: ["node_modules"] };
    const mac = path.join(root, "mac");
    mkdirSync(mac);
    expect(attachSharedDeps(mac, deps, true, "darwin")).toEqual([]);
    expect(lstatSync(path.join(mac, "node_modules")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(mac, "node_modules"))).toBe(path.join(ws, "node_modules"));
    detachSharedDeps(mac, deps);
    expect(existsSync(path.join(mac, "node_modules"))).toBe(false);
    const lin = path.join(root, "lin");
    mkdirSync(lin);
    expect(attachSharedDeps(lin, deps, true, "linux")).toEqual([
      { source: path.join(ws, "node_modules"), target: path.join(lin, "node_modules") },
    ]);
    expect(lstatSync(path.join(lin, "node_modules")).isDirectory()).toBe(true);
  });
});

describe("the sandbox probe on darwin", () => {
  it("checks /usr/bin/sandbox-exec and, where it is missing, says so and what to do", () => {
    const probe = sandboxAvailable("darwin");
    if (existsSync("/usr/bin/sandbox-exec"))
      return expect(probe).toEqual({ ok: true, reason: "sandbox-exec" });
    expect(probe.ok).toBe(false);
    expect(probe.reason).toContain("/usr/bin/sandbox-exec could not start (ENOENT)");
    expect(probe.reason).toContain("Linux VM or container with bubblewrap");
  });
});

describe("the process watchdog without /proc (macOS reads ps)", () => {
  it("parses ps output and sums a process tree", () => {
    const table = psTable(
      "  1     0  1000\n 10     1  2048\n 11    10  1024\n 12    11  1024\n 20     1  9999\ngarbage\n",
    );
    const u = usageOfTree(table, 10);
    expect(u.processes).toBe(3);
    expect(u.pids.sort()).toEqual([10, 11, 12]);
    expect(u.rssMb).toBe(4);
  });

  it("finds this test process in the real ps output", () => {
    const out = execFileSync("ps", ["-A", "-o", "pid=,ppid=,rss="], { encoding: "utf8" });
    const u = usageOfTree(psTable(out), process.pid);
    expect(u.rssMb).toBeGreaterThan(1);
  });
});
