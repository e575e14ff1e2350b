import chalk from "chalk";
import type { GateResult, ScopeResult } from "../log/evolution-record.ts";
import { sanitize } from "./sanitize.ts";

/**
 * What the user must weigh beyond the diff, as sections for the consent prompt and `moss log <id>`:
 * changes to existing tests (and how the head's tests fared), instruction (prompt) changes with
 * their text, allowed escalations, and best-effort review flags. Empty when there is none.
 */
export function formatReviewNotes(
  scope: ScopeResult | null | undefined,
  gate: GateResult | null | undefined,
  diff = "",
): string {
  if (!scope) return "";
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (lines.length) out.push(`${title}\n${lines.map((l) => `  ${sanitize(l)}`).join("\n")}`);
  };
  const tests = [...(scope.testChanges ?? [])];
  if (tests.length && gate?.headTests)
    tests.push(
      `with the head's own tests and configs put back: ${gate.headTests.passed ? "passed" : "FAILED"} (${gate.headTests.summary})`,
    );
  section(chalk.bold.red("CHANGES EXISTING TESTS (the head's tests no longer judge this part):"), tests);
  const instructions = (scope.instructionChanges ?? []).flatMap((entry) => {
    const file = entry.replace(/ \(.*$/, "");
    return [entry, ...instructionLines(diff, file).map((l) => `    ${l}`)];
  });
  section(
    chalk.bold.yellow("INSTRUCTION CHANGES (text the agent's model will read as instructions):"),
    instructions,
  );
  section(chalk.bold.yellow("ESCALATIONS ALLOWED (--allow-escalation):"), scope.escalations ?? []);
  section(
    chalk.bold.yellow("REVIEW FLAGS (best effort; the sandbox is the boundary, not this check):"),
    scope.flags ?? [],
  );
  return out.join("\n\n");
}

/** The added and removed lines of one file's section of a unified diff (at most 40). */
function instructionLines(diff: string, file: string): string[] {
  const section = diff.split(/^diff --git /m).find((s) => s.startsWith(`a/${file} `));
  if (!section) return [];
  return section
    .split("\n")
    .filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l))
    .slice(0, 40);
}
