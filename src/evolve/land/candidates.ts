import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../log/atomic-write.ts";

export const PendingSchema = z.object({
  id: z.string(),
  diff: z.string(),
  parentCommit: z.string(),
  task: z.string(),
  runId: z.string(),
  before: z.number(),
  after: z.array(z.number()),
});
export type Pending = z.infer<typeof PendingSchema>;

const file = (home: string, id: string) => path.join(home, ".moss", "candidates", `${id}.json`);

/** Keeps a candidate that passed every check but could not be promoted without consent. */
export function savePending(home: string, pending: Pending): void {
  writeFileAtomic(file(home, pending.id), `${JSON.stringify(pending, null, 2)}\n`);
}

export function loadPending(home: string, id: string): Pending {
  const f = file(home, id);
  if (!existsSync(f)) throw new Error(`no pending candidate ${id} in ${path.dirname(f)}; see \`moss log\``);
  return PendingSchema.parse(JSON.parse(readFileSync(f, "utf8")));
}
