import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { commitIn } from "../git/ratchet.ts";
import { plantStep } from "./plant-step.ts";

/** The file in a suite folder that lists the weaknesses its tasks expose, as exact edits of agent-src. */
export const PLANT_FILE = "plant.json";

const StepSchema = z.union([
  z.object({ file: z.string().min(1), from: z.string().min(1), to: z.string() }).strict(),
  z.object({ file: z.string().min(1), removeTest: z.string().min(1) }).strict(),
]);

export const PlantSchema = z
  .object({
    weaknesses: z
      .array(
        z
          .object({
            id: z.string().min(1),
            /** The suite task that this weakness makes fail. */
            task: z.string().min(1),
            what: z.string().min(1),
            steps: z.array(StepSchema).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type Plant = z.infer<typeof PlantSchema>;

/** Reads and checks a suite's plant.json; errors name the file and field. */
export function readPlant(suiteDir: string): Plant {
  const file = path.join(suiteDir, PLANT_FILE);
  if (!existsSync(file))
    throw new UsageError(`${suiteDir} has no ${PLANT_FILE}: this suite plants no weaknesses`);
  const parsed = PlantSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`${file}: ${i.path.join(".") || "(top)"}: ${i.message}`);
  }
  return parsed.data;
}

/**
 * Plants every weakness of the suite into the home's agent-src and commits it as one commit. All
 * steps are checked against the pristine text before any file is written: an agent that has
 * already changed (evolved, or planted before) is refused, naming the file and the weakness.
 */
export async function plantSuite(
  home: string,
  suiteDir: string,
  only?: string[],
): Promise<{ commit: string; planted: Plant["weaknesses"] }> {
  const plant = readPlant(suiteDir);
  const unknown = (only ?? []).filter((id) => !plant.weaknesses.some((w) => w.id === id));
  if (unknown.length)
    throw new UsageError(
      `unknown weakness ${unknown.join(", ")}; this suite plants: ${plant.weaknesses.map((w) => w.id).join(", ")}`,
    );
  const chosen = plant.weaknesses.filter((w) => !only?.length || only.includes(w.id));
  const files = new Map<string, string>();
  for (const w of chosen) {
    for (const step of w.steps) {
      if (
        step.file.startsWith("/") ||
        step.file.split("/").includes("..") ||
        !step.file.startsWith("agent-src/")
      )
        throw new UsageError(`${PLANT_FILE}: weakness ${w.id}: ${step.file} is not a path inside agent-src/`);
      const abs = path.join(home, step.file);
      const text = files.get(abs) ?? (existsSync(abs) ? readFileSync(abs, "utf8") : null);
      const next = text === null ? null : plantStep(text, step);
      if (next === null)
        throw new UsageError(
          `cannot plant ${w.id}: ${step.file} in ${home} is not the pristine text it expects (already planted, or the agent has evolved). Plant into a fresh home: moss --home DIR init`,
        );
      files.set(abs, next);
    }
  }
  for (const [abs, text] of files) writeFileSync(abs, text);
  const commit = await commitIn(
    home,
    ["agent-src"],
    `plant the weaknesses of suite ${path.basename(suiteDir)}: ${chosen.map((w) => w.id).join(", ")}`,
  );
  return { commit, planted: chosen };
}
