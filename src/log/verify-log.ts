import path from "node:path";
import { headBranch } from "../git/ratchet.ts";
import { git } from "../git/repo.ts";
import { readLog, verifyChain } from "./evolution-log.ts";

export interface MossCommit {
  commit: string;
  parents: string[];
  trailers: Record<string, string>;
}

/** Commits on the head branch that carry moss trailers, newest first. */
export async function mossCommits(home: string): Promise<MossCommit[]> {
  const branch = await headBranch(home);
  const out = await git(home).raw(["log", "--format=%H %P%n%(trailers:only,unfold)%x00", branch]);
  return out
    .split("\0")
    .map((chunk) => chunk.trim())
    .filter(Boolean)
    .map((chunk) => {
      const [first, ...lines] = chunk.split("\n");
      const [commit, ...parents] = (first ?? "").split(" ");
      const trailers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(": ");
        if (i > 0) trailers[l.slice(0, i)] = l.slice(i + 2);
      }
      return { commit: commit!, parents, trailers };
    });
}

/** The commit that landed evolution record `id`, if any. */
export async function commitOfRecord(home: string, id: string): Promise<MossCommit | undefined> {
  return (await mossCommits(home)).find((c) => c.trailers["Moss-Evolution-Id"] === id);
}

/**
 * Verifies the log: the hash chain holds, and every accepted record's commit exists on the head
 * branch, has the record's parent, and changed agent-src by exactly the record's diff.
 */
export async function verifyLog(home: string): Promise<{ ok: boolean; checked: number; problems: string[] }> {
  const entries = readLog(home);
  const problems = verifyChain(entries);
  const commits = await mossCommits(home);
  for (const { record, file } of entries) {
    if (record.verdict !== "accepted") continue;
    const name = path.basename(file);
    const c = commits.find((x) => x.trailers["Moss-Evolution-Id"] === record.id);
    if (!c) {
      problems.push(
        `${name}: accepted, but no commit on the head branch carries Moss-Evolution-Id: ${record.id}`,
      );
      continue;
    }
    if (c.parents[0] !== record.parentCommit)
      problems.push(`${name}: its commit's parent is not the recorded parent`);
    const actual = await git(home).raw([
      "diff",
      "--no-color",
      "--no-ext-diff",
      record.parentCommit,
      c.commit,
      "--",
      "agent-src",
    ]);
    if (actual !== record.diff)
      problems.push(`${name}: the diff of commit ${c.commit.slice(0, 10)} differs from the recorded diff`);
  }
  return { ok: problems.length === 0, checked: entries.length, problems };
}
