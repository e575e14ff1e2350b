import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTempDir } from "../git/temp-dirs.ts";

/**
 * The content-addressed store of workspace snapshots: one bare git object store per home
 * (<home>/runs/.snapshots). A snapshot is a tree id; an unchanged workspace adds no object, and
 * a persistent index per workspace (keyed by its path) means unchanged files are only stat'ed,
 * never re-read. Each run pins its tree with a ref (refs/runs/<runId>) so gc keeps it.
 *
 * Every git call runs with no system or global config and with attributes switched off (the
 * store's info/attributes wins over any .gitattributes): bytes go in and come out unchanged, no
 * filter, eol or encoding conversion, whatever the workspace's attributes say.
 */
export const storeDir = (home: string) => path.join(home, "runs", ".snapshots");

const NO_CONVERSION = "* -text -eol -crlf -ident -filter -working-tree-encoding\n";

interface GitEnv {
  index?: string;
  workTree?: string;
  /** Where new objects go (a throwaway folder), reading the store's through alternates. */
  scratchObjects?: string;
}

function git(store: string, args: string[], env: GitEnv = {}, input?: string): string {
  return execFileSync("git", [...CONFIG, ...args], {
    ...gitOptions(store, env),
    input: input ?? "",
    maxBuffer: 1024 * 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"],
  }).toString("utf8");
}

/** The same, without blocking the event loop (for work beside a running agent). */
function gitAsync(store: string, args: string[], env: GitEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...CONFIG, ...args],
      { ...gitOptions(store, env), maxBuffer: 64 * 1024 * 1024 },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

const CONFIG = [
  "-c",
  "core.autocrlf=false",
  "-c",
  "core.safecrlf=false",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.symlinks=true",
  "-c",
  "core.fileMode=true",
  "-c",
  "gc.auto=0",
];

function gitOptions(store: string, env: GitEnv) {
  return {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_DIR: store,
      ...(env.index ? { GIT_INDEX_FILE: env.index } : {}),
      ...(env.workTree ? { GIT_WORK_TREE: env.workTree } : {}),
      ...(env.scratchObjects
        ? {
            GIT_OBJECT_DIRECTORY: env.scratchObjects,
            GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(store, "objects"),
          }
        : {}),
    },
    ...(env.workTree ? { cwd: env.workTree } : {}),
  };
}

/** Creates the store on first use. */
export function openStore(home: string): string {
  const store = storeDir(home);
  if (!existsSync(path.join(store, "HEAD"))) {
    mkdirSync(store, { recursive: true });
    execFileSync("git", ["init", "-q", "--bare", store], { stdio: "ignore" });
  }
  mkdirSync(path.join(store, "info"), { recursive: true });
  const attributes = path.join(store, "info", "attributes");
  if (!existsSync(attributes) || readFileSync(attributes, "utf8") !== NO_CONVERSION)
    writeFileSync(attributes, NO_CONVERSION);
  mkdirSync(path.join(store, "indexes"), { recursive: true });
  return store;
}

/**
 * Stores `files` (relative paths, as listed by listWorkspaceFiles) of `workspace` and returns the
 * tree id. Only files whose size or times changed since this workspace's last snapshot are read.
 */
export function storeTree(store: string, workspace: string, files: string[]): string {
  const key = createHash("sha1").update(path.resolve(workspace)).digest("hex");
  const saved = path.join(store, "indexes", key);
  const tmp = makeTempDir("ls");
  const index = path.join(tmp, "index");
  try {
    if (existsSync(saved)) {
      // Keep the index's own time: git's racy-clean check compares file times against it.
      copyFileSync(saved, index);
      const st = statSync(saved);
      utimesSync(index, st.atime, st.mtime);
    }
    const tree = () => {
      const wanted = new Set(files);
      const gone = existsSync(index)
        ? git(store, ["ls-files", "-z"], { index })
            .split("\0")
            .filter((f) => f && !wanted.has(f))
        : [];
      if (gone.length)
        git(
          store,
          ["update-index", "-z", "--force-remove", "--stdin"],
          { index, workTree: workspace },
          z(gone),
        );
      git(
        store,
        ["update-index", "-z", "--add", "--remove", "--replace", "--stdin"],
        { index, workTree: workspace },
        z(files),
      );
      return git(store, ["write-tree"], { index }).trim();
    };
    let id: string;
    try {
      id = tree();
    } catch {
      // The saved index names objects gc removed (or is damaged): start again from nothing.
      rmSync(index, { force: true });
      id = tree();
    }
    renameSync(index, saved);
    writeFileSync(`${saved}.tree`, id);
    return id;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Files are written by several git processes at once (git's parallel checkout): creating 10,000
 * files is mostly kernel time, and one writer leaves the other cores idle. Small trees (under
 * git's threshold of 100 files) are still written by one process.
 */
const PARALLEL_CHECKOUT = ["-c", `checkout.workers=${Math.min(os.availableParallelism(), 8)}`];

/** Writes the tree's files into `dir` (created if missing). */
export function checkoutTree(store: string, tree: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const tmp = makeTempDir("ls");
  const index = path.join(tmp, "index");
  try {
    git(store, ["read-tree", tree], { index });
    git(store, [...PARALLEL_CHECKOUT, "checkout-index", "-a", "-f"], { index, workTree: dir });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** checkoutTree without blocking the event loop. */
export async function checkoutTreeAsync(store: string, tree: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tmp = makeTempDir("ls");
  const index = path.join(tmp, "index");
  try {
    await gitAsync(store, ["read-tree", tree], { index });
    await gitAsync(store, [...PARALLEL_CHECKOUT, "checkout-index", "-a", "-f"], { index, workTree: dir });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Path -> size of every blob in `tree`. */
function blobSizes(store: string, tree: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of git(store, ["ls-tree", "-r", "-z", "-l", tree]).split("\0")) {
    const m = /^\d+ blob [0-9a-f]+ +(\d+)\t(.*)$/s.exec(row);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

/** The tree's file paths, sorted. */
export function treeFiles(store: string, tree: string): string[] {
  return git(store, ["ls-tree", "-r", "-z", "--name-only", tree]).split("\0").filter(Boolean).sort();
}

export const hasTree = (store: string, tree: string): boolean => {
  try {
    return git(store, ["cat-file", "-t", tree]).trim() === "tree";
  } catch {
    return false;
  }
};

/**
 * The paths whose content, type or presence differ between the tree and `dir` (which holds
 * `files`), with the tree's version of them written into `before` (a folder the caller owns).
 * Hashing the folder writes its new objects into a throwaway folder, never into the store.
 */
export function changedPaths(
  store: string,
  tree: string,
  dir: string,
  files: string[],
  before: string,
): string[] {
  const tmp = makeTempDir("ls");
  const index = path.join(tmp, "index");
  const objects = path.join(tmp, "objects");
  mkdirSync(objects);
  const env = { index, scratchObjects: objects };
  try {
    git(store, ["read-tree", tree], env);
    const wanted = new Set(files);
    const inTree = treeFiles(store, tree);
    const gone = inTree.filter((f) => !wanted.has(f));
    if (gone.length)
      git(store, ["update-index", "-z", "--force-remove", "--stdin"], { ...env, workTree: dir }, z(gone));
    // A file whose size differs from its snapshot blob (or that is new) has changed: it is never
    // read or hashed here. Only files of a snapshot size are hashed, so the work is bounded by the
    // snapshot, never by what the agent wrote (an 8 GB sparse file, or 1,200 of 16 MiB, cost nothing).
    const sizes = blobSizes(store, tree);
    const unread = files.filter((f) => {
      const st = lstatSync(path.join(dir, f));
      return st.isFile() && sizes.get(f) !== st.size;
    });
    const skip = new Set(unread);
    git(
      store,
      ["update-index", "-z", "--add", "--remove", "--replace", "--stdin"],
      { ...env, workTree: dir },
      z(files.filter((f) => !skip.has(f))),
    );
    const after = git(store, ["write-tree"], env).trim();
    const changed = git(store, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", tree, after], env)
      .split("\0")
      .filter(Boolean)
      .concat(unread);
    const existed = new Set(inTree);
    const old = changed.filter((p) => existed.has(p));
    if (old.length) {
      mkdirSync(before, { recursive: true });
      git(store, ["read-tree", tree], env);
      git(store, ["checkout-index", "-f", "-z", "--stdin"], { ...env, workTree: before }, z(old));
    }
    return changed.sort();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Pins `tree` for a run, so gc keeps it. */
export function pinTree(store: string, runId: string, tree: string): void {
  git(store, ["update-ref", `refs/runs/${runId}`, tree]);
}

/**
 * Unpins the runs not in `keep`, drops workspace indexes whose last tree is no longer pinned, and
 * deletes every object no pinned tree reaches. Returns the bytes the store shrank by.
 * The caller holds the home lock, so no snapshot is between writing its objects and its pin.
 */
export function gcStore(store: string, keep: Set<string>): number {
  if (!existsSync(path.join(store, "HEAD"))) return 0;
  const before = folderBytes(store);
  const refs = git(store, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/runs/"])
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ") as [string, string]);
  const pinned = new Set<string>();
  for (const [ref, id] of refs) {
    if (keep.has(ref.slice("refs/runs/".length))) pinned.add(id);
    else git(store, ["update-ref", "-d", ref]);
  }
  const indexes = path.join(store, "indexes");
  for (const name of existsSync(indexes) ? readdirSync(indexes) : []) {
    if (!name.endsWith(".tree")) continue;
    const tree = readFileSync(path.join(indexes, name), "utf8").trim();
    if (!pinned.has(tree)) {
      rmSync(path.join(indexes, name), { force: true });
      rmSync(path.join(indexes, name.slice(0, -".tree".length)), { force: true });
    }
  }
  git(store, ["prune", "--expire=now"]);
  git(store, ["prune-packed"]);
  return Math.max(0, before - folderBytes(store));
}

/** Bytes on disk of a folder (allocated blocks, as `du` counts them). */
export function folderBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p, { throwIfNoEntry: false });
        if (st) total += st.blocks * 512;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

const z = (paths: string[]) => paths.map((p) => `${p}\0`).join("");
