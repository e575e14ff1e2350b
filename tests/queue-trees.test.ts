import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../src/git/temp-dirs.ts";
import { packTree, sha256, TreeRejected, unpackTree } from "../src/queue/file-tree.ts";
import { TrialJobSchema } from "../src/queue/trial-job.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

const caps = { maxBytes: 1024 * 1024, maxFiles: 100 };

/** A tree as a hostile submitter would hand-craft it, with its true hash. */
function crafted(entries: unknown[]) {
  const json = Buffer.from(JSON.stringify({ v: 1, entries }));
  return { gz: gzipSync(json), hash: sha256(json) };
}

function rejection(gz: Buffer, hash: string): { message: string; left: boolean } {
  const dest = path.join(makeTempDir("scratch"), "tree");
  try {
    unpackTree(gz, hash, dest, caps);
  } catch (err) {
    expect(err).toBeInstanceOf(TreeRejected);
    return { message: (err as Error).message, left: existsSync(dest) };
  }
  throw new Error("the tree was accepted");
}

const file = (p: string) => ({ k: "f", p, x: false, d: Buffer.from("x").toString("base64") });

describe("content-addressed trees (what a job's agent revision and workspace travel as)", () => {
  it("round-trips files, the executable bit and links; the same content gives the same hash", () => {
    const ws = makeWorkspace({
      "a.txt": "hello\n",
      "bin/run.sh": "#!/bin/sh\necho hi\n",
      ".gitignore": "out\n",
      "out/big": "ignored",
    });
    chmodSync(path.join(ws, "bin/run.sh"), 0o755);
    symlinkSync("a.txt", path.join(ws, "link"));
    const packed = packTree(ws);
    expect(packed.files).toBe(4);
    expect(packTree(ws).hash).toBe(packed.hash);
    const dest = path.join(makeTempDir("scratch"), "tree");
    unpackTree(packed.gz, packed.hash, dest, caps);
    expect(readFileSync(path.join(dest, "a.txt"), "utf8")).toBe("hello\n");
    expect(lstatSync(path.join(dest, "bin/run.sh")).mode & 0o111).not.toBe(0);
    expect(lstatSync(path.join(dest, "a.txt")).mode & 0o111).toBe(0);
    expect(readlinkSync(path.join(dest, "link"))).toBe("a.txt");
    expect(existsSync(path.join(dest, "out"))).toBe(false);
    writeFileSync(path.join(ws, "a.txt"), "changed\n");
    expect(packTree(ws).hash).not.toBe(packed.hash);
  });

  it.each([
    ["a parent path", [file("../escape.txt")], /unsafe path .*not normalized/],
    ["a nested parent path", [file("a/../../escape.txt")], /unsafe path/],
    ["an absolute path", [file("/etc/cron.d/evil")], /unsafe path .*absolute/],
    ["a .git folder", [file(".git/hooks/post-checkout")], /unsafe path .*\.git/],
    ["a link out of the tree", [{ k: "l", p: "x", t: "../../etc" }], /points outside the tree/],
    ["an absolute link", [{ k: "l", p: "x", t: "/root/.ssh" }], /points outside the tree/],
    ["a file below a link", [{ k: "l", p: "d", t: "." }, file("d/x")], /lies below the entry "d"/],
    ["the same path twice", [file("a"), file("a")], /appears twice/],
    ["not a tree", [{ k: "device", p: "a" }], /schema/],
  ])("refuses %s, leaving nothing behind", (_name, entries, reason) => {
    const t = crafted(entries);
    const r = rejection(t.gz, t.hash);
    expect(r.message).toMatch(reason);
    expect(r.left).toBe(false);
  });

  it("refuses content whose hash is not the one named, a gzip bomb and too many files", () => {
    const good = crafted([file("a")]);
    expect(rejection(good.gz, sha256("other")).message).toMatch(/does not match the job's/);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(rejection(bomb, sha256("x")).message).toMatch(/unpacks to more than/);
    const many = crafted(Array.from({ length: 101 }, (_, i) => file(`f${i}`)));
    expect(rejection(many.gz, many.hash).message).toMatch(/101 files, over 100/);
  });

  it("a job's schema admits no extra field (a key or a path cannot ride along)", () => {
    const job = {
      v: 1,
      evalId: "e1",
      key: "head:t:0",
      label: "head",
      trial: 0,
      task: { id: "t", prompt: "p", check: "true", threshold: 1, limits: {} },
      agentTree: sha256("a"),
      workspaceTree: sha256("w"),
    };
    expect(TrialJobSchema.safeParse(job).success).toBe(true);
    expect(TrialJobSchema.safeParse({ ...job, apiKey: "sk-x" }).success).toBe(false);
    expect(TrialJobSchema.safeParse({ ...job, task: { ...job.task, workspaceDir: "/home/u" } }).success).toBe(
      false,
    );
    expect(TrialJobSchema.safeParse({ ...job, agentTree: "../x" }).success).toBe(false);
  });
});
