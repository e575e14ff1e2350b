import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { showName } from "./apply-names.ts";
import { type Entry, entryWithin, readHead, sameEntry } from "./entry.ts";
import { listWorkspaceFiles } from "./file-list.ts";

export interface FileChange {
  path: string;
  kind: "added" | "modified" | "deleted";
}

export interface TreeDiff {
  changes: FileChange[];
  /** A unified diff (git style paths a/ and b/), empty when nothing changed. */
  patch: string;
}

/**
 * Bounds on the diff, so that what an agent writes can never make the harness slow or huge: a
 * file over `fileBytes` is reported as changed with its size, never read; jsdiff gives up past
 * `maxEditLength` or `fileMs` and the file is shown as a whole rewrite; past `totalMs` every
 * further file is shown as a whole rewrite; past `patchBytes` of diff text, files are only named.
 */
export const DIFF_BOUNDS = {
  fileBytes: 1024 * 1024,
  maxEditLength: 500,
  fileMs: 200,
  totalMs: 5000,
  patchBytes: 8 * 1024 * 1024,
};

/**
 * What the attempt changed: the scratch copy against the snapshot it started from. With `only`,
 * just those paths are compared (`before` then holds just their old versions, when they had one).
 * Only lstat is used to learn what a path is; FIFOs, sockets and devices are reported, never
 * opened. Content and the owner-execute bit count as changes; other mode bits do not (apply-back
 * never copies them).
 */
export function diffTrees(before: string, after: string, only?: string[], bounds = DIFF_BOUNDS): TreeDiff {
  const present = (dir: string) => (p: string) => {
    const kind = entryWithin(dir, p)?.kind;
    return kind === "file" || kind === "link";
  };
  const a = new Set(only ? only.filter(present(before)) : listWorkspaceFiles(before));
  // A file of `before` still in `after` is there, even when the agent's .gitignore now hides it.
  const b = new Set(
    only ? only.filter(present(after)) : [...listWorkspaceFiles(after), ...[...a].filter(present(after))],
  );
  const changes: FileChange[] = [];
  const patches: string[] = [];
  const started = Date.now();
  let patchBytes = 0;
  for (const rel of [...new Set([...a, ...b])].sort()) {
    const left = a.has(rel) ? entryWithin(before, rel) : null;
    // git does not list FIFOs or sockets: one that replaced a listed file must still be seen.
    const found = entryWithin(after, rel);
    const right = b.has(rel) || found?.kind === "special" ? found : null;
    if (left !== null && right !== null && sameEntry(path.join(before, rel), path.join(after, rel))) continue;
    const kind = left === null ? "added" : right === null ? "deleted" : "modified";
    changes.push({ path: rel, kind });
    const text =
      patchBytes > bounds.patchBytes
        ? `diff --git a/${showName(rel)} b/${showName(rel)}\n(not shown: the diff is over ${bounds.patchBytes} bytes)\n`
        : unified(rel, [path.join(before, rel), left], [path.join(after, rel), right], {
            ...bounds,
            wholeRewrite: Date.now() - started > bounds.totalMs,
          });
    patchBytes += text.length;
    patches.push(text);
  }
  return { changes, patch: patches.join("") };
}

type Side = [file: string, entry: Entry | null];

function unified(
  name: string,
  [leftFile, left]: Side,
  [rightFile, right]: Side,
  bounds: typeof DIFF_BOUNDS & { wholeRewrite: boolean },
): string {
  // A name is shown with control characters escaped: a newline in it must not forge diff lines.
  const rel = showName(name);
  const from = left === null ? "/dev/null" : `a/${rel}`;
  const to = right === null ? "/dev/null" : `b/${rel}`;
  const head = `diff --git a/${rel} b/${rel}\n${modeLines(left, right)}`;
  for (const [side, entry] of [
    ["a", left],
    ["b", right],
  ] as const) {
    if (entry?.kind === "special" || entry?.kind === "dir")
      return `${head}${side}/${rel} is ${entry.kind === "dir" ? "a folder" : entry.what}: not diffed, never applied\n`;
    if (entry?.kind === "file" && entry.size > bounds.fileBytes)
      return `${head}Large files ${from} (${sizeOf(left)} bytes) and ${to} (${sizeOf(right)} bytes) differ: not diffed\n`;
  }
  const l = contentOf(leftFile, left);
  const r = contentOf(rightFile, right);
  if (l.includes(0) || r.includes(0)) return `${head}Binary files ${from} and ${to} differ\n`;
  const [ls, rs] = [l.toString("utf8"), r.toString("utf8")];
  if (ls === rs) return head;
  const body = bounds.wholeRewrite
    ? undefined
    : createTwoFilesPatch(from, to, ls, rs, undefined, undefined, {
        context: 3,
        maxEditLength: bounds.maxEditLength,
        timeout: bounds.fileMs,
      });
  // Drop jsdiff's "====" line; keep ---/+++ and hunks.
  return `${head}${body === undefined ? wholeRewrite(from, to, ls, rs) : body.split("\n").slice(1).join("\n")}`;
}

const sizeOf = (e: Entry | null) => (e?.kind === "file" ? e.size : 0);

/** A file's bytes (at most DIFF_BOUNDS.fileBytes, checked before), or a symlink as one line of text. */
function contentOf(file: string, entry: Entry | null): Buffer {
  if (entry?.kind === "link") return Buffer.from(`symlink -> ${entry.target}`);
  if (entry?.kind === "file") return readHead(file, entry.size);
  return Buffer.alloc(0);
}

function modeLines(left: Entry | null, right: Entry | null): string {
  const mode = (e: Entry | null) => (e?.kind === "file" ? (e.mode & 0o100 ? "100755" : "100644") : null);
  const [m1, m2] = [mode(left), mode(right)];
  if (left === null && m2) return `new file mode ${m2}\n`;
  if (right === null && m1) return `deleted file mode ${m1}\n`;
  return m1 && m2 && m1 !== m2 ? `old mode ${m1}\nnew mode ${m2}\n` : "";
}

/** One hunk that removes every old line and adds every new one: linear, for any size. */
function wholeRewrite(from: string, to: string, before: string, after: string): string {
  const lines = (text: string, sign: string) => {
    if (text === "") return { count: 0, body: "" };
    const parts = text.split("\n");
    const complete = parts.at(-1) === "";
    if (complete) parts.pop();
    return {
      count: parts.length,
      body: parts.map((p) => `${sign}${p}\n`).join("") + (complete ? "" : "\\ No newline at end of file\n"),
    };
  };
  const [old, neu] = [lines(before, "-"), lines(after, "+")];
  const range = (n: number) => `${n === 0 ? 0 : 1},${n}`;
  return `--- ${from}\n+++ ${to}\n@@ -${range(old.count)} +${range(neu.count)} @@\n${old.body}${neu.body}`;
}
