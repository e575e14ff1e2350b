import { countMatches, isTestFile, type StagedSource } from "./staged-sources.ts";

/**
 * Capabilities an agent patch may not add on its own: each pattern's count in a non-test file
 * of agent-src may not grow. A user can allow them (`--allow-escalation`); otherwise they reject.
 */
const CAPABILITIES: Array<{ what: string; re: RegExp }> = [
  { what: "reads environment variables", re: /process\.env|process\[["']env["']\]|Deno\.env/g },
  {
    what: "adds process-spawning code",
    re: /child_process|\bspawn(Sync)?\s*\(|\bexec(Sync|File|FileSync)?\s*\(|\bfork\s*\(|process\.binding/g,
  },
  {
    what: "adds network code",
    re: /node:(net|http|https|http2|dgram|tls|dns)\b|["'](net|http|https|http2|dgram|tls|dns)["']|\bfetch\s*\(|WebSocket|XMLHttpRequest|undici/g,
  },
  {
    what: "reaches outside the workspace",
    re: /homedir\s*\(|process\.env\.HOME|~\/|["'`]\/(etc|root|home|usr|var|proc)\/|\.bashrc|\.ssh|\.aws|process\.chdir/g,
  },
  { what: "evaluates generated code", re: /\beval\s*\(|new\s+Function\s*\(|vm\.run|node:vm/g },
  {
    what: "loads modules by computed name",
    re: /\bimport\s*\(\s*[^"'`\s)]|\brequire\s*\(\s*[^"'`\s)]|createRequire|process\.binding|globalThis\s*\[/g,
  },
];

/** An import of the harness (src/) other than the contract: the agent may not reach into it. */
const HARNESS_IMPORT = /(?:from\s+|import\s*\(\s*)["'](?:\.\.\/)+src\/(?!contract\/)[^"']*["']/g;

/** A limit of the agent's own given a literal value (`maxOutputChars = 20_000`, `MAX_FILES = 500`). */
const LIMIT_ASSIGNMENT =
  /\b(maxTurns|wallClockMs|tokenBudget|commandTimeoutMs|maxOutputTokens|maxOutputChars|timeoutMs|timeout_ms|MAX_[A-Z_]+|DEFAULT_LIMIT|[A-Z_]*LIMIT[A-Z_]*)\b\s*(?:=|:|\?\?|\|\|)\s*(\d[\d_]*|Infinity)/g;

/** Escalations in the staged candidate against HEAD, as violation texts. */
export function checkEscalation(sources: StagedSource[]): string[] {
  const problems: string[] = [];
  for (const { path: file, before, after } of sources.filter((s) => s.path.startsWith("agent-src/"))) {
    if (isTestFile(file)) {
      problems.push(...changedExpectations(file, before, after));
      continue;
    }
    if (countMatches(after, HARNESS_IMPORT) > countMatches(before, HARNESS_IMPORT)) {
      problems.push(`${file} imports harness code outside src/contract`);
    }
    for (const cap of CAPABILITIES) {
      if (countMatches(after, cap.re) > countMatches(before, cap.re))
        problems.push(`escalation: ${file} ${cap.what}`);
    }
    const raised = raisedLimit(before, after);
    if (raised) problems.push(`escalation: ${file} raises the agent's own limit (${raised})`);
  }
  return problems;
}

/** The first limit whose value went up, or that the agent now scales or reassigns, or null. */
function raisedLimit(before: string, after: string): string | null {
  const values = (text: string) => {
    const byName = new Map<string, number>();
    for (const m of text.matchAll(LIMIT_ASSIGNMENT)) {
      const value = m[2] === "Infinity" ? Number.POSITIVE_INFINITY : Number(m[2]!.replace(/_/g, ""));
      byName.set(m[1]!, Math.max(byName.get(m[1]!) ?? 0, value));
    }
    return byName;
  };
  const was = values(before);
  for (const [name, value] of values(after)) {
    const old = was.get(name);
    if (old !== undefined && value > old) return `${name}: ${old} -> ${value}`;
  }
  const scaled = /limits\.\w+\s*[*+]\s*\d|\blimits\.\w+\s*=[^=]|\blimits\s*=\s*\{/;
  if (!scaled.test(before) && scaled.test(after)) return "rewrites the limits it was given";
  return null;
}

/** Assertions whose subject stayed but whose expected value changed. */
function changedExpectations(file: string, before: string, after: string): string[] {
  const pairs = (text: string) =>
    [...text.matchAll(/(expect\([^\n]*?\)\.(?:not\.)?to\w+)\(([^\n]*)\)/g)].map(
      (m) => `${m[1]!.trim()}\u0000${m[2]!.trim()}`,
    );
  const minus = (a: string[], b: string[]) => {
    const rest = [...b];
    return a.filter((x) => {
      const i = rest.indexOf(x);
      if (i >= 0) rest.splice(i, 1);
      return i < 0;
    });
  };
  const was = pairs(before);
  const now = pairs(after);
  const removed = minus(was, now);
  const added = minus(now, was);
  const out: string[] = [];
  for (const a of added) {
    const [subject, expected] = a.split("\u0000");
    const old = removed.find((r) => r.split("\u0000")[0] === subject);
    if (old) {
      out.push(
        `${file}: changes the expected value of an existing assertion (${subject}: ${old.split("\u0000")[1]!.slice(0, 40)} -> ${expected!.slice(0, 40)})`,
      );
    }
  }
  return out;
}
