import { existsSync, readFileSync } from "node:fs";
import type { ExitReason } from "../contract/index.ts";
import { type EvalPlan, evalDir, type TrialResult } from "../eval/eval-store.ts";
import { trialTranscript } from "../eval/run-eval.ts";
import { shuffled } from "../eval/stats.ts";
import { buildEvidence } from "../evolve/propose/evidence.ts";

/**
 * The failure batch of a generation: up to `size` train tasks that failed on the head (fewest
 * passes first, ties in seeded order). Holdout tasks are never candidates: the patcher must
 * not learn from them.
 */
export function pickBatch(plan: EvalPlan, results: TrialResult[], size: number, seed: number): string[] {
  const train = plan.tasks.filter((t) => t.split === "train");
  const failing = train
    .map((t) => {
      const mine = results.filter((r) => r.agent === "head" && r.taskId === t.id && r.status === "scored");
      return { id: t.id, n: mine.length, passes: mine.filter((r) => r.passed).length };
    })
    .filter((t) => t.n > 0 && t.passes < t.n);
  return shuffled(failing, seed)
    .sort((a, b) => a.passes / a.n - b.passes / b.n)
    .slice(0, size)
    .map((t) => t.id);
}

/**
 * What the patcher sees: for each task of the batch, its first failing trial (task, outcome, the
 * agent's steps, the check's output, the diff), one after the other, so one patch can address
 * the weakness they share.
 */
export function batchEvidence(home: string, plan: EvalPlan, results: TrialResult[], batch: string[]): string {
  const parts = batch.map((taskId, i) => {
    const task = plan.tasks.find((t) => t.id === taskId);
    const trial = results
      .filter((r) => r.agent === "head" && r.taskId === taskId && r.status === "scored" && !r.passed)
      .sort((a, b) => a.trial - b.trial)[0];
    if (!task || !trial) return "";
    const file = trialTranscript(evalDir(home, plan.evalId), trial.key);
    const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
    let checkOutput = "";
    let diff = "";
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as { type?: string; output?: string; patch?: string };
        if (e.type === "check") checkOutput = e.output ?? "";
        if (e.type === "diff") diff = e.patch ?? "";
      } catch {
        // A torn line from a killed trial says nothing.
      }
    }
    const text = buildEvidence(
      home,
      {
        runId: trial.key,
        task: task.prompt,
        score: trial.score,
        threshold: task.threshold,
        exitReason: trial.exitReason as ExitReason,
        ...(trial.detail ? { detail: trial.detail } : {}),
        turns: trial.turns,
        rationale: trial.rationale,
        check: task.check ?? null,
        checkOutputTail: checkOutput,
        diff,
      },
      file,
    );
    return `# Failure ${i + 1} of ${batch.length}\n\n${text}`;
  });
  return [
    `The agent failed ${batch.length} task(s) of a suite. Find the weakness of the agent they share and fix it once, in agent-src/; do not special-case any one task.`,
    ...parts.filter(Boolean),
  ].join("\n\n");
}
