import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { commitIn } from "../git/ratchet.ts";
import { git } from "../git/repo.ts";
import { findRuntimeModules } from "./runtime-modules.ts";

const VITEST_CONFIG = `import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["agent-src/**/*.test.ts"], testTimeout: 60_000 },
});
`;

/**
 * Creates an agent home in `dir`: a git repo with a pristine agent-src copied from the moss
 * package at `source`, the contract it imports, an empty evolution log and node_modules linked
 * to the folder holding moss's run-time dependencies (vitest, typescript, tsx), so the gate can
 * run and a global install never edits its own package folder.
 */
export async function initHome(dir: string, source: string): Promise<string> {
  const home = path.resolve(dir);
  if (existsSync(home) && readdirSync(home).length > 0) {
    throw new UsageError(`${home} exists and is not empty; pick a new folder for the agent home`);
  }
  const modules = findRuntimeModules(source);
  mkdirSync(home, { recursive: true });
  const agentSrc = path.join(source, "agent-src");
  // Only node_modules *inside* agent-src is skipped: the package itself may live under one.
  const skip = (p: string) => !path.relative(agentSrc, p).split(path.sep).includes("node_modules");
  cpSync(agentSrc, path.join(home, "agent-src"), { recursive: true, filter: skip });
  cpSync(path.join(source, "src", "contract"), path.join(home, "src", "contract"), { recursive: true });
  cpSync(path.join(source, "tsconfig.base.json"), path.join(home, "tsconfig.base.json"));
  mkdirSync(path.join(home, "evolution-log"));
  cpSync(path.join(source, "evolution-log", "README.md"), path.join(home, "evolution-log", "README.md"));
  writeFileSync(
    path.join(home, "package.json"),
    `${JSON.stringify({ name: "moss-agent-home", private: true, type: "module" }, null, 2)}\n`,
  );
  writeFileSync(path.join(home, "vitest.config.ts"), VITEST_CONFIG);
  writeFileSync(path.join(home, ".gitignore"), "node_modules\nruns\n.moss\n");
  symlinkSync(modules, path.join(home, "node_modules"));
  await git(home).raw(["init", "--quiet", "--initial-branch=main"]);
  await commitIn(home, ["."], "moss init: a pristine agent home");
  return home;
}
