import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { commitIn, moveHead, readRef } from "../../git/ratchet.ts";
import { git } from "../../git/repo.ts";
import { createWorktree, type Worktree } from "../../git/worktree.ts";
import { appendRecord, logDir } from "../../log/evolution-log.ts";
import type { EvolutionRecord } from "../../log/evolution-record.ts";
import { faultPoint } from "../../log/fault-point.ts";
import { withHomeLock } from "../../log/home-lock.ts";
import { type CandidatePolicy, checkCandidate } from "../check/candidate-policy.ts";
import type { RecordDraft } from "./record-draft.ts";

export type { RecordDraft } from "./record-draft.ts";

export interface PromoteInput {
  home: string;
  branch: string;
  /** The worktree holding the candidate, staged on top of `draft.parentCommit`. */
  worktree: Worktree;
  draft: RecordDraft;
  /** The commit's subject line; the first line of the draft's rationale by default. */
  subject?: string;
  trailers: Record<string, string>;
  /** How the candidate is re-checked when the head moved since it was built. */
  policy: CandidatePolicy;
}

export type PromoteResult =
  | { ok: true; commit: string; record: EvolutionRecord }
  | { ok: false; reason: string; record: RecordDraft };

/**
 * Lands a candidate on the head, holding the home lock throughout. When the head moved since the
 * candidate was built, the diff is re-applied to the new head and re-gated first. The commit
 * carries the patch and its log record; the ref moves by compare-and-swap.
 */
export function promoteCandidate(input: PromoteInput): Promise<PromoteResult> {
  return withHomeLock(input.home, () => promoteLocked(input));
}

async function promoteLocked(input: PromoteInput): Promise<PromoteResult> {
  const { home, branch } = input;
  let draft = input.draft;
  let wt = input.worktree;
  let moved: Worktree | undefined;
  try {
    const head = await readRef(home, branch);
    if (head !== draft.parentCommit) {
      moved = await createWorktree(home, head);
      wt = moved;
      const applied = await applyDiff(wt.dir, draft.diff);
      if (applied)
        return {
          ok: false,
          reason: `the head moved and the patch no longer applies: ${applied}`,
          record: draft,
        };
      const checked = await checkCandidate(wt.dir, input.policy);
      draft = { ...draft, parentCommit: head, diff: checked.diff, scope: checked.scope, gate: checked.gate };
      if (checked.failure) {
        return {
          ok: false,
          reason: `re-gated against the new head ${head.slice(0, 10)} and failed: ${checked.failure}`,
          record: draft,
        };
      }
    }
    faultPoint("promote:start");
    carryRejectedRecords(home, wt.dir);
    const entry = appendRecord(home, draft, wt.dir);
    const trailers = { ...input.trailers, "Moss-Evolution-Id": draft.id };
    const subject = input.subject ?? `moss: ${(draft.rationale.split("\n")[0] ?? "").slice(0, 72)}`;
    const message = [
      subject,
      "",
      draft.rationale,
      "",
      ...Object.entries(trailers).map(([k, v]) => `${k}: ${v}`),
    ].join("\n");
    const commit = await commitIn(wt.dir, ["agent-src", "evolution-log"], message);
    faultPoint("promote:committed");
    await moveHead(home, branch, draft.parentCommit, commit);
    return { ok: true, commit, record: entry.record };
  } finally {
    await moved?.remove();
  }
}

/** Applies a unified diff (or its reverse) to a worktree's index and files; returns an error text, or null. */
export async function applyDiff(
  dir: string,
  diff: string,
  opts: { reverse?: boolean } = {},
): Promise<string | null> {
  const patchFile = path.join(dir, "..", `${path.basename(dir)}.patch`);
  writeFileSync(patchFile, diff);
  try {
    await git(dir).raw(["apply", "--index", ...(opts.reverse ? ["--reverse"] : []), patchFile]);
    return null;
  } catch (err) {
    return (err as Error).message.trim();
  } finally {
    rmSync(patchFile, { force: true });
  }
}

/** Rejected records wait untracked in the home; the next commit on the head takes them in. */
function carryRejectedRecords(home: string, dir: string): void {
  const from = logDir(home);
  const to = logDir(dir);
  mkdirSync(to, { recursive: true });
  if (!existsSync(from)) return;
  for (const f of readdirSync(from)) {
    if (f.endsWith(".json") && !existsSync(path.join(to, f)))
      copyFileSync(path.join(from, f), path.join(to, f));
  }
}
