import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { writeSuite } from "./load-suite.ts";
import { suiteName } from "./suite-init.ts";
import { SUITE_FILE, type SuiteTaskInput } from "./suite-schema.ts";

/** A task to add: its workspace is written by `fill` into a fresh folder inside the suite. */
export interface NewTask extends Omit<SuiteTaskInput, "workspace"> {
  fill: (workspaceDir: string) => void;
}

/**
 * Adds tasks to a suite folder (new, or an existing suite.json, whose tasks are kept): ids are
 * made unique, a task whose prompt is already in the suite is skipped, each workspace is copied
 * to `tasks/<id>/workspace`. Nothing is written until `save`, and then suite.json last.
 */
export function suiteBuilder(dir: string, description: string) {
  const abs = path.resolve(dir);
  const file = path.join(abs, SUITE_FILE);
  let existing: { name: string; description?: string; tasks: SuiteTaskInput[] } = {
    name: suiteName(abs),
    description,
    tasks: [],
  };
  if (existsSync(file)) {
    try {
      existing = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new UsageError(
        `${file}: not valid JSON (${(err as Error).message}); fix it or pick another --out`,
      );
    }
    if (!Array.isArray(existing.tasks)) throw new UsageError(`${file}: tasks: expected an array`);
  }
  const ids = new Set(existing.tasks.map((t) => t.id));
  const prompts = new Set(existing.tasks.map((t) => t.prompt));
  const added: string[] = [];
  const skipped: string[] = [];
  const pending: Array<{ task: SuiteTaskInput; fill: NewTask["fill"] }> = [];
  return {
    add(task: NewTask): string | null {
      if (prompts.has(task.prompt)) {
        skipped.push(task.id);
        return null;
      }
      let id = slug(task.id);
      for (let n = 2; ids.has(id); n++) id = `${slug(task.id)}-${n}`;
      ids.add(id);
      prompts.add(task.prompt);
      const { fill, ...rest } = task;
      pending.push({ task: { ...rest, id, workspace: path.join("tasks", id, "workspace") }, fill });
      added.push(id);
      return id;
    },
    save(): { file: string; added: string[]; skipped: string[] } {
      for (const { task, fill } of pending) {
        const ws = path.join(abs, task.workspace);
        rmSync(ws, { recursive: true, force: true });
        mkdirSync(ws, { recursive: true });
        fill(ws);
      }
      if (existing.tasks.length + pending.length === 0) {
        throw new UsageError(`nothing to write: no tasks were found for ${file}`);
      }
      writeSuite(abs, { ...existing, tasks: [...existing.tasks, ...pending.map((p) => p.task)] });
      return { file, added, skipped };
    },
  };
}

/** Copies `src` into `dest`, leaving out entries whose path relative to `src` matches `skip`. */
export function copyFolder(src: string, dest: string, skip: (rel: string) => boolean = () => false): void {
  cpSync(src, dest, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (from) => {
      const rel = path.relative(src, from).split(path.sep).join("/");
      return rel === "" || !skip(rel);
    },
  });
}

/** A task id from free text: lower-case words joined by '-', at most 60 characters. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return s || "task";
}

/** Folders under `dir` (itself included) for which `isTask` holds, searched `depth` levels down, sorted; a match is not searched further. */
export function findTaskFolders(dir: string, depth: number, isTask: (dir: string) => boolean): string[] {
  if (isTask(dir)) return [dir];
  if (depth === 0) return [];
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name === ".git") continue;
    const child = path.join(dir, name);
    if (statSync(child).isDirectory()) found.push(...findTaskFolders(child, depth - 1, isTask));
  }
  return found;
}
