import { z } from "zod";

export const DiagnosisSchema = z.object({
  rootCause: z.string().min(1),
  evidence: z
    .array(z.object({ file: z.string(), line: z.number().int().positive(), note: z.string() }))
    .min(1),
  confidence: z.enum(["low", "medium", "high"]),
});
export type Diagnosis = z.infer<typeof DiagnosisSchema>;

export const PlanSchema = z.object({
  summary: z.string().min(1),
  steps: z.array(z.string()).min(1),
  test: z.string().min(1),
});
export type Plan = z.infer<typeof PlanSchema>;

export const ReviewSchema = z.object({
  approved: z.boolean(),
  concerns: z.array(z.string()),
});
export type Review = z.infer<typeof ReviewSchema>;

export const PatchSchema = z.object({
  rationale: z.string().min(1),
  edits: z.array(z.object({ path: z.string(), old_string: z.string().min(1), new_string: z.string() })),
  new_files: z.array(z.object({ path: z.string(), content: z.string() })).default([]),
});
export type Patch = z.infer<typeof PatchSchema>;

export type Depth = "shallow" | "standard" | "deep";
export const DEPTHS: Record<Depth, { reviewRounds: number; attempts: number }> = {
  shallow: { reviewRounds: 0, attempts: 1 },
  standard: { reviewRounds: 1, attempts: 2 },
  deep: { reviewRounds: 2, attempts: 3 },
};
