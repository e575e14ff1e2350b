import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  diffAgainstSnapshot,
  materializeSnapshot,
  snapshotExists,
  snapshotFiles,
  snapshotWorkspace,
  takeSnapshot,
} from "../src/workspace/snapshot.ts";
import { folderBytes, pinTree, storeDir } from "../src/workspace/snapshot-store.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), `moss-test-${p}-`));

/** Every file of `dir` (no .git), as bytes or a link target, with the executable bit. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.name === ".git") continue;
      if (e.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else out[rel] = `${statSync(p).mode & 0o100 ? "x " : ""}${readFileSync(p, "base64")}`;
    }
  };
  walk(dir);
  return out;
}

function awkwardWorkspace(): string {
  const ws = makeWorkspace({
    ".gitignore": "node_modules\n*.log\n",
    // Attributes that would convert bytes on the way in or out: the store must ignore them.
    ".gitattributes": "* text eol=crlf\n*.txt ident\n",
    "crlf.js": "a\r\nb\r\n",
    "mixed.txt": "$Id$\nlf\r\ncrlf\n",
    "bin.dat": "\u0000\u0001\u00ff",
    "deep/a/b/c.ts": "export {};\n",
    "name with spaces and ünïcode.md": "x",
    "debug.log": "ignored",
    "node_modules/pkg/index.js": "ignored",
  });
  writeFileSync(path.join(ws, "run.sh"), "#!/bin/sh\n");
  chmodSync(path.join(ws, "run.sh"), 0o755);
  symlinkSync("deep/a/b/c.ts", path.join(ws, "link.ts"));
  return ws;
}

describe("content-addressed snapshots", () => {
  it("round-trip the files byte for byte: no eol, ident or filter conversion; links and modes kept; ignored files left out", () => {
    const home = tmp("home");
    const ws = awkwardWorkspace();
    const { ref, files } = takeSnapshot(home, ws, 1e9);
    expect(files).toBe(9);
    const out = tmp("out");
    materializeSnapshot(ref, out);
    const want = contents(ws);
    delete want["debug.log"];
    delete want["node_modules/pkg/index.js"];
    expect(contents(out)).toEqual(want);
    expect(lstatSync(path.join(out, "link.ts")).isSymbolicLink()).toBe(true);
    expect(snapshotFiles(ref)).toContain("deep/a/b/c.ts");
  });

  it("an unchanged workspace gives the same tree and stores nothing new; a change stores only that file", () => {
    const home = tmp("home");
    const ws = awkwardWorkspace();
    for (let i = 0; i < 200; i++) writeFileSync(path.join(ws, `f${i}.txt`), `file ${i}\n`.repeat(50));
    const first = takeSnapshot(home, ws, 1e9).ref;
    const objects = () => folderBytes(path.join(storeDir(home), "objects"));
    const after1 = objects();
    const second = takeSnapshot(home, ws, 1e9).ref;
    expect(second.tree).toBe(first.tree);
    expect(objects()).toBe(after1);
    writeFileSync(path.join(ws, "f7.txt"), "changed\n");
    rmSync(path.join(ws, "f8.txt"));
    const third = takeSnapshot(home, ws, 1e9).ref;
    expect(third.tree).not.toBe(first.tree);
    // One blob, and the trees on its path (the root): a few KB, nowhere near a copy.
    expect(objects() - after1).toBeLessThan(64 * 1024);
    expect(snapshotFiles(third)).not.toContain("f8.txt");
    // The earlier snapshot is unchanged.
    const out = tmp("out");
    materializeSnapshot(first, out);
    expect(readFileSync(path.join(out, "f7.txt"), "utf8")).toBe(`file 7\n`.repeat(50));
  });

  it("diffs a scratch copy against its snapshot: modified, added, deleted, file turned folder, without writing to the store", () => {
    const home = tmp("home");
    const ws = awkwardWorkspace();
    const { ref } = takeSnapshot(home, ws, 1e9);
    const scratch = tmp("scratch");
    materializeSnapshot(ref, scratch);
    writeFileSync(path.join(scratch, "crlf.js"), "a\r\nB\r\n");
    writeFileSync(path.join(scratch, "new.ts"), "added\n");
    rmSync(path.join(scratch, "bin.dat"));
    rmSync(path.join(scratch, "run.sh"));
    mkdirSync(path.join(scratch, "run.sh"));
    writeFileSync(path.join(scratch, "run.sh", "inner"), "now a folder\n");
    const objects = folderBytes(path.join(storeDir(home), "objects"));
    const { diff, before, dispose } = diffAgainstSnapshot(ref, scratch);
    expect(diff.changes).toEqual([
      { path: "bin.dat", kind: "deleted" },
      { path: "crlf.js", kind: "modified" },
      { path: "new.ts", kind: "added" },
      { path: "run.sh", kind: "deleted" },
      { path: "run.sh/inner", kind: "added" },
    ]);
    expect(diff.patch).toContain("-b\r\n+B\r\n");
    expect(readFileSync(path.join(before, "crlf.js"), "utf8")).toBe("a\r\nb\r\n");
    expect(readdirSync(before).sort()).toEqual(["bin.dat", "crlf.js", "run.sh"]);
    expect(folderBytes(path.join(storeDir(home), "objects"))).toBe(objects);
    dispose();
    const unchanged = tmp("scratch");
    materializeSnapshot(ref, unchanged);
    expect(diffAgainstSnapshot(ref, unchanged).diff.changes).toEqual([]);
  });

  it("still reads the folder snapshots of older run records", () => {
    const ws = awkwardWorkspace();
    const folder = path.join(tmp("old-run"), "snapshot");
    snapshotWorkspace(ws, folder, 1e9);
    expect(snapshotExists(folder)).toBe(true);
    const out = tmp("out");
    materializeSnapshot(folder, out);
    expect(readFileSync(path.join(out, "crlf.js"), "utf8")).toBe("a\r\nb\r\n");
    writeFileSync(path.join(out, "crlf.js"), "x\n");
    const { diff, before } = diffAgainstSnapshot(folder, out);
    expect(diff.changes).toEqual([{ path: "crlf.js", kind: "modified" }]);
    expect(before).toBe(folder);
  });

  it("a pinned tree survives gc; an unpinned one is removed", async () => {
    const { gcStore } = await import("../src/workspace/snapshot-store.ts");
    const home = tmp("home");
    const ws = makeWorkspace({ "a.txt": "one\n" });
    const a = takeSnapshot(home, ws, 1e9).ref;
    pinTree(a.store, "20260101-000000-aaaaaa", a.tree);
    writeFileSync(path.join(ws, "a.txt"), "two\n");
    const b = takeSnapshot(home, ws, 1e9).ref;
    pinTree(b.store, "20260101-000001-bbbbbb", b.tree);
    gcStore(a.store, new Set(["20260101-000000-aaaaaa"]));
    expect(snapshotExists(a)).toBe(true);
    expect(snapshotExists(b)).toBe(false);
    // The workspace's saved index named the pruned tree: the next snapshot starts afresh and works.
    const c = takeSnapshot(home, ws, 1e9).ref;
    expect(c.tree).toBe(b.tree);
    const out = tmp("out");
    materializeSnapshot(c, out);
    expect(readFileSync(path.join(out, "a.txt"), "utf8")).toBe("two\n");
  });
});
