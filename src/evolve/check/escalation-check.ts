import type { FileScan } from "./capability/capability-scan.ts";
import { classifyImport, packageName } from "./capability/module-policy.ts";
import { type ScanOutcome, scanFiles } from "./capability/scan-files.ts";
import { type AgentSources, isTestFile } from "./staged-sources.ts";

/**
 * The capability check of a candidate, on the TypeScript AST of every changed agent file against
 * the head. A REVIEW AID, BEST EFFORT: it rejects the obvious and the known tricks and flags the
 * rest for the user; what agent code can reach is decided by the sandbox, never by this check.
 *
 * - violations: always rejected (harness imports, dynamic code, computed access to process or
 *   globalThis, aliases of capabilities, data: URLs, `@ts-nocheck`, unparsable code);
 * - escalations: rejected unless the user consents (`--allow-escalation`): modules outside the
 *   file's allowlist, env/network/process use, a raised limit (compared by value), a write to or
 *   alias/copy/any-cast of the limits object, file writes from agent code outside agent-src/tools/;
 * - flags: shown at consent, never decisive.
 */
export interface CapabilityReport {
  violations: string[];
  escalations: string[];
  flags: string[];
  /** Strings the candidate builds that the head did not (for the task-name check). */
  newStrings: string[];
}

/** Limits the harness hands the agent: a candidate that sets one itself is raising its own. */
const HARNESS_LIMITS = new Set([
  "maxTurns",
  "wallClockMs",
  "tokenBudget",
  "commandTimeoutMs",
  "maxOutputTokens",
]);
const OUTSIDE_PATH =
  /(^|[\s"'`(=:])(\/etc\/|\/proc\/|\/sys\/|\/root\b|\/home\/|\/dev\/tcp|~\/)|\.ssh\b|\.aws\b|\.bashrc|\.npmrc|\.netrc|\.gitconfig/;

export async function checkCapabilities(sources: AgentSources): Promise<CapabilityReport> {
  const report: CapabilityReport = { violations: [], escalations: [], flags: [], newStrings: [] };
  const changed = [...sources.staged].filter(([f, text]) => sources.head.get(f) !== text).map(([f]) => f);
  // One child process scans every head file and every changed staged file.
  const jobs = [
    ...[...sources.head].map(([path, text]) => ({ path, text, side: "head" as const })),
    ...changed.map((path) => ({ path, text: sources.staged.get(path)!, side: "staged" as const })),
  ];
  const outcomes = await scanFiles(jobs.map(({ path, text }) => ({ path, text })));
  const headScan = new Map<string, ScanOutcome>();
  const scanned = new Map<string, ScanOutcome>();
  jobs.forEach((j, i) => {
    (j.side === "head" ? headScan : scanned).set(j.path, outcomes[i]!);
  });
  const ok = (s: ScanOutcome | undefined): s is FileScan => !!s && !("error" in s);

  const headPackages = new Set<string>();
  for (const [f, s] of headScan)
    if (ok(s) && !isTestFile(f))
      for (const i of s.imports)
        if (!i.spec.startsWith(".") && !i.spec.startsWith("node:")) headPackages.add(packageName(i.spec));

  for (const file of changed) {
    const now = scanned.get(file)!;
    if (!ok(now)) {
      report.violations.push(`${file}: ${now.error}`);
      continue;
    }
    const was = headScan.get(file);
    const before = ok(was) ? was : emptyScan();
    const test = isTestFile(file);
    const allowed = new Set([...headPackages, ...(test ? ["vitest"] : [])]);
    for (const i of before.imports) {
      const v = classifyImport(i.spec, file, new Set());
      if (v.kind !== "reject") allowed.add(v.module);
    }
    for (const i of now.imports) {
      const v = classifyImport(i.spec, file, allowed);
      if (v.kind === "reject") report.violations.push(`${file}:${i.line} ${v.why}: ${v.module}`);
      else if (v.kind === "escalate" && !test)
        report.escalations.push(`escalation: ${file}:${i.line} ${v.what} (${v.module})`);
    }
    const counts = (s: FileScan) => {
      const m = new Map<string, number>();
      for (const f of s.findings) m.set(f.key, (m.get(f.key) ?? 0) + 1);
      return m;
    };
    const had = counts(before);
    const has = counts(now);
    const seen = new Set<string>();
    for (const f of now.findings) {
      if (seen.has(f.key)) continue;
      seen.add(f.key);
      if ((has.get(f.key) ?? 0) <= (had.get(f.key) ?? 0)) continue;
      // Tools act for the model's tool calls; any other agent code writing files acts on its own.
      if (f.key === "fs-write" && /^agent-src\/tools\//.test(file)) continue;
      if (f.severity === "reject") report.violations.push(`${file} ${f.text}`);
      else if (!test) report.escalations.push(`escalation: ${file} ${f.text}`);
    }
    if (now.tsNoCheck > before.tsNoCheck)
      report.violations.push(`${file} adds @ts-nocheck (turns off the typecheck the gate runs)`);
    if (now.tsIgnore > before.tsIgnore) report.flags.push(`${file} adds @ts-ignore / @ts-expect-error`);
    const old = new Set(before.strings);
    for (const s of now.strings.filter((x) => !old.has(x))) {
      report.newStrings.push(s);
      if (/^\s*data:/i.test(s))
        report.violations.push(`${file} builds a data: URL (code loaded from a string): ${s.slice(0, 60)}`);
      else if (!test && OUTSIDE_PATH.test(s))
        report.escalations.push(`escalation: ${file} reaches outside the workspace ("${s.slice(0, 60)}")`);
      if (!test && /vitest|__vitest|VITEST/.test(s))
        report.flags.push(`${file} mentions vitest (test-runner detection?)`);
    }
  }
  report.escalations.push(...raisedLimits(headScan, scanned, new Set(sources.staged.keys())));
  report.flags.push(...shadowCopies(sources, changed));
  return report;
}

function emptyScan(): FileScan {
  return { imports: [], findings: [], strings: [], limits: [], tsNoCheck: 0, tsIgnore: 0 };
}

/** Limits compared by value across all agent code: a raised one, or one no longer constant. */
function raisedLimits(
  head: Map<string, ScanOutcome>,
  changed: Map<string, ScanOutcome>,
  stagedPaths: Set<string>,
): string[] {
  const collect = (scans: Iterable<[string, ScanOutcome]>) => {
    const byName = new Map<string, { max: number; nonConstant: number }>();
    for (const [file, s] of scans) {
      if (isTestFile(file) || "error" in s) continue;
      for (const l of s.limits) {
        const e = byName.get(l.name) ?? { max: Number.NEGATIVE_INFINITY, nonConstant: 0 };
        if (l.value === null || Number.isNaN(l.value)) e.nonConstant++;
        else e.max = Math.max(e.max, l.value);
        byName.set(l.name, e);
      }
    }
    return byName;
  };
  const after = new Map(head);
  for (const [f, s] of changed) after.set(f, s);
  for (const f of head.keys()) if (!stagedPaths.has(f)) after.delete(f);
  const was = collect(head);
  const now = collect(after);
  const out: string[] = [];
  for (const [name, e] of now) {
    const old = was.get(name);
    if (old && e.max > old.max && old.max > Number.NEGATIVE_INFINITY)
      out.push(`escalation: raises the agent's own limit (${name}: ${old.max} -> ${e.max})`);
    else if (old && old.nonConstant === 0 && e.nonConstant > 0)
      out.push(`escalation: the limit ${name} is no longer a constant (its value cannot be compared)`);
    else if (!old && HARNESS_LIMITS.has(name) && e.max > Number.NEGATIVE_INFINITY)
      out.push(`escalation: sets the harness's limit ${name} itself (${e.max})`);
  }
  return out;
}

/** New code files that are near copies of a head file: the head's tests cover the original only. */
function shadowCopies(sources: AgentSources, changed: string[]): string[] {
  const lines = (t: string) =>
    new Set(
      t
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 3),
    );
  const out: string[] = [];
  for (const f of changed.filter((c) => !sources.head.has(c) && !isTestFile(c))) {
    const mine = lines(sources.staged.get(f)!);
    if (mine.size < 15) continue;
    for (const [g, text] of sources.head) {
      const theirs = lines(text);
      const shared = [...mine].filter((l) => theirs.has(l)).length;
      if (shared / Math.max(mine.size, theirs.size) >= 0.6) {
        out.push(`${f} is a near copy of ${g}: a shadow copy escapes the head's tests of ${g}`);
        break;
      }
    }
  }
  return out;
}
