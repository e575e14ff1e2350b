import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { GateResultSchema, ScopeResultSchema } from "../log/evolution-record.ts";

export const campaignsDir = (home: string) => path.join(home, "campaigns");

/** The candidate of a generation, once it passed scope and gate and was committed (unreferenced). */
export const CandidateSchema = z.object({
  evolutionId: z.string(),
  commit: z.string(),
  diff: z.string(),
  rationale: z.string(),
  plan: z.string().nullable(),
  diagnosis: z.string().nullable(),
  scope: ScopeResultSchema.nullable(),
  gate: GateResultSchema.nullable(),
  /** The paired head-vs-candidate eval of the cascade. */
  cascadeEvalId: z.string().nullable(),
});

export const GenerationSchema = z.object({
  n: z.number().int().nonnegative(),
  headCommit: z.string(),
  /** The head measured on every task (train and holdout): reused while the head does not move. */
  evalId: z.string(),
  /** eval -> propose -> judge -> done; a resumed campaign continues from here. */
  phase: z.enum(["eval", "propose", "judge", "done"]),
  /** The failing train tasks the patcher saw (never a holdout task). */
  batch: z.array(z.string()).default([]),
  candidate: CandidateSchema.nullable().default(null),
  verdict: z.enum(["accepted", "rejected", "pending"]).nullable().default(null),
  reason: z.string().default(""),
  /** A measurement of the final head only, after the last generation. */
  final: z.boolean().default(false),
});

export const CampaignStateSchema = z.object({
  campaignId: z.string(),
  createdAt: z.string(),
  suite: z.object({ name: z.string(), file: z.string() }),
  maxGenerations: z.number().int().positive(),
  trials: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  patience: z.number().int().positive(),
  budgetUsd: z.number().positive().nullable(),
  seed: z.number().int(),
  depth: z.enum(["shallow", "standard", "deep"]),
  yes: z.boolean(),
  patcherCmd: z.string().nullable().default(null),
  status: z.enum(["running", "done", "budget", "plateau", "pending", "interrupted"]),
  stopReason: z.string().default(""),
  /** Model spend outside the evals (diagnosis, plan, review, patch). */
  patcherCostUsd: z.number().default(0),
  history: z.array(GenerationSchema),
});

export type CampaignState = z.infer<typeof CampaignStateSchema>;
export type Generation = z.infer<typeof GenerationSchema>;
export type Candidate = z.infer<typeof CandidateSchema>;

export function saveCampaign(home: string, state: CampaignState): void {
  writeFileAtomic(
    path.join(campaignsDir(home), state.campaignId, "state.json"),
    `${JSON.stringify(state, null, 2)}\n`,
  );
}

export function loadCampaign(home: string, id: string): CampaignState {
  if (!/^[\w.-]+$/.test(id)) throw new UsageError(`not a campaign id: "${id}"`);
  const file = path.join(campaignsDir(home), id, "state.json");
  if (!existsSync(file)) {
    throw new UsageError(`no campaign ${id} in ${campaignsDir(home)}; \`moss evolve --list\` shows them`);
  }
  return CampaignStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** Every campaign of the home, oldest first; unreadable ones are skipped. */
export function listCampaigns(home: string): CampaignState[] {
  const dir = campaignsDir(home);
  if (!existsSync(dir)) return [];
  const out: CampaignState[] = [];
  for (const id of readdirSync(dir).sort()) {
    try {
      out.push(loadCampaign(home, id));
    } catch {
      // A half-written or foreign folder: not a campaign.
    }
  }
  return out;
}
