import type { Command } from "commander";
import { resolveHome } from "./home.ts";

/** `moss config`: the merged config, each value with the layer it came from. */
export function registerConfig(program: Command): void {
  program
    .command("config")
    .description("print the merged config and where each value came from")
    .option("--config <file>", "a config file on top of the user's and the home's")
    .option("--json", "print JSON: { layers, config, origins }")
    .action(async (flags: { config?: string; json?: boolean }, cmd: Command) => {
      const home = await resolveHome(cmd.optsWithGlobals().home);
      const { CONFIG_FILE, loadConfig, userConfigFile } = await import("../config/load-config.ts");
      const path = await import("node:path");
      const { config, layers } = loadConfig({ home, ...(flags.config ? { file: flags.config } : {}) });
      const origins: Record<string, string> = {};
      for (const [keys] of leaves(config)) {
        const from = [...layers].reverse().find((l) => valueAt(l.values, keys) !== undefined);
        origins[keys.join(".")] = from ? (from.file ? `${from.name} ${from.file}` : from.name) : "default";
      }
      if (flags.json) {
        const shown = layers.map(({ name, file }) => ({ name, ...(file ? { file } : {}) }));
        console.log(JSON.stringify({ layers: shown, config, origins }, null, 2));
        return;
      }
      const files: Array<[string, string]> = [
        ["user config", userConfigFile()],
        ["home config", path.join(home, CONFIG_FILE)],
        ...(flags.config ? [["--config", path.resolve(flags.config)] as [string, string]] : []),
      ];
      console.log("layers, later wins: defaults, then");
      for (const [name, file] of files) {
        const found = layers.some((l) => l.file === file);
        console.log(`  ${name.padEnd(12)} ${file}${found ? "" : " (none)"}`);
      }
      console.log("  environment  MOSS_* variables\n");
      const rows = leaves(config).map(([keys, value]) => [
        `${keys.join(".")} = ${JSON.stringify(value)}`,
        origins[keys.join(".")],
      ]);
      const width = Math.min(60, Math.max(...rows.map(([l]) => l!.length)));
      for (const [line, origin] of rows) console.log(`${line!.padEnd(width)}  (${origin})`);
    });
}

/** The key path to every non-object value, in order. */
export function leaves(value: unknown, prefix: string[] = []): Array<[string[], unknown]> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...prefix, k]));
}

function valueAt(obj: unknown, keys: string[]): unknown {
  let cur = obj;
  for (const part of keys) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
