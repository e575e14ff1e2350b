import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Tally } from "../eval/eval-summary.ts";
import type { ReportData, ReportEval } from "./report-data.ts";

/** HTML-escapes text from agents, tasks, models and users: nothing in it can become markup. */
export function esc(text: unknown): string {
  return String(text ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** JSON for a <script type="application/json"> block: no `</script>` or comment opener can appear. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/** Chart.js's UMD build, read from the installed package and inlined (the report loads nothing). */
function chartLibrary(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");
  const code = readFileSync(path.join(path.dirname(main), "chart.umd.min.js"), "utf8");
  return code.replace(/<\/script/gi, "<\\/script");
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(0)}%`);
const ci = (t: Tally) => `${(t.interval.low * 100).toFixed(0)}–${(t.interval.high * 100).toFixed(0)}%`;
const usd = (n: number) => `$${n.toFixed(4)}`;

/**
 * One self-contained HTML file: evals over time (pass@1 with 95% intervals), per-task pass rates
 * (a task x eval heatmap per suite), cost per eval, and the evolution history with each diff.
 * Every piece of text from the home is escaped; the chart library is inlined.
 */
export function renderReport(data: ReportData): string {
  const bySuite = new Map<string, ReportEval[]>();
  // The heatmap and the trend show measurements of one agent; paired comparisons (--against, an
  // evolve cascade) are listed in the table only.
  for (const e of data.evals) {
    if (e.summary.agents.length > 1) continue;
    bySuite.set(e.plan.suite.name, [...(bySuite.get(e.plan.suite.name) ?? []), e]);
  }
  const campaignData = data.campaigns.map((c) => ({
    labels: c.generations.map((g) => `gen ${g.n}${g.final ? " (final)" : ""}`),
    train: c.generations.map((g) => g.train?.pass1 ?? null),
    trainLow: c.generations.map((g) => (g.train?.n ? g.train.interval.low : null)),
    trainHigh: c.generations.map((g) => (g.train?.n ? g.train.interval.high : null)),
    holdout: c.generations.map((g) => (g.holdout?.n ? g.holdout.pass1 : null)),
    holdoutLow: c.generations.map((g) => (g.holdout?.n ? g.holdout.interval.low : null)),
    holdoutHigh: c.generations.map((g) => (g.holdout?.n ? g.holdout.interval.high : null)),
    cost: c.generations.map((g) => g.costUsd),
  }));
  const chartData = {
    labels: data.evals.map((e) => `${e.plan.evalId.slice(0, 15)}`),
    suites: [...bySuite.keys()],
    points: data.evals.map((e) => {
      const head = e.summary.agents[0];
      return {
        suite: e.plan.suite.name,
        pass1: head?.all.pass1 ?? null,
        low: head?.all.interval.low ?? null,
        high: head?.all.interval.high ?? null,
        cost: e.summary.agents.reduce((a, x) => a + x.all.costUsd, 0),
      };
    }),
  };
  const evolutionCost = data.evolution.reduce((a, r) => a + r.costUsd, 0);
  const evalCost = chartData.points.reduce((a, p) => a + p.cost, 0);

  const evalRows = data.evals
    .map((e) => {
      const h = e.summary.agents[0];
      if (!h) return "";
      return `<tr><td><code>${esc(e.plan.evalId)}</code></td><td>${esc(e.plan.createdAt.slice(0, 19).replace("T", " "))}</td><td>${esc(e.plan.suite.name)}</td><td>${esc(e.plan.purpose ?? "")}</td><td class="n">${e.summary.done}/${e.summary.planned}</td><td class="n">${pct(h.all.pass1)}</td><td class="n">${ci(h.all)}</td><td class="n">${pct(h.all.passK)}</td><td class="n">${h.holdout.n ? pct(h.holdout.pass1) : "–"}</td><td class="n">${usd(h.all.costUsd)}</td><td class="n">${h.all.tokens}</td></tr>`;
    })
    .join("\n");

  const heatmaps = [...bySuite.entries()]
    .map(([suite, evals]) => {
      const taskIds = [
        ...new Set(evals.flatMap((e) => e.summary.agents[0]?.tasks.map((t) => t.taskId) ?? [])),
      ];
      const head = `<tr><th>task</th>${evals.map((e) => `<th title="${esc(e.plan.evalId)}">${esc(e.plan.createdAt.slice(5, 16).replace("T", " "))}</th>`).join("")}</tr>`;
      const rows = taskIds.map((id) => {
        const cells = evals.map((e) => {
          const t = e.summary.agents[0]?.tasks.find((x) => x.taskId === id);
          if (!t || t.n === 0) return `<td class="cell none">–</td>`;
          const rate = t.passes / t.n;
          return `<td class="cell" style="background:hsl(${Math.round(rate * 120)},70%,80%)">${t.passes}/${t.n}</td>`;
        });
        const split = evals.at(-1)?.summary.agents[0]?.tasks.find((x) => x.taskId === id)?.split ?? "";
        return `<tr><td>${esc(id)}${split === "holdout" ? ' <span class="tag">holdout</span>' : ""}</td>${cells.join("")}</tr>`;
      });
      return `<h3>${esc(suite)}</h3><div class="scroll"><table class="heat">${head}${rows.join("")}</table></div>`;
    })
    .join("\n");

  const campaignSections = data.campaigns
    .map((c, i) => {
      const rows = c.generations
        .map(
          (g) =>
            `<tr class="${esc(g.verdict ?? "")}"><td>${g.n}${g.final ? " (final)" : ""}</td><td><code>${esc(g.headCommit.slice(0, 10))}</code></td><td class="n">${g.train ? `${g.train.passes}/${g.train.n} · ${pct(g.train.pass1)} [${ci(g.train)}]` : "–"}</td><td class="n">${g.holdout?.n ? `${g.holdout.passes}/${g.holdout.n} · ${pct(g.holdout.pass1)} [${ci(g.holdout)}]` : "–"}</td><td>${esc(g.batch.join(", "))}</td><td><b>${esc(g.final ? "measured" : (g.verdict ?? "–"))}</b></td><td>${esc(g.reason)}</td><td class="n">${usd(g.costUsd)}</td></tr>`,
        )
        .join("\n");
      return `<h3>${esc(c.campaignId)} · ${esc(c.suite)} · ${esc(c.status)}</h3><p class="sub">${esc(c.stopReason)} · patcher spend ${usd(c.patcherCostUsd)}</p>
<div class="charts"><div><canvas id="campaign-${i}" height="200"></canvas></div><div><canvas id="campaign-cost-${i}" height="200"></canvas></div></div>
<table><tr><th>generation</th><th>head</th><th>train pass@1 [95% CI]</th><th>holdout pass@1 [95% CI]</th><th>failure batch</th><th>verdict</th><th>reason</th><th>eval cost</th></tr>${rows}</table>`;
    })
    .join("\n");

  const evolutionRows = data.evolution
    .map(
      (r) =>
        `<tr class="${esc(r.verdict)}"><td>${esc(r.time.slice(0, 19).replace("T", " "))}</td><td>${esc(r.kind)}</td><td><b>${esc(r.verdict)}</b></td><td>${esc(r.task ?? "")}</td><td>${esc(r.reason)}</td><td class="n">${usd(r.costUsd)}</td><td>${r.diff ? `<details><summary>diff</summary><pre>${esc(r.diff)}</pre></details>` : ""}</td></tr>`,
    )
    .join("\n");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>moss report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f23}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.cell{text-align:center;min-width:3.5rem}.none{color:#aaa}
.scroll{overflow-x:auto}pre{white-space:pre-wrap;max-height:30rem;overflow:auto;background:#f6f8fa;padding:.5rem}
tr.accepted td:nth-child(3){color:#1a7f37}tr.rejected td:nth-child(3){color:#cf222e}tr.pending td:nth-child(3){color:#9a6700}
.tag{font-size:11px;background:#ddf4ff;border-radius:3px;padding:0 .3rem}.charts{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.warn{color:#9a6700}
</style></head><body>
<h1>moss report</h1>
<p class="sub">home <code>${esc(data.home)}</code> · generated ${esc(data.generatedAt)} · ${data.evals.length} eval(s), ${data.evolution.length} evolution record(s) · spent ${usd(evalCost)} on evals, ${usd(evolutionCost)} on evolution</p>
${data.unreadable.length ? `<p class="warn">not shown (unreadable): ${data.unreadable.map(esc).join("; ")}</p>` : ""}
<h2>Evals over time</h2>
<div class="charts"><div><canvas id="passChart" height="220"></canvas></div><div><canvas id="costChart" height="220"></canvas></div></div>
<table><tr><th>eval</th><th>started</th><th>suite</th><th>purpose</th><th>trials</th><th>pass@1</th><th>95% CI</th><th>pass^k</th><th>holdout</th><th>cost</th><th>tokens</th></tr>
${evalRows || '<tr><td colspan="11">no evals yet: run <code>moss eval SUITE</code></td></tr>'}
</table>
<h2>Evolution campaigns</h2>
${campaignSections || "<p>no campaigns yet: run <code>moss evolve SUITE</code></p>"}
<h2>Per-task pass rates</h2>
${heatmaps || "<p>no evals yet</p>"}
<h2>Evolution history</h2>
<table><tr><th>time</th><th>kind</th><th>verdict</th><th>task</th><th>reason</th><th>cost</th><th></th></tr>
${evolutionRows || '<tr><td colspan="7">no evolution attempts yet</td></tr>'}
</table>
<script type="application/json" id="report-data">${scriptJson(chartData)}</script>
<script type="application/json" id="campaign-data">${scriptJson(campaignData)}</script>
<script>${chartLibrary()}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById("report-data").textContent);
  var colors = ["#0969da", "#8250df", "#1a7f37", "#bf3989", "#9a6700", "#cf222e"];
  var sets = [];
  d.suites.forEach(function (suite, i) {
    var c = colors[i % colors.length];
    var pick = function (k) { return d.points.map(function (p) { return p.suite === suite && p[k] !== null ? p[k] * 100 : null; }); };
    sets.push({ label: suite + " pass@1 %", data: pick("pass1"), borderColor: c, backgroundColor: c, spanGaps: true });
    sets.push({ label: suite + " 95% CI low", data: pick("low"), borderColor: c, borderDash: [4, 4], pointRadius: 0, spanGaps: true });
    sets.push({ label: suite + " 95% CI high", data: pick("high"), borderColor: c, borderDash: [4, 4], pointRadius: 0, spanGaps: true });
  });
  new Chart(document.getElementById("passChart"), { type: "line", data: { labels: d.labels, datasets: sets },
    options: { animation: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "pass@1 %" } } } } });
  new Chart(document.getElementById("costChart"), { type: "bar", data: { labels: d.labels,
    datasets: [{ label: "cost per eval (USD)", data: d.points.map(function (p) { return p.cost; }), backgroundColor: "#8250df" }] },
    options: { animation: false } });
  var campaigns = JSON.parse(document.getElementById("campaign-data").textContent);
  campaigns.forEach(function (c, i) {
    var pctOf = function (xs) { return xs.map(function (x) { return x === null ? null : x * 100; }); };
    var band = function (label, xs, color) { return { label: label, data: pctOf(xs), borderColor: color, borderDash: [4, 4], pointRadius: 0, spanGaps: true }; };
    new Chart(document.getElementById("campaign-" + i), { type: "line", data: { labels: c.labels, datasets: [
      { label: "train pass@1 %", data: pctOf(c.train), borderColor: "#0969da", backgroundColor: "#0969da", spanGaps: true },
      band("train 95% CI low", c.trainLow, "#0969da"), band("train 95% CI high", c.trainHigh, "#0969da"),
      { label: "holdout pass@1 %", data: pctOf(c.holdout), borderColor: "#1a7f37", backgroundColor: "#1a7f37", spanGaps: true },
      band("holdout 95% CI low", c.holdoutLow, "#1a7f37"), band("holdout 95% CI high", c.holdoutHigh, "#1a7f37")] },
      options: { animation: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "pass@1 %" } } } } });
    new Chart(document.getElementById("campaign-cost-" + i), { type: "bar", data: { labels: c.labels,
      datasets: [{ label: "eval cost per generation (USD)", data: c.cost, backgroundColor: "#8250df" }] }, options: { animation: false } });
  });
})();
</script>
</body></html>
`;
}
