import { createInterface } from "node:readline/promises";
import type { Consent } from "../evolve/cycle.ts";
import { evolve } from "../evolve/cycle.ts";
import type { Depth } from "../evolve/propose/patcher-schemas.ts";
import { runTask } from "../run/run-task.ts";
import { errChalk } from "./color.ts";
import { colorDiff } from "./format.ts";
import { formatReviewNotes } from "./review-notes.ts";
import type { EvolutionSummary, EvolveHook } from "./run-command.ts";
import { printSummary } from "./run-summary.ts";
import { sanitize } from "./sanitize.ts";

export interface EvolveFlags {
  depth: Depth;
  yes: boolean;
  patcherCmd?: string;
  trials?: number;
}

/**
 * What the consent prompt shows of a candidate: its diff, sanitized then colored (a candidate
 * cannot hide or rewrite its own lines with escape sequences), the review notes and the scores.
 */
export function consentPrompt({ diff, before, after, scope, gate }: Parameters<Consent>[0]): string {
  const notes = formatReviewNotes(scope, gate, diff);
  return `\n${colorDiff(diff.trimEnd())}\n\n${notes ? `${notes}\n\n` : ""}score on the failed task: ${before} -> ${after.join(", ")}\n`;
}

/** A terminal prompt when there is a terminal, else null (the candidate is kept pending). */
export function consentFor(yes: boolean): Consent | null {
  if (yes) return async () => true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  return async (candidate) => {
    process.stderr.write(consentPrompt(candidate));
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question("Promote this change to the agent? [y/N] ");
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
  };
}

/** After a failed run: evolve the agent, and when a candidate lands, retry the task with it. */
export function makeEvolveHook(flags: EvolveFlags): EvolveHook {
  return async ({
    home,
    record,
    config,
    models,
    json,
    signal,
    sandbox,
    say: sayLine,
    onEvent,
    idle,
    apply,
  }) => {
    const say =
      sayLine ??
      (json
        ? () => {}
        : (line: string) => process.stderr.write(errChalk.magenta(`moss evolve: ${sanitize(line)}\n`)));
    if (!json) printSummary(record);
    say(`score ${record.score} is below ${record.threshold}: improving the agent (depth ${flags.depth})`);
    const outcome = await evolve({
      home,
      run: record,
      config,
      models,
      depth: flags.depth,
      consent: consentFor(flags.yes),
      // Without --yes a person decides (the prompt, or `moss apply` of a pending candidate).
      personConsents: !flags.yes,
      ...(flags.patcherCmd ? { patcherCmd: flags.patcherCmd } : {}),
      ...(flags.trials ? { trials: flags.trials } : {}),
      signal,
      say,
      sandbox,
    });
    const summary: EvolutionSummary = {
      attempts: outcome.records.map((r) => ({ id: r.id, verdict: r.verdict, reason: r.reason })),
      accepted: outcome.accepted,
      pending: outcome.pending,
      retry: null,
    };
    if (outcome.accepted && !signal.aborted) {
      say("retrying the task with the improved agent…");
      const { record: retry } = await runTask({
        home,
        task: record.task,
        workspace: record.workspace,
        check: record.check,
        rubric: record.rubric,
        config,
        models,
        apply,
        sandbox,
        signal,
        ...(onEvent ? { onEvent } : {}),
      });
      idle?.();
      summary.retry = {
        runId: retry.runId,
        score: retry.score,
        passed: retry.passed,
        conflicts: retry.applyConflicts.length + retry.applyRefused.length,
      };
      if (!json) {
        printSummary(retry);
        console.log(`score before evolution ${record.score}, after ${retry.score}`);
      }
    }
    return summary;
  };
}
