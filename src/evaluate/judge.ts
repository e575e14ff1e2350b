import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Provider } from "../models/provider.ts";

export const VerdictSchema = z.object({
  score: z.number().min(0).max(1),
  rationale: z.string().min(1),
  criteria: z
    .array(z.object({ criterion: z.string(), met: z.boolean(), note: z.string().optional() }))
    .optional(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

const prompt = () => readFileSync(new URL("./judge-prompt.md", import.meta.url), "utf8").trim();

/** Asks the judge model to score the attempt against the rubric. Throws with the reason on failure. */
export async function judgeRubric(
  judge: Provider,
  input: { task: string; rubric: string; diff: string; checkOutput?: string },
): Promise<Verdict> {
  const schema = z.toJSONSchema(VerdictSchema) as Record<string, unknown>;
  delete schema.$schema;
  const text = [
    `## Task\n${input.task}`,
    `## Rubric\n${input.rubric}`,
    `## Diff\n${input.diff.slice(0, 60_000) || "(no changes)"}`,
    input.checkOutput ? `## Check output (tail)\n${input.checkOutput.slice(-8000)}` : "",
  ].join("\n\n");
  const turn = await judge.complete({
    system: prompt(),
    tools: [{ name: "submit_verdict", description: "Submit the verdict", input_schema: schema }],
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    maxTokens: 2048,
  });
  if (turn.stopReason === "error") throw new Error(`the judge failed: ${turn.error}`);
  const call = turn.content.find((b) => b.type === "tool_use" && b.name === "submit_verdict");
  if (call?.type !== "tool_use") throw new Error("the judge answered without calling submit_verdict");
  const parsed = VerdictSchema.safeParse(call.input);
  if (!parsed.success) throw new Error(`the judge's verdict is invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
