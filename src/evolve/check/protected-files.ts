import path from "node:path";
import { isTestFile } from "./staged-sources.ts";

/**
 * The files that judge a candidate: the head's tests, their snapshots and the test/type
 * configuration. The gate runs the head's versions of them unchanged against the candidate's
 * code; a candidate may add tests (and snapshots of its new tests), and any other change to
 * them is a "test change" that needs the user's explicit consent.
 */
export type ProtectedKind = "test" | "snapshot" | "config";

const CONFIG =
  /(^|\/)(tsconfig[^/]*\.json|jsconfig\.json|package\.json|\.npmrc|(vitest|vite)\.(config|workspace)\.[^/]+|vitest\.setup\.[^/]+|setup-?tests?\.[^/]+|\.gitignore|\.gitattributes)$/;

export function protectedKind(file: string): ProtectedKind | null {
  if (!file.startsWith("agent-src/")) return "config";
  if (/(^|\/)__snapshots__\//.test(file)) return "snapshot";
  // Test helpers, fixtures and mocks judge as much as the test files that use them.
  if (isTestFile(file) || /\/(test|tests|__tests__|__mocks__|fixtures|__fixtures__)\//.test(file))
    return "test";
  if (CONFIG.test(file)) return "config";
  return null;
}

/** `agent-src/test/__snapshots__/x.test.ts.snap` -> `agent-src/test/x.test.ts`. */
const testOfSnapshot = (file: string) =>
  path.posix.join(
    path.posix.dirname(path.posix.dirname(file)),
    path.posix.basename(file).replace(/\.snap$/, ""),
  );

export interface ProtectedDiff {
  /** What the candidate changes of the judging files, for the user ("modifies agent-src/test/x.test.ts"). */
  changes: string[];
  /** Paths to restore from HEAD in the gate tree. */
  restore: string[];
  /** Paths the candidate added that the gate tree leaves out. */
  drop: string[];
}

/**
 * Sorts a candidate's changed paths (`git diff --name-status --no-renames HEAD`: status, path)
 * into test changes, and what the gate restores or leaves out to judge with the head's files.
 */
export function protectedDiff(entries: Array<{ status: string; file: string }>): ProtectedDiff {
  const added = new Set(entries.filter((e) => e.status === "A").map((e) => e.file));
  const out: ProtectedDiff = { changes: [], restore: [], drop: [] };
  for (const { status, file } of entries) {
    const kind = protectedKind(file);
    if (!kind) continue;
    if (status === "A") {
      if (kind === "test") continue;
      if (kind === "snapshot" && added.has(testOfSnapshot(file))) continue;
      out.changes.push(
        `adds ${file} (${kind === "snapshot" ? "a snapshot of an existing test" : "test/type configuration"})`,
      );
      out.drop.push(file);
    } else {
      out.changes.push(
        `${status === "D" ? "deletes" : "modifies"} ${file} (${kind === "config" ? "test/type configuration" : `an existing ${kind}`})`,
      );
      out.restore.push(file);
    }
  }
  return out;
}

/** Parses `git diff --name-status -z --no-renames` output. */
export function parseNameStatus(z: string): Array<{ status: string; file: string }> {
  const parts = z.split("\0").filter(Boolean);
  const out: Array<{ status: string; file: string }> = [];
  for (let i = 0; i + 1 < parts.length; i += 2)
    out.push({ status: parts[i]!.charAt(0), file: parts[i + 1]! });
  return out;
}
