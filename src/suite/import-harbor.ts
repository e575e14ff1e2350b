import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { copyFolder, findTaskFolders, suiteBuilder } from "./suite-builder.ts";
import type { TaskLimits } from "./suite-schema.ts";

const Metadata = {
  difficulty: z.string().optional(),
  category: z.string().optional(),
  tags: z.array(z.string()).default([]),
};

/** Harbor's task.toml (the fields the importer reads; others are ignored). */
const HarborTaskSchema = z.object({
  metadata: z.object(Metadata).default({ tags: [] }),
  verifier: z.object({ timeout_sec: z.number().positive().optional() }).default({}),
  agent: z.object({ timeout_sec: z.number().positive().optional() }).default({}),
});

/** Terminal-Bench's task.yaml (the fields the importer reads). */
const TerminalBenchTaskSchema = z.object({
  instruction: z.string().min(1),
  ...Metadata,
  max_agent_timeout_sec: z.number().positive().optional(),
  max_test_timeout_sec: z.number().positive().optional(),
});

/** What never goes into a workspace: the container recipe and the reference solution. */
const LEFT_OUT = new Set([
  "Dockerfile",
  "docker-compose.yaml",
  "docker-compose.yml",
  "solution",
  "solution.sh",
  "solution.yaml",
  "task.toml",
  "task.yaml",
  "instruction.md",
  "environment",
]);

/**
 * Imports Harbor task folders (`task.toml`, `instruction.md`, `environment/`, `tests/test.sh`)
 * and Terminal-Bench ones (`task.yaml`, `run-tests.sh`, `tests/`) into a suite with local checks:
 * moss builds no container, so the workspace is the task's files without its Dockerfile and
 * solution (a Harbor task's `environment/` files at the top, its `tests/` under `tests/`), and the
 * check runs the task's test script there. Tests that need the container's image or absolute
 * paths (/app, /logs) fail locally; the import summary says so.
 */
export function importHarbor(src: string, out: string): { file: string; added: string[]; skipped: string[] } {
  const root = path.resolve(src);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root} is not a folder`);
  const tasks = findTaskFolders(
    root,
    4,
    (d) => existsSync(path.join(d, "task.toml")) || existsSync(path.join(d, "task.yaml")),
  );
  if (!tasks.length) {
    throw new UsageError(
      `no Harbor or Terminal-Bench tasks under ${root}: a task folder holds task.toml or task.yaml`,
    );
  }
  const builder = suiteBuilder(out, `Imported from the Harbor / Terminal-Bench layout at ${root}`);
  for (const dir of tasks) {
    const id = path.basename(dir);
    if (existsSync(path.join(dir, "task.toml"))) {
      const file = path.join(dir, "task.toml");
      const meta = parseWith(file, () => HarborTaskSchema.parse(parseToml(readFileSync(file, "utf8"))));
      const instruction = path.join(dir, "instruction.md");
      if (!existsSync(instruction)) throw new UsageError(`${dir}: a Harbor task needs instruction.md`);
      if (!existsSync(path.join(dir, "tests", "test.sh")))
        throw new UsageError(`${dir}: a Harbor task needs tests/test.sh`);
      builder.add({
        id,
        prompt: readFileSync(instruction, "utf8").trim(),
        check: "bash tests/test.sh",
        split: "train",
        limits: limits(meta.agent.timeout_sec, meta.verifier.timeout_sec),
        tags: tags("harbor", meta.metadata),
        fill: (ws) => {
          const env = path.join(dir, "environment");
          if (existsSync(env)) copyFolder(env, ws, (rel) => LEFT_OUT.has(rel));
          copyFolder(path.join(dir, "tests"), path.join(ws, "tests"));
        },
      });
    } else {
      const file = path.join(dir, "task.yaml");
      const meta = parseWith(file, () =>
        TerminalBenchTaskSchema.parse(parseYaml(readFileSync(file, "utf8"))),
      );
      const hasScript = existsSync(path.join(dir, "run-tests.sh"));
      builder.add({
        id,
        prompt: meta.instruction.trim(),
        check: hasScript ? "bash run-tests.sh" : "python3 -m pytest -q tests",
        split: "train",
        limits: limits(meta.max_agent_timeout_sec, meta.max_test_timeout_sec),
        tags: tags("terminal-bench", meta),
        fill: (ws) => copyFolder(dir, ws, (rel) => LEFT_OUT.has(rel.split("/")[0] ?? rel)),
      });
    }
  }
  return builder.save();
}

function parseWith<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const message =
      err instanceof z.ZodError
        ? err.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")
        : (err as Error).message.split("\n")[0];
    throw new UsageError(`${file}: ${message}`);
  }
}

function limits(agentSec?: number, testSec?: number): TaskLimits {
  return {
    ...(agentSec ? { wallClockMs: Math.round(agentSec * 1000) } : {}),
    ...(testSec ? { checkTimeoutMs: Math.round(testSec * 1000) } : {}),
  };
}

function tags(
  kind: string,
  meta: { difficulty?: string | undefined; category?: string | undefined; tags: string[] },
) {
  return [
    kind,
    ...(meta.difficulty ? [meta.difficulty] : []),
    ...(meta.category ? [meta.category] : []),
    ...meta.tags,
  ];
}
