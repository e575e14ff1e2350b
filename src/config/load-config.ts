import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Config, ConfigSchema } from "./config-schema.ts";

export { UsageError } from "../errors.ts";

import { UsageError } from "../errors.ts";

export const CONFIG_FILE = "moss.config.json";

type Raw = Record<string, unknown>;

/** One source of settings, in the order they apply (later wins). */
export interface ConfigLayer {
  /** e.g. "user config", "home config", "--config", "environment", "flags". */
  name: string;
  /** The file it came from, when it is a file. */
  file?: string;
  values: Raw;
}

/** The user-level config file: $XDG_CONFIG_HOME/moss/config.json, else ~/.config/moss/config.json. */
export function userConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "moss", "config.json");
}

/**
 * Builds the config from its layers: defaults, the user config (~/.config/moss/config.json), the
 * home's moss.config.json, then `file` (--config), then MOSS_* environment variables, then
 * `overrides` from flags. Objects merge key by key; a later layer's value wins. Throws
 * UsageError naming the file and field when something is wrong.
 */
export function loadConfig(opts: {
  home: string;
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: (raw: Raw) => void;
}): { config: Config; source: string | null; layers: ConfigLayer[] } {
  const env = opts.env ?? process.env;
  const layers: ConfigLayer[] = [];
  const fileLayer = (name: string, file: string, required: boolean) => {
    if (existsSync(file)) layers.push({ name, file, values: readConfigFile(file) });
    else if (required) throw new UsageError(`config file not found: ${file} (from --config)`);
  };
  fileLayer("user config", userConfigFile(env), false);
  fileLayer("home config", path.join(opts.home, CONFIG_FILE), false);
  if (opts.file) fileLayer("--config", path.resolve(opts.file), true);
  layers.push({ name: "environment", values: envLayer(env) });
  const flags: Raw = {};
  opts.overrides?.(flags);
  layers.push({ name: "flags", values: flags });

  const raw = layers.reduce<Raw>((acc, layer) => mergeDeep(acc, layer.values), {});
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const files = layers.filter((l) => l.file).map((l) => l.file);
    const where = files.length ? files.join(" + ") : "configuration";
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new UsageError(`${where} is invalid:\n${lines.join("\n")}`);
  }
  const source = [...layers].reverse().find((l) => l.file)?.file ?? null;
  return { config: result.data, source, layers };
}

function readConfigFile(file: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file}: the top level must be a JSON object`);
  }
  return parsed as Raw;
}

/** The MOSS_* variables as a config layer; each works on its own (a model alone keeps the role's provider). */
export function envLayer(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = {};
  const models: Record<string, Raw> = {};
  for (const role of ["executor", "patcher", "judge"] as const) {
    const model = env[`MOSS_${role.toUpperCase()}_MODEL`];
    const provider = env[`MOSS_${role.toUpperCase()}_PROVIDER`];
    if (model || provider) models[role] = { ...(model ? { model } : {}), ...(provider ? { provider } : {}) };
  }
  if (Object.keys(models).length) out.models = models;
  if (env.MOSS_THRESHOLD !== undefined) {
    const n = Number(env.MOSS_THRESHOLD);
    if (!Number.isFinite(n))
      throw new UsageError(`MOSS_THRESHOLD must be a number, got "${env.MOSS_THRESHOLD}"`);
    out.threshold = n;
  }
  return out;
}

const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

/** `over` on top of `base`: objects merge key by key, anything else replaces. */
export function mergeDeep(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? mergeDeep(out[k] as Raw, v) : v;
  }
  return out;
}
