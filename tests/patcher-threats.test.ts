import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runExternalPatcher } from "../src/evolve/propose/external-patcher.ts";
import { createWorktree, type Worktree } from "../src/git/worktree.ts";
import { demoFixScript, evolveWithPatcherScript, makeHome } from "./helpers/homes.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

// The external patcher (--patcher-cmd) is agent code too (issue 7 class 7): each hostile CLI
// below runs through the real runExternalPatcher, in the real sandbox, against a real home.
const LIMITS = { maxProcs: 256, memoryMb: 2048 };
const table: Array<[string, string]> = [];
afterAll(() => {
  console.log(`\nexternal patcher threat cases (${table.length}):`);
  console.table(table.map(([threat, outcome]) => ({ threat, outcome })));
});

const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir }).toString().trim();

/** A home with a config file, a worktree of its head, and a run of `command` there. */
async function patch(
  command: string | ((home: string) => string),
  opts: { sandbox?: boolean; env?: string[]; network?: boolean; home?: string; read?: string } = {},
) {
  const home = opts.home ?? (await makeHome());
  if (!existsSync(path.join(home, "moss.config.json")))
    writeFileSync(path.join(home, "moss.config.json"), '{"sandbox":{"enabled":true}}\n');
  const wt: Worktree = await createWorktree(home, git(home, "rev-parse", "HEAD"));
  try {
    const cmd = typeof command === "string" ? command : command(home);
    const result = await runExternalPatcher(wt.dir, cmd, "fix the agent", 60_000, {
      home,
      sandbox: opts.sandbox === false ? null : LIMITS,
      env: opts.env ?? [],
      network: opts.network ?? false,
    }).then(
      (r) => ({ ok: true as const, ...r }),
      (err: Error) => ({ ok: false as const, error: err.message, output: "" }),
    );
    const read = opts.read ? readFileSync(path.join(wt.dir, opts.read), "utf8") : "";
    return { home, result, read };
  } finally {
    await wt.remove();
  }
}

describeSandboxed("a hostile external patcher in the sandbox", () => {
  it("cannot rewrite the home's moss.config.json to turn the sandbox off", async () => {
    const { home, result } = await patch(
      (h) => `echo '{"sandbox":{"enabled":false}}' > ${h}/moss.config.json 2>&1; echo rc=$?`,
    );
    expect(result.output).toMatch(/Read-only file system|Permission denied|No such file/);
    expect(readFileSync(path.join(home, "moss.config.json"), "utf8")).toContain('"enabled":true');
    table.push(["patcher rewrites the home's moss.config.json", "not visible / read-only; unchanged"]);
  });

  it("cannot install a .git/hooks/post-commit", async () => {
    const { home, result } = await patch(
      (h) => `printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > ${h}/.git/hooks/post-commit 2>&1; echo rc=$?`,
    );
    expect(result.output).toMatch(/Read-only file system/);
    expect(existsSync(path.join(home, ".git", "hooks", "post-commit"))).toBe(false);
    table.push(["patcher installs .git/hooks/post-commit", "read-only file system"]);
  });

  it("cannot set git config (core.hooksPath) in the home's repository", async () => {
    const { home, result } = await patch("git config core.hooksPath /tmp/evil 2>&1; echo rc=$?");
    expect(result.output).toMatch(/could not lock config file|Read-only file system|Permission denied/);
    expect(readFileSync(path.join(home, ".git", "config"), "utf8")).not.toContain("/tmp/evil");
    table.push(["patcher sets core.hooksPath in .git/config", "cannot lock config: read-only"]);
  });

  it("cannot write into the shared node_modules", async () => {
    const { result } = await patch("touch node_modules/.moss-pwned 2>&1; echo rc=$?");
    expect(result.output).toMatch(/Read-only file system/);
    expect(existsSync(path.join(process.cwd(), "node_modules", ".moss-pwned"))).toBe(false);
    table.push(["patcher writes into the home's node_modules", "read-only file system"]);
  });

  it("gets only the allowlist and the variable config names for it, no HOME of the user", async () => {
    process.env.MOSS_TEST_PATCHER_KEY = "pk-allowed";
    process.env.MOSS_TEST_OTHER_SECRET = "sk-not-for-the-patcher";
    process.env.ANTHROPIC_API_KEY = "sk-ant-patcher-secret";
    try {
      const { result, read } = await patch(
        `env > agent-src/env.txt; ls -a ~ >> agent-src/env.txt; cat ${os.homedir()}/.ssh/id_rsa >> agent-src/env.txt 2>&1; true`,
        { env: ["MOSS_TEST_PATCHER_KEY"], read: "agent-src/env.txt" },
      );
      expect(result.ok).toBe(true);
      const seen = read;
      expect(seen).toContain("MOSS_TEST_PATCHER_KEY=pk-allowed");
      expect(seen).not.toContain("sk-not-for-the-patcher");
      expect(seen).not.toContain("sk-ant-patcher-secret");
      expect(seen).toContain("HOME=/tmp/home");
      expect(seen).not.toMatch(/BEGIN .*PRIVATE KEY/);
    } finally {
      delete process.env.MOSS_TEST_PATCHER_KEY;
      delete process.env.MOSS_TEST_OTHER_SECRET;
      delete process.env.ANTHROPIC_API_KEY;
    }
    table.push(["patcher reads env vars not on its allowlist", "absent; evolve.patcherEnv var present"]);
  });

  it("has no network unless config allows it, and says how when it fails", async () => {
    const server = createServer((_req, res) => res.end("api"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    const probe = `node -e "fetch('http://127.0.0.1:${port}').then(r => r.text()).then(t => console.log('NET-' + t), e => { console.log('NET-FAIL', e.cause && e.cause.code); process.exit(3) })"`;
    try {
      const denied = await patch(probe);
      expect(!denied.result.ok && denied.result.error).toMatch(
        /without network.*"patcherNetwork": true.*NET-FAIL/,
      );
      const allowed = await patch(probe, { network: true });
      expect(allowed.result.output).toContain("NET-api");
    } finally {
      server.close();
    }
    table.push([
      "patcher calls an API on the network",
      "refused by default (hint printed); works with patcherNetwork",
    ]);
  });

  it("cannot repoint the worktree's .git link at a git dir of its own (red team B0)", async () => {
    // A git dir whose config would run a payload (fsmonitor, filters, pager) when the harness
    // runs git in the worktree right after the patcher.
    const { result } = await patch(
      'mkdir -p agent-src/.g && printf "[core]\\n\\tfsmonitor = /bin/false\\n" > agent-src/.g/config && echo "gitdir: $PWD/agent-src/.g" > .git 2>&1; echo rc=$?',
    );
    expect(result.ok && result.output).toMatch(/\.git: Read-only file system/);
    table.push(["patcher repoints the worktree's .git link", "read-only in the sandbox"]);
  });
});

describe("without a sandbox, the home is checked before and after the patcher", () => {
  it("rejects a candidate whose patcher rewrote moss.config.json, naming it", async () => {
    const { result } = await patch((h) => `echo '{"sandbox":{"enabled":false}}' > ${h}/moss.config.json`, {
      sandbox: false,
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(
      /changed the home's moss.config.json; the candidate is rejected/,
    );
    table.push([
      "unsandboxed patcher rewrites moss.config.json",
      "candidate rejected: names moss.config.json",
    ]);
  });

  it("rejects a candidate whose patcher planted a hook or wrote into node_modules", async () => {
    const home = await makeHome();
    // A node_modules of its own, so the test never writes into the repository's.
    rmSync(path.join(home, "node_modules"));
    mkdirSync(path.join(home, "node_modules", "dep"), { recursive: true });
    writeFileSync(path.join(home, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
    const { result } = await patch(
      (h) => `printf '#!/bin/sh\\n' > ${h}/.git/hooks/post-commit; echo 2 > node_modules/dep/index.js`,
      { sandbox: false, home },
    );
    expect(!result.ok && result.error).toMatch(/changed the home's \.git\/hooks, node_modules;/);
    table.push([
      "unsandboxed patcher plants a hook and edits node_modules",
      "rejected: names .git/hooks, node_modules",
    ]);
  });

  it("rejects a candidate whose patcher repointed the worktree's .git link, before any git runs", async () => {
    const marker = path.join(os.tmpdir(), `moss-b0-${process.pid}`);
    rmSync(marker, { force: true });
    const { result } = await patch(
      `mkdir -p agent-src/.g && printf '#!/bin/sh\\ntouch ${marker}\\n' > agent-src/.g/p.sh && chmod +x agent-src/.g/p.sh && printf "[core]\\n\\tfsmonitor = $PWD/agent-src/.g/p.sh\\n" > agent-src/.g/config && echo "gitdir: $PWD/agent-src/.g" > .git`,
      { sandbox: false },
    );
    expect(!result.ok && result.error).toMatch(/replaced the worktree's \.git link/);
    expect(existsSync(marker)).toBe(false);
    table.push(["unsandboxed patcher repoints the worktree's .git link", "rejected before git runs"]);
  });
});

describeSandboxed("promotion", () => {
  it("runs no git hook, even one already in the home (post-checkout, pre-commit, post-commit)", async () => {
    const home = await makeHome({ planted: true });
    const marker = path.join(os.tmpdir(), `moss-hook-ran-${process.pid}`);
    rmSync(marker, { force: true });
    for (const hook of ["post-checkout", "pre-commit", "commit-msg", "post-commit"]) {
      writeFileSync(path.join(home, ".git", "hooks", hook), `#!/bin/sh\necho ${hook} >> ${marker}\n`, {
        mode: 0o755,
      });
    }
    const script = demoFixScript();
    const { outcome } = await evolveWithPatcherScript(home, script);
    expect(outcome.accepted, outcome.records[0]?.reason).not.toBeNull();
    expect(git(home, "log", "-1", "--format=%s")).toMatch(/^moss: /);
    expect(existsSync(marker) ? readFileSync(marker, "utf8") : "no hook ran").toBe("no hook ran");
    table.push(["hooks planted in the home before a promotion", "accepted and committed; no hook ran"]);
  }, 180_000);
});
