import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";

/** What the gate and the agent load at run time from a home's `node_modules`. */
export const RUNTIME_PACKAGES = ["vitest", "typescript", "@types/node", "tsx"] as const;

/**
 * The `node_modules` folder that holds moss's run-time dependencies, searched the way Node
 * resolves them from the package folder `source`: `source/node_modules` (a checkout, or a global
 * install, which nests its dependencies), then each parent's `node_modules` (a local install,
 * where npm hoists them next to moss). Returns its real path; throws UsageError naming what is
 * missing and how to get it.
 */
export function findRuntimeModules(source: string): string {
  for (let dir = path.resolve(source); ; dir = path.dirname(dir)) {
    const modules = path.basename(dir) === "node_modules" ? dir : path.join(dir, "node_modules");
    if (RUNTIME_PACKAGES.every((p) => existsSync(path.join(modules, p, "package.json")))) {
      return realpathSync(modules);
    }
    if (path.dirname(dir) === dir) break;
  }
  const missing = RUNTIME_PACKAGES.filter(
    (p) => !existsSync(path.join(source, "node_modules", p, "package.json")),
  );
  throw new UsageError(
    `moss's run-time dependencies (${missing.join(", ")}) are not installed next to ${source}. ` +
      "Reinstall moss with its dependencies (npm i -g moss-agent, without --omit=prod), " +
      "or run `npm ci` in the moss checkout.",
  );
}
