import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ScopeOptions } from "../../src/evolve/check/scope-check.ts";

/** One hostile candidate: a change to a fresh worktree of the head, and the verdict it must get. */
export interface HostileCase {
  name: string;
  /** The threat-model class of issue 7 it belongs to. */
  cls: 3 | 4 | 8;
  change: (dir: string) => void;
  /** What the scope check must say; null: the scope check must pass it. */
  scope: RegExp | null;
  /** Also run the gate (with the head's tests put back) and match its summary; null: it must pass. */
  gate?: RegExp | null;
  /** Scope options beyond the defaults (e.g. a user who gave --allow-escalation). */
  opts?: Partial<ScopeOptions>;
  /** Run the gate with the candidate's test changes consented to; the head's tests must be reported failing. */
  consentedGate?: boolean;
}

export const edit = (d: string, rel: string, from: string | RegExp, to: string) => {
  const file = path.join(d, rel);
  const text = readFileSync(file, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`test setup: ${String(from)} not found in ${rel}`);
  writeFileSync(file, next);
};
export const write = (d: string, rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(d, rel)), { recursive: true });
  writeFileSync(path.join(d, rel), text);
};
export const append = (d: string, rel: string, text: string) => appendFileSync(path.join(d, rel), text);

/** Adds `code` to a module the agent runs (its prompt loader), after its imports. */
export const inAgent = (d: string, code: string, imports = "") =>
  edit(
    d,
    "agent-src/prompts/index.ts",
    'import { readFileSync } from "node:fs";',
    `import { readFileSync } from "node:fs";\n${imports}\nexport function sideEffect(): unknown {\n${code}\n  return null;\n}`,
  );

/** `it.skip` and friends, built from parts so this file never holds a modified test of its own. */
export const itWith = (modifier: string) => ["it", modifier].join(".");
