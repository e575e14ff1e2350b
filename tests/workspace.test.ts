import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../src/workspace/apply-changes.ts";
import { listWorkspaceFiles } from "../src/workspace/file-list.ts";
import { copyTree, snapshotWorkspace } from "../src/workspace/snapshot.ts";
import { diffTrees } from "../src/workspace/tree-diff.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "moss-ws-test-"));
const CAPS = { maxFiles: 100, maxBytes: 1024 * 1024 };

describe("workspace snapshots", () => {
  it("respects .gitignore, in a git repo or not", () => {
    for (const git of [false, true]) {
      const ws = makeWorkspace(
        {
          ".gitignore": "build/\n*.log\n",
          "src/a.js": "a",
          "build/out.js": "x",
          "debug.log": "x",
          "sub/.gitignore": "secret\n",
          "sub/secret": "s",
          "sub/kept": "k",
        },
        { git },
      );
      const dest = path.join(tmp(), "snap");
      snapshotWorkspace(ws, dest, 1e6);
      expect(listWorkspaceFiles(dest)).toEqual([".gitignore", "src/a.js", "sub/.gitignore", "sub/kept"]);
    }
  });

  it("refuses a workspace over the size cap before copying anything", () => {
    const ws = makeWorkspace({ "big.bin": "x".repeat(5000) });
    const dest = path.join(tmp(), "snap");
    expect(() => snapshotWorkspace(ws, dest, 1000)).toThrow(/over the 0\.0 MB cap.*maxSnapshotBytes/);
    expect(() => readFileSync(dest)).toThrow();
  });
});

describe("diff and apply", () => {
  function attempt() {
    const ws = makeWorkspace({ "a.txt": "one\n", "b.txt": "two\n", "c.txt": "gone\n" });
    const snap = path.join(tmp(), "snap");
    snapshotWorkspace(ws, snap, 1e6);
    const scratch = path.join(tmp(), "scratch");
    copyTree(snap, scratch, listWorkspaceFiles(snap));
    writeFileSync(path.join(scratch, "a.txt"), "ONE\n");
    writeFileSync(path.join(scratch, "new.txt"), "new\n");
    rmSync(path.join(scratch, "c.txt"));
    return { ws, snap, scratch };
  }

  it("lists added, modified and deleted files with a unified diff", () => {
    const { snap, scratch } = attempt();
    const diff = diffTrees(snap, scratch);
    expect(diff.changes).toEqual([
      { path: "a.txt", kind: "modified" },
      { path: "c.txt", kind: "deleted" },
      { path: "new.txt", kind: "added" },
    ]);
    expect(diff.patch).toContain("--- a/a.txt\n+++ b/a.txt");
    expect(diff.patch).toContain("-one\n+ONE");
    expect(diff.patch).toContain("--- /dev/null\n+++ b/new.txt");
  });

  it("applies the changes to the user's folder", () => {
    const { ws, snap, scratch } = attempt();
    const result = applyChanges(diffTrees(snap, scratch).changes, snap, scratch, ws, CAPS);
    expect(result).toEqual({ applied: 3, conflicts: [], refused: [], madeExecutable: [] });
    expect(readFileSync(path.join(ws, "a.txt"), "utf8")).toBe("ONE\n");
    expect(readFileSync(path.join(ws, "new.txt"), "utf8")).toBe("new\n");
    expect(() => readFileSync(path.join(ws, "c.txt"))).toThrow();
  });

  it("writes nothing when the user changed a touched file meanwhile", () => {
    const { ws, snap, scratch } = attempt();
    writeFileSync(path.join(ws, "a.txt"), "user edit\n");
    const result = applyChanges(diffTrees(snap, scratch).changes, snap, scratch, ws, CAPS);
    expect(result).toMatchObject({ applied: 0, conflicts: ["a.txt"] });
    expect(readFileSync(path.join(ws, "a.txt"), "utf8")).toBe("user edit\n");
    expect(readFileSync(path.join(ws, "c.txt"), "utf8")).toBe("gone\n");
  });

  it("never writes through a folder that became a symlink after the snapshot", () => {
    const ws = makeWorkspace({ "sub/a.txt": "one\n" });
    const snap = path.join(tmp(), "snap");
    snapshotWorkspace(ws, snap, 1e6);
    const scratch = path.join(tmp(), "scratch");
    copyTree(snap, scratch, listWorkspaceFiles(snap));
    writeFileSync(path.join(scratch, "sub/a.txt"), "two\n");
    const outside = tmp();
    writeFileSync(path.join(outside, "a.txt"), "one\n");
    rmSync(path.join(ws, "sub"), { recursive: true });
    symlinkSync(outside, path.join(ws, "sub"));
    const result = applyChanges(diffTrees(snap, scratch).changes, snap, scratch, ws, CAPS);
    expect(result.applied).toBe(0);
    expect(result.refused.join()).toMatch(/its folder sub is a symlink/);
    expect(readFileSync(path.join(outside, "a.txt"), "utf8")).toBe("one\n");
  });

  it("shows a rewrite too costly for jsdiff as one hunk that git applies", () => {
    const lines = (w: string) => Array.from({ length: 3000 }, (_, i) => `${w} ${i}`).join("\n");
    const ws = makeWorkspace({ "big.txt": `${lines("old")}\n` });
    const snap = path.join(tmp(), "snap");
    snapshotWorkspace(ws, snap, 1e7);
    const scratch = path.join(tmp(), "scratch");
    copyTree(snap, scratch, listWorkspaceFiles(snap));
    writeFileSync(path.join(scratch, "big.txt"), lines("new"));
    const { patch } = diffTrees(snap, scratch);
    expect(patch).toContain("@@ -1,3000 +1,3000 @@");
    expect(patch).toContain("\\ No newline at end of file");
    const repo = tmp();
    writeFileSync(path.join(repo, "big.txt"), `${lines("old")}\n`);
    writeFileSync(path.join(repo, "p.diff"), patch);
    execFileSync("git", ["apply", "p.diff"], { cwd: repo });
    expect(readFileSync(path.join(repo, "big.txt"), "utf8")).toBe(lines("new"));
  });
});
