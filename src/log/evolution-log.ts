import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.ts";
import { type EvolutionRecord, EvolutionRecordSchema } from "./evolution-record.ts";

export const logDir = (home: string) => path.join(home, "evolution-log");
export const GENESIS = "0".repeat(64);
const FILE = /^(\d{6})-([a-z0-9-]+)\.json$/;

export const newEvolutionId = () => `ev-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

export interface LogEntry {
  file: string;
  record: EvolutionRecord;
  hash: string;
}

/** Every record, in sequence order. Throws on a record that does not parse, naming the file. */
export function readLog(home: string): LogEntry[] {
  const dir = logDir(home);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const text = readFileSync(file);
      const parsed = EvolutionRecordSchema.safeParse(JSON.parse(text.toString("utf8")));
      if (!parsed.success) {
        throw new Error(
          `${file}: not a valid evolution record (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})`,
        );
      }
      return { file, record: parsed.data, hash: sha256(text) };
    });
}

/**
 * Appends a record: fills `seq` and `prevHash` from the current last record and writes the file
 * atomically. Call under withHomeLock. Returns the written record and its path.
 */
export function appendRecord(
  home: string,
  draft: Omit<EvolutionRecord, "seq" | "prevHash">,
  /** Where to write the file: the home, or a candidate worktree whose commit will carry it. */
  writeInto = home,
): LogEntry {
  removeTempFiles(home);
  const entries = readLog(home);
  const last = entries.at(-1);
  const record: EvolutionRecord = EvolutionRecordSchema.parse({
    ...draft,
    seq: last ? last.record.seq + 1 : 0,
    prevHash: last ? last.hash : GENESIS,
  });
  const file = path.join(logDir(writeInto), `${String(record.seq).padStart(6, "0")}-${record.id}.json`);
  const text = `${JSON.stringify(record, null, 2)}\n`;
  writeFileAtomic(file, text);
  return { file, record, hash: sha256(text) };
}

/** A crash during an atomic write can leave only a temp file; it is never a record. */
export function removeTempFiles(home: string): void {
  const dir = logDir(home);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f.endsWith(".tmp")) rmSync(path.join(dir, f), { force: true });
}

/** Checks the hash chain and sequence. Returns problems found (empty when the chain holds). */
export function verifyChain(entries: LogEntry[]): string[] {
  const problems: string[] = [];
  let prev = GENESIS;
  entries.forEach((e, i) => {
    if (e.record.seq !== i)
      problems.push(
        `${path.basename(e.file)}: sequence ${e.record.seq}, expected ${i} (a record is missing)`,
      );
    if (e.record.prevHash !== prev)
      problems.push(
        `${path.basename(e.file)}: prevHash does not match the record before it (edited or reordered)`,
      );
    prev = e.hash;
  });
  return problems;
}

export function findRecord(home: string, id: string): LogEntry | undefined {
  return readLog(home).find((e) => e.record.id === id || e.record.id.startsWith(id));
}
