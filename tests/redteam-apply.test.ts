/**
 * Apply-back is all-or-nothing (red team B5, B6): a path too long for the user's folder, a write
 * error after the checks (an immutable subfolder: EPERM even for root), or a non-empty folder that
 * should become a file leaves the folder byte-for-byte as before, says "not applied" with the
 * reason, and exits 3 (passed but not applied). Names with control or bidi characters are refused.
 * Through the real binary with the loopback fake model API.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeHome } from "./helpers/homes.ts";
import { commandReplies, hostileRun } from "./helpers/hostile-runs.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

const T = 120_000;
let home: string;
const immutable: string[] = [];

beforeAll(async () => {
  home = await makeHome();
}, T);
afterAll(() => {
  for (const dir of immutable) execFileSync("chattr", ["-i", dir]);
});

/** Every path under `dir` with its content (or "<dir>"), to compare a folder before and after. */
function tree(dir: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, name.name);
    if (name.isDirectory()) Object.assign(out, { [r]: "<dir>" }, tree(dir, r));
    else out[r] = readFileSync(path.join(dir, r), "utf8");
  }
  return out;
}

/** A workspace at `root` (made) with a file to delete, one to rewrite, and `extra`. */
function workspaceAt(root: string, extra: Record<string, string> = {}): string {
  const files = { "a.txt": "a\n", "b.txt": "b\n", ...extra };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

/** The agent deletes a.txt, rewrites b.txt, then runs `more`; the check passes. */
const run = (ws: string, more: string) =>
  hostileRun({
    home,
    ws,
    replies: commandReplies(`rm a.txt && echo changed > b.txt && ${more}`),
    check: "true",
  });

describeSandboxed("apply-back is all-or-nothing", () => {
  it(
    "a path that fits in the scratch but is too long for the user's folder is refused before any write",
    async () => {
      // The user's folder is ~3800 bytes deep; the agent's new file adds ~400 more.
      let deep = mkdtempSync(path.join(os.tmpdir(), "moss-long-"));
      while (deep.length < 3800) deep = path.join(deep, "u".repeat(200));
      const ws = workspaceAt(deep);
      const before = tree(ws);
      const long = Array.from({ length: 2 }, () => "d".repeat(200)).join("/");
      const { r, record } = await run(ws, `mkdir -p ${long} && echo z > ${long}/z`);
      expect(r.code).toBe(3);
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toMatch(/over the 4095 the system allows/);
      expect(tree(ws)).toEqual(before);
    },
    T,
  );

  it(
    "a write error after the checks (an immutable subfolder) is rolled back: the folder is as before",
    async () => {
      const ws = workspaceAt(mkdtempSync(path.join(os.tmpdir(), "moss-ro-")), { "sub/c.txt": "c\n" });
      const before = tree(ws);
      const sub = path.join(ws, "sub");
      // The deletion of a.txt and the rewrite of b.txt come before sub/c.txt, which cannot be written.
      const { r, record } = await hostileRun({
        home,
        ws,
        replies: commandReplies("rm a.txt && echo changed > b.txt && echo changed > sub/c.txt"),
        check: "true",
        before: `chattr +i "${sub}"`,
      });
      immutable.push(sub);
      expect(r.code).toBe(3);
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toMatch(/^not applied: operation not permitted \(sub/);
      expect(tree(ws)).toEqual(before);
      expect(r.stderr).not.toMatch(/EPERM|at .*\.js/);
    },
    T,
  );

  it(
    "a folder that should become a file but still holds the user's files is rolled back",
    async () => {
      const ws = workspaceAt(mkdtempSync(path.join(os.tmpdir(), "moss-dir-")), {
        ".gitignore": "*.log\n",
        "d/x.txt": "x\n",
        "d/keep.log": "the user's\n",
      });
      const before = tree(ws);
      const { r, record } = await run(ws, "rm -rf d && echo file > d");
      expect(r.code).toBe(3);
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toMatch(/not applied: .*d is a folder that is not empty/);
      expect(tree(ws)).toEqual(before);
      // The summary (no --json) says it once, plainly.
      const again = await hostileRun({
        home,
        ws,
        replies: commandReplies("rm -rf d && echo file > d"),
        check: "true",
        json: false,
      });
      expect(again.r.code).toBe(3);
      expect(again.r.stdout).toMatch(
        /^ {2}not applied: d is a folder that is not empty .*the folder was left as it was$/m,
      );
      expect(tree(ws)).toEqual(before);
    },
    T,
  );

  it(
    "a file name with an escape sequence or a bidi override is refused, and shown escaped",
    async () => {
      const ws = workspaceAt(mkdtempSync(path.join(os.tmpdir(), "moss-name-")));
      const before = tree(ws);
      const { r, record } = await run(ws, `touch "$(printf 'f\\033[31mred\\342\\200\\256.txt')"`);
      expect(r.code).toBe(3);
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toContain(
        "f\\u{1b}[31mred\\u{202e}.txt: its name holds control or bidi",
      );
      expect(tree(ws)).toEqual(before);
      expect(existsSync(path.join(ws, "a.txt"))).toBe(true);
    },
    T,
  );
});
