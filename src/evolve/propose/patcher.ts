import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Provider } from "../../models/provider.ts";
import {
  type Diagnosis,
  DiagnosisSchema,
  type Patch,
  PatchSchema,
  type Plan,
  PlanSchema,
  type Review,
  ReviewSchema,
} from "./patcher-schemas.ts";
import { asUntrustedData } from "./untrusted-data.ts";

/** Why earlier attempts were rejected: the reasons quote candidate text, so they are fenced as data. */
export const rejections = (feedback: string[]) =>
  feedback.length
    ? `## Earlier attempts were rejected\n${asUntrustedData("The rejection reasons", feedback.map((f) => `- ${f}`).join("\n"))}`
    : "";

const prompt = (name: string) =>
  readFileSync(new URL(`./prompts/${name}.md`, import.meta.url), "utf8").trim();

/**
 * Asks the patcher model for one structured answer through a single tool call and validates it.
 * Throws an Error that says which stage failed and why.
 */
async function ask<S extends z.ZodType>(
  patcher: Provider,
  stage: string,
  tool: string,
  schema: S,
  sections: string[],
): Promise<z.infer<S>> {
  const inputSchema = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  delete inputSchema.$schema;
  const turn = await patcher.complete({
    system: prompt(stage),
    tools: [{ name: tool, description: `Submit the ${stage} result`, input_schema: inputSchema }],
    messages: [{ role: "user", content: [{ type: "text", text: sections.filter(Boolean).join("\n\n") }] }],
    maxTokens: 16_000,
  });
  if (turn.stopReason === "error") throw new Error(`${stage}: the patcher model failed: ${turn.error}`);
  const call = turn.content.find((b) => b.type === "tool_use" && b.name === tool);
  if (call?.type !== "tool_use") throw new Error(`${stage}: the patcher answered without calling ${tool}`);
  const parsed = schema.safeParse(call.input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${stage}: the patcher's answer is invalid at ${issue?.path.join(".")}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

export const diagnose = (patcher: Provider, evidence: string, source: string): Promise<Diagnosis> =>
  ask(patcher, "diagnose", "submit_diagnosis", DiagnosisSchema, [evidence, source]);

export function plan(
  patcher: Provider,
  evidence: string,
  diagnosis: Diagnosis,
  feedback: string[],
): Promise<Plan> {
  return ask(patcher, "plan", "submit_plan", PlanSchema, [
    evidence,
    `## Diagnosis\n${formatDiagnosis(diagnosis)}`,
    rejections(feedback),
  ]);
}

export const review = (patcher: Provider, evidence: string, diagnosis: Diagnosis, p: Plan): Promise<Review> =>
  ask(patcher, "review", "submit_review", ReviewSchema, [
    evidence,
    `## Diagnosis\n${formatDiagnosis(diagnosis)}`,
    `## Plan\n${formatPlan(p)}`,
  ]);

export function patch(
  patcher: Provider,
  source: string,
  diagnosis: Diagnosis,
  p: Plan,
  feedback: string[],
): Promise<Patch> {
  return ask(patcher, "patch", "submit_patch", PatchSchema, [
    `## Diagnosis\n${formatDiagnosis(diagnosis)}`,
    `## Plan\n${formatPlan(p)}`,
    rejections(feedback),
    source,
  ]);
}

export const formatDiagnosis = (d: Diagnosis) =>
  `${d.rootCause} (confidence: ${d.confidence})\n${d.evidence.map((e) => `- ${e.file}:${e.line} ${e.note}`).join("\n")}`;

export const formatPlan = (p: Plan) =>
  `${p.summary}\n${p.steps.map((s, i) => `${i + 1}. ${s}`).join("\n")}\nTest: ${p.test}`;
