import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { SUITE_FILE, type Suite, SuiteSchema, type SuiteTask } from "./suite-schema.ts";

/** A task with its workspace resolved to an absolute folder that exists. */
export type ResolvedTask = SuiteTask & { workspaceDir: string };

export interface LoadedSuite {
  /** The suite folder (workspaces are relative to it). */
  dir: string;
  file: string;
  suite: Suite;
  tasks: ResolvedTask[];
}

/**
 * Reads and checks a suite: `ref` is the suite folder or its suite.json. Throws UsageError that
 * names the file and the field (`tasks[2] ("fix-add").split: ...`) and says what to do.
 */
export function loadSuite(ref: string): LoadedSuite {
  const abs = resolveSuiteRef(ref);
  const file = existsSync(abs) && statSync(abs).isDirectory() ? path.join(abs, SUITE_FILE) : abs;
  if (!existsSync(file)) {
    throw new UsageError(
      `no suite at ${abs}: ${file} does not exist. Create one with \`moss suite init ${ref}\`.`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = SuiteSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(formatIssues(file, raw, parsed.error.issues));
  const dir = path.dirname(file);
  const tasks = parsed.data.tasks.map((task, i) => {
    const workspaceDir = path.resolve(dir, task.workspace);
    if (!existsSync(workspaceDir) || !statSync(workspaceDir).isDirectory()) {
      throw new UsageError(
        `${file}: ${where(raw, ["tasks", i, "workspace"])}: the folder ${workspaceDir} does not exist ` +
          "(a workspace is a folder, relative to the suite folder or absolute)",
      );
    }
    return { ...task, workspaceDir };
  });
  return { dir, file, suite: parsed.data, tasks };
}

/** The suites shipped in the package (`suites/` at the package root, next to dist/ and src/). */
export const BUILTIN_SUITES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "suites",
);

/** `builtin:NAME` is the package's suites/NAME folder; anything else is a path. */
export function resolveSuiteRef(ref: string): string {
  if (!ref.startsWith("builtin:")) return path.resolve(ref);
  const name = ref.slice("builtin:".length);
  const names = existsSync(BUILTIN_SUITES) ? readdirSync(BUILTIN_SUITES) : [];
  if (!names.includes(name)) {
    throw new UsageError(
      `no built-in suite "${name}"; the built-in suites are: ${names.join(", ") || "(none)"}`,
    );
  }
  return path.join(BUILTIN_SUITES, name);
}

/** Writes suite.json after checking it against the schema (a bad suite is never written). */
export function writeSuite(dir: string, suite: z.input<typeof SuiteSchema>): string {
  const file = path.join(dir, SUITE_FILE);
  const parsed = SuiteSchema.safeParse(suite);
  if (!parsed.success) throw new Error(formatIssues(file, suite, parsed.error.issues));
  writeFileAtomic(file, `${JSON.stringify(suite, null, 2)}\n`);
  return file;
}

function formatIssues(file: string, raw: unknown, issues: z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 10).map((i) => `  ${where(raw, i.path)}: ${i.message}`);
  const more = issues.length > 10 ? `\n  … and ${issues.length - 10} more` : "";
  return `${file} is not a valid suite:\n${lines.join("\n")}${more}\nFix the field(s) above; \`moss suite init DIR\` writes a working example.`;
}

/** `tasks[2] ("fix-add").split` for a zod path, naming the task by its id when it has one. */
function where(raw: unknown, at: PropertyKey[]): string {
  if (!at.length) return "(top level)";
  let out = "";
  let node: unknown = raw;
  for (const key of at) {
    if (typeof key === "number") {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const id = (node as { id?: unknown } | undefined)?.id;
      if (typeof id === "string" && at[0] === "tasks" && out.startsWith("tasks[") && !out.includes("("))
        out += ` ("${id}")`;
    } else {
      out += `${out ? "." : ""}${String(key)}`;
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[String(key)] : undefined;
    }
  }
  return out;
}
