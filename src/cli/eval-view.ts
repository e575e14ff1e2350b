import chalk from "chalk";
import type { EvalPlan } from "../eval/eval-store.ts";
import type { EvalSummary, Tally } from "../eval/eval-summary.ts";
import type { EvalEvent } from "../eval/run-eval.ts";
import { fmtUsd } from "./format.ts";
import { sanitize } from "./sanitize.ts";

/**
 * Progress of an eval: on a terminal a live table (task, trials done, passes, cost so far, ETA)
 * redrawn in place; otherwise one plain line per finished trial. Writes to `out` (stderr).
 */
export function createEvalView(
  plan: EvalPlan,
  opts: { tty: boolean; out: (s: string) => void; alreadyDone: number },
) {
  const t0 = Date.now();
  const rows = new Map(plan.tasks.map((t) => [t.id, { done: 0, passes: 0, errors: 0, running: 0, cost: 0 }]));
  const perTask = plan.order.length / Math.max(1, plan.tasks.length);
  let finished = 0;
  let drawn = 0;
  let note = "";
  const total = plan.order.length;
  const eta = () => {
    const left = total - opts.alreadyDone - finished;
    if (!finished || left <= 0) return "–";
    return fmtMs(((Date.now() - t0) / finished) * left);
  };
  const draw = () => {
    if (!opts.tty) return;
    const lines = [
      chalk.bold(`${"task".padEnd(28)} ${"done".padStart(9)} ${"passes".padStart(7)} ${"cost".padStart(9)}`),
    ];
    let cost = 0;
    for (const [id, r] of rows) {
      cost += r.cost;
      // Padded as plain text: color codes inside padStart would shift the columns.
      const done = `${r.done}/${perTask}${r.running ? ` +${r.running}` : ""}`;
      lines.push(
        `${id.slice(0, 28).padEnd(28)} ${done.padStart(9)} ${String(r.passes).padStart(7)} ${fmtUsd(r.cost).padStart(9)}${r.errors ? chalk.yellow(`  ${r.errors} error(s)`) : ""}`,
      );
    }
    lines.push(
      chalk.dim(
        `${opts.alreadyDone + finished}/${total} trials · ${fmtUsd(cost)} so far · ETA ${eta()}${note ? ` · ${note}` : ""}`,
      ),
    );
    opts.out(`${drawn ? `\x1b[${drawn}A\x1b[J` : ""}${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  const timer = opts.tty ? setInterval(draw, 1000) : null;
  timer?.unref();
  return {
    onEvent(event: EvalEvent) {
      if (event.type === "prepare") {
        if (!opts.tty) opts.out(`preparing ${event.taskId}\n`);
      } else if (event.type === "already_passes") {
        opts.out(`note: ${event.taskId} already passes its check before the agent starts\n`);
      } else if (event.type === "start") {
        const r = rows.get(event.taskId);
        if (r) r.running++;
      } else if (event.type === "finish") {
        const res = event.result;
        const r = rows.get(res.taskId);
        if (r) {
          r.running--;
          if (res.status === "scored") r.done++;
          else r.errors++;
          if (res.passed && res.status === "scored") r.passes++;
          r.cost += res.costUsd;
        }
        finished++;
        if (!opts.tty) {
          const verdict = res.status === "error" ? "ERROR" : res.passed ? "PASS" : "FAIL";
          opts.out(
            `[${opts.alreadyDone + finished}/${total}] ${res.agent === "head" ? "" : `${res.agent} `}${res.taskId} #${res.trial + 1} ${verdict} ${res.score.toFixed(2)} ${fmtUsd(res.costUsd)} ${fmtMs(res.ms)}${res.status === "error" ? ` (${sanitize(`${res.exitReason}: ${(res.detail ?? "").slice(0, 120)}`)})` : ""} · ETA ${eta()}\n`,
          );
        }
      } else if (event.type === "budget_stop") {
        note = `budget ${fmtUsd(event.budgetUsd)} reached: no new trials`;
        if (!opts.tty) {
          opts.out(
            `budget: ${fmtUsd(event.spentUsd)} spent of ${fmtUsd(event.budgetUsd)}; starting no new trials (${event.remaining} left)\n`,
          );
        }
      }
      draw();
    },
    close() {
      if (timer) clearInterval(timer);
      draw();
    },
  };
}

const pct = (x: number | null) => (x === null ? "   –" : `${(x * 100).toFixed(0).padStart(3)}%`);
const range = (t: Tally) => `[${(t.interval.low * 100).toFixed(0)}–${(t.interval.high * 100).toFixed(0)}%]`;

/** The end-of-eval table: per task and in all, for each agent. */
export function formatSummary(summary: EvalSummary): string {
  const out: string[] = [];
  for (const agent of summary.agents) {
    out.push(
      chalk.bold(
        `\n${agent.label}${agent.commit ? ` (${agent.commit.slice(0, 10)})` : ""}: ${summary.suite}, ${summary.trials} trial(s) per task, seed ${summary.seed}`,
      ),
    );
    out.push(
      chalk.dim(
        `${"task".padEnd(28)} ${"split".padEnd(7)} ${"pass@1".padStart(6)} ${"95% CI".padEnd(11)} ${`pass^${summary.trials}`.padStart(7)} ${"n".padStart(3)} ${"err".padStart(3)} ${"cost".padStart(9)} ${"tokens".padStart(9)} ${"time".padStart(7)}`,
      ),
    );
    const row = (name: string, split: string, t: Tally) =>
      `${name.slice(0, 28).padEnd(28)} ${split.padEnd(7)} ${pct(t.pass1).padStart(6)} ${range(t).padEnd(11)} ${pct(t.passK).padStart(7)} ${String(t.n).padStart(3)} ${String(t.errors).padStart(3)} ${fmtUsd(t.costUsd).padStart(9)} ${String(t.tokens).padStart(9)} ${fmtMs(t.ms).padStart(7)}`;
    for (const t of agent.tasks) out.push(row(t.taskId, t.split, t));
    if (agent.holdout.n + agent.holdout.errors > 0) {
      out.push(row("train", "", agent.train));
      out.push(row("holdout", "", agent.holdout));
    }
    out.push(chalk.bold(row("all", "", agent.all)));
  }
  if (!summary.complete) out.push(chalk.yellow(`\n${summary.done} of ${summary.planned} trials done`));
  return out.join("\n");
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m${Math.round((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** Head vs the other revision, per task and in all. */
export function formatComparison(c: import("../eval/compare-agents.ts").Comparison): string {
  const out = [chalk.bold(`\nhead vs against, paired by trial (paired sequential rule; p: exact sign test)`)];
  out.push(
    chalk.dim(
      `${"task".padEnd(28)} ${"pairs".padStart(5)} ${"head".padStart(5)} ${"against".padStart(7)} ${"p".padStart(6)}  verdict`,
    ),
  );
  for (const t of [...c.tasks, c.all]) {
    const line = `${t.taskId.slice(0, 28).padEnd(28)} ${String(t.pairs).padStart(5)} ${String(t.headPasses).padStart(5)} ${String(t.againstPasses).padStart(7)} ${t.pValue.toFixed(3).padStart(6)}  ${t.verdict}`;
    out.push(t === c.all ? chalk.bold(line) : line);
  }
  return out.join("\n");
}
