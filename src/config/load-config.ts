import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Config, ConfigSchema } from "./config-schema.ts";

export { UsageError } from "../errors.ts";

import { UsageError } from "../errors.ts";

export const CONFIG_FILE = "moss.config.json";

/**
 * Builds the config: defaults, then the file (explicit path, or moss.config.json in the home),
 * then MOSS_* environment variables, then `overrides` from flags. Throws UsageError naming the
 * file and field when something is wrong.
 */
export function loadConfig(opts: {
  home: string;
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: (raw: Record<string, unknown>) => void;
}): { config: Config; source: string | null } {
  const env = opts.env ?? process.env;
  const file = opts.file ? path.resolve(opts.file) : path.join(opts.home, CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  let source: string | null = null;
  if (existsSync(file)) {
    source = file;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(`${file}: the top level must be a JSON object`);
    }
    raw = parsed as Record<string, unknown>;
  } else if (opts.file) {
    throw new UsageError(`config file not found: ${file}`);
  }
  applyEnv(raw, env);
  opts.overrides?.(raw);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const where = source ?? "configuration";
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new UsageError(`${where} is invalid:\n${lines.join("\n")}`);
  }
  return { config: result.data, source };
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  raw.models ??= {};
  const models = raw.models as Record<string, Record<string, unknown>>;
  for (const role of ["executor", "patcher", "judge"] as const) {
    const model = env[`MOSS_${role.toUpperCase()}_MODEL`];
    const provider = env[`MOSS_${role.toUpperCase()}_PROVIDER`];
    if (model || provider) {
      models[role] = { ...models[role], ...(model ? { model } : {}), ...(provider ? { provider } : {}) };
    }
  }
  if (env.MOSS_THRESHOLD !== undefined) raw.threshold = Number(env.MOSS_THRESHOLD);
}
