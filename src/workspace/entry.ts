import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from "node:fs";
import path from "node:path";

/**
 * What is at a path, seen with lstat only: a file is never opened to learn its kind, so a FIFO,
 * a socket or a device can never block or be read, and a symlink is never followed.
 */
export type Entry =
  | { kind: "file"; size: number; mode: number }
  | { kind: "link"; target: string }
  | { kind: "special"; what: string }
  | { kind: "dir" };

/** The entry at `file`, or null when nothing is there. */
export function entryAt(file: string): Entry | null {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(file);
  } catch {
    return null;
  }
  if (st.isFile()) return { kind: "file", size: st.size, mode: st.mode & 0o7777 };
  if (st.isSymbolicLink()) return { kind: "link", target: readlinkSync(file) };
  if (st.isDirectory()) return { kind: "dir" };
  const what = st.isFIFO()
    ? "a FIFO"
    : st.isSocket()
      ? "a socket"
      : st.isCharacterDevice() || st.isBlockDevice()
        ? "a device"
        : "a special file";
  return { kind: "special", what };
}

/**
 * The entry at `rel` inside `dir`, or null when nothing is there or a folder on the way is a
 * symlink (or not a folder): a path in a scratch copy is never read through a link the agent
 * made, which could point anywhere on the host.
 */
export function entryWithin(dir: string, rel: string): Entry | null {
  const parts = rel.split("/");
  let p = dir;
  for (const part of parts.slice(0, -1)) {
    p = path.join(p, part);
    try {
      if (!lstatSync(p).isDirectory()) return null;
    } catch {
      return null;
    }
  }
  return entryAt(path.join(dir, rel));
}

/** Opens a regular file for reading without following a symlink; throws for anything else. */
export function openRegular(file: string): number {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new Error(`${file} is not a regular file`);
  }
  return fd;
}

/**
 * Whether two entries are the same for a user: same kind, same symlink target, or same bytes and
 * the same owner-execute bit. Contents are compared in chunks, only when the sizes agree.
 */
export function sameEntry(a: string, b: string): boolean {
  const x = entryAt(a);
  const y = entryAt(b);
  if (x === null || y === null) return x === y;
  if (x.kind === "link" && y.kind === "link") return x.target === y.target;
  if (x.kind !== "file" || y.kind !== "file") return false;
  if (x.size !== y.size || (x.mode & 0o100) !== (y.mode & 0o100)) return false;
  return sameBytes(a, b);
}

const CHUNK = 1 << 20;

function sameBytes(a: string, b: string): boolean {
  const fa = openRegular(a);
  try {
    const fb = openRegular(b);
    try {
      const ba = Buffer.alloc(CHUNK);
      const bb = Buffer.alloc(CHUNK);
      for (;;) {
        const na = readFull(fa, ba);
        const nb = readFull(fb, bb);
        if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
        if (na === 0) return true;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
export function readFull(fd: number, buf: Buffer): number {
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, null);
    if (got === 0) break;
    n += got;
  }
  return n;
}

/** The first `max` bytes of a regular file (never following a symlink). */
export function readHead(file: string, max: number): Buffer {
  const fd = openRegular(file);
  try {
    const buf = Buffer.alloc(max);
    return buf.subarray(0, readFull(fd, buf));
  } finally {
    closeSync(fd);
  }
}
