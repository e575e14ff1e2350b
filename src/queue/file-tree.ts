import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";
import { listWorkspaceFiles } from "../workspace/file-list.ts";

/**
 * A folder as one content-addressed value: the agent's agent-src, or a task's prepared workspace.
 * Its id is the sha256 of its canonical JSON; it travels gzipped. Unpacking trusts nothing: the
 * hash is recomputed, the JSON parsed by schema, every path checked to stay inside the folder.
 */
const EntrySchema = z.discriminatedUnion("k", [
  z.object({ k: z.literal("f"), p: z.string(), x: z.boolean(), d: z.string() }),
  z.object({ k: z.literal("l"), p: z.string(), t: z.string() }),
]);
const TreeSchema = z.object({ v: z.literal(1), entries: z.array(EntrySchema) });

export interface PackedTree {
  hash: string;
  /** The canonical JSON, gzipped: what is stored under the hash. */
  gz: Buffer;
  files: number;
  bytes: number;
}

export interface TreeCaps {
  /** Largest unpacked tree (the canonical JSON, so file contents in base64). */
  maxBytes: number;
  maxFiles: number;
}

export class TreeRejected extends Error {}

/** Packs the non-ignored files of `dir` (as a snapshot lists them). Symlinks stay links. */
export function packTree(dir: string): PackedTree {
  const entries: z.infer<typeof EntrySchema>[] = [];
  let bytes = 0;
  for (const rel of listWorkspaceFiles(dir)) {
    const abs = path.join(dir, rel);
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) entries.push({ k: "l", p: rel, t: readlinkSync(abs) });
    else if (st.isFile()) {
      const data = readFileSync(abs);
      bytes += data.length;
      entries.push({ k: "f", p: rel, x: (st.mode & 0o111) !== 0, d: data.toString("base64") });
    }
  }
  const json = Buffer.from(JSON.stringify({ v: 1, entries }));
  return { hash: sha256(json), gz: gzipSync(json), files: entries.length, bytes };
}

export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/**
 * Writes the tree stored as `gz` into `dest` (which must not exist), after checking it is the
 * tree `hash` names and that it is harmless: caps on size and count, relative normalized paths
 * without `..`, `.git` or NUL, no entry below a link, and links that resolve inside the tree.
 * Throws TreeRejected with the reason; nothing is left at `dest` then.
 */
export function unpackTree(gz: Buffer, hash: string, dest: string, caps: TreeCaps): { files: number } {
  let json: Buffer;
  try {
    json = gunzipSync(gz, { maxOutputLength: caps.maxBytes });
  } catch (err) {
    throw new TreeRejected(
      (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
        ? `tree ${short(hash)} unpacks to more than ${caps.maxBytes} bytes`
        : `tree ${short(hash)} is not gzip data`,
    );
  }
  const actual = sha256(json);
  if (actual !== hash)
    throw new TreeRejected(`tree content hash ${short(actual)} does not match the job's ${short(hash)}`);
  let parsed: z.infer<typeof TreeSchema>;
  try {
    parsed = TreeSchema.parse(JSON.parse(json.toString("utf8")));
  } catch {
    throw new TreeRejected(`tree ${short(hash)} is not a file tree (schema)`);
  }
  if (parsed.entries.length > caps.maxFiles)
    throw new TreeRejected(`tree ${short(hash)} has ${parsed.entries.length} files, over ${caps.maxFiles}`);
  checkPaths(parsed.entries);

  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    for (const e of parsed.entries) {
      const to = path.join(tmp, e.p);
      mkdirSync(path.dirname(to), { recursive: true });
      if (e.k === "l") symlinkSync(e.t, to);
      else {
        writeFileSync(to, Buffer.from(e.d, "base64"), { flag: "wx" });
        chmodSync(to, e.x ? 0o755 : 0o644);
      }
    }
    if (existsSync(dest)) rmSync(tmp, { recursive: true, force: true });
    else renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { files: parsed.entries.length };
}

function checkPaths(entries: z.infer<typeof EntrySchema>[]): void {
  const seen = new Set<string>();
  for (const e of entries) {
    const why = badPath(e.p);
    if (why) throw new TreeRejected(`unsafe path ${JSON.stringify(e.p.slice(0, 200))} in the tree: ${why}`);
    if (seen.has(e.p)) throw new TreeRejected(`path ${JSON.stringify(e.p)} appears twice in the tree`);
    seen.add(e.p);
    if (e.k === "l") {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(e.p), e.t));
      if (e.t.includes("\0") || path.posix.isAbsolute(e.t) || target === ".." || target.startsWith("../"))
        throw new TreeRejected(
          `link ${JSON.stringify(e.p)} points outside the tree (${JSON.stringify(e.t.slice(0, 200))})`,
        );
    }
  }
  // Folders are implied by paths: an entry below another entry (a link above all, which would
  // be written through) is refused.
  for (const p of seen) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (seen.has(prefix))
        throw new TreeRejected(`path ${JSON.stringify(p)} lies below the entry ${JSON.stringify(prefix)}`);
    }
  }
}

function badPath(p: string): string | null {
  if (!p || p.length > 1024) return "empty or too long";
  if (p.includes("\0") || p.includes("\\")) return "NUL or backslash";
  if (p.startsWith("/")) return "absolute";
  const parts = p.split("/");
  if (parts.some((s) => s === "" || s === "." || s === "..")) return "not normalized (., .. or //)";
  if (parts.includes(".git")) return ".git";
  return null;
}

const short = (hash: string) => hash.slice(0, 12);
