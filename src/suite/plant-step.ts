/** One exact change that plants a weakness: a replacement, or a removed `it(...)` test. */
export type PlantStep = { file: string; from: string; to: string } | { file: string; removeTest: string };

/**
 * Applies one plant step to `text`; returns null when the text is not the pristine one it expects.
 * A removed test runs from its `it("name"` line to the first line that closes it at that indent.
 */
export function plantStep(text: string, step: PlantStep): string | null {
  if ("from" in step) return text.includes(step.from) ? text.replace(step.from, () => step.to) : null;
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.includes(`it(${JSON.stringify(step.removeTest)}`));
  if (start < 0) return null;
  const indent = lines[start]!.match(/^\s*/)![0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}});`);
  if (end < 0) return null;
  lines.splice(start, end - start + 1);
  return lines.join("\n");
}
