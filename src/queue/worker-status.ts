import type { Redis } from "ioredis";
import { z } from "zod";
import { KEY_PREFIX } from "./connection.ts";

/** What a worker tells the queue about itself every few seconds (gone once it stops telling). */
export const WorkerStatusSchema = z.object({
  name: z.string(),
  host: z.string(),
  pid: z.number(),
  concurrency: z.number(),
  startedAt: z.string(),
  seenAt: z.string(),
  stopping: z.boolean(),
  done: z.number(),
  refused: z.number(),
  running: z.array(z.object({ key: z.string(), evalId: z.string(), since: z.string() })),
});
export type WorkerStatus = z.infer<typeof WorkerStatusSchema>;

export const HEARTBEAT_MS = 2000;
const statusKey = (name: string) => `${KEY_PREFIX}worker:${name}`;

export async function publishStatus(redis: Redis, status: WorkerStatus): Promise<void> {
  await redis.set(statusKey(status.name), JSON.stringify(status), "PX", HEARTBEAT_MS * 4);
}

export async function clearStatus(redis: Redis, name: string): Promise<void> {
  await redis.del(statusKey(name));
}

/** The workers that reported in the last few heartbeats, by name. */
export async function readStatuses(redis: Redis): Promise<WorkerStatus[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", statusKey("*"), "COUNT", 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  if (!keys.length) return [];
  const values = await redis.mget(...keys);
  return values
    .flatMap((v) => {
      const parsed = WorkerStatusSchema.safeParse(v ? safeJson(v) : null);
      return parsed.success ? [parsed.data] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
