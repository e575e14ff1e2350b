import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Config, ConfigSchema } from "../../src/config/config-schema.ts";
import { CHECK, EXECUTOR_SCRIPT, PLANT, plantStep, TASK, WORKSPACE } from "../../src/demo/demo-scenario.ts";
import { DEMO_CASSETTE } from "../../src/demo/run-demo.ts";
import { evolve } from "../../src/evolve/cycle.ts";
import { commitIn } from "../../src/git/ratchet.ts";
import { makeTempDir } from "../../src/git/temp-dirs.ts";
import { initHome } from "../../src/home/init-home.ts";
import { ModelRegistry } from "../../src/models/model-registry.ts";
import { createScriptedProvider } from "../../src/models/scripted-provider.ts";
import { runTask } from "../../src/run/run-task.ts";
import type { SandboxLimits } from "../../src/sandbox/limits.ts";
import { repoRoot } from "./workspaces.ts";

/** A fresh agent home (moss init) in a temp folder; with `planted`, the demo's weakness too. */
export async function makeHome(opts: { planted?: boolean } = {}): Promise<string> {
  const home = path.join(makeTempDir("gate"), "home");
  await initHome(home, repoRoot);
  if (opts.planted) {
    for (const step of PLANT) {
      const file = path.join(home, step.file);
      writeFileSync(file, plantStep(readFileSync(file, "utf8"), step)!);
    }
    await commitIn(home, ["agent-src"], "plant the demo weakness");
  }
  return home;
}

/** A fresh copy of the demo's workspace (CRLF greeting.js and its check) in a temp folder. */
export function demoWorkspace(): string {
  const ws = path.join(makeTempDir("gate"), "ws");
  for (const [rel, content] of Object.entries(WORKSPACE)) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), content);
  }
  return ws;
}

/** `moss` arguments for the demo's task run in `home` on `workspace`, its model replayed from the demo cassette. */
export function demoRunArgs(home: string, workspace: string, ...extra: string[]): string[] {
  return [
    "--home",
    home,
    "run",
    TASK,
    "-w",
    workspace,
    "--check",
    CHECK,
    "--replay",
    DEMO_CASSETTE,
    "--json",
    ...extra,
  ];
}

/**
 * An "external patcher CLI" for the demo's planted weakness: a node script that checks its prompt
 * (stdin) names edit_file, restores CRLF handling in agent-src, and says so. Returns its path.
 */
export function demoFixScript(): string {
  const fix = PLANT.filter((p) => "from" in p) as Array<{ file: string; from: string; to: string }>;
  const script = path.join(makeTempDir("gate"), "fix.mjs");
  writeFileSync(
    script,
    `import { readFileSync, writeFileSync } from "node:fs";
const prompt = readFileSync(0, "utf8");
if (!prompt.includes("edit_file")) process.exit(3);
let text = readFileSync(${JSON.stringify(fix[0]!.file)}, "utf8");
for (const [from, to] of ${JSON.stringify(fix.map((p) => [p.to, p.from]))}) text = text.replace(from, () => to);
writeFileSync(${JSON.stringify(fix[0]!.file)}, text);
console.log("patched edit_file");
`,
  );
  return script;
}

/** The demo task run once in `home` with its scripted executor: a failed run to evolve on. */
export async function failedDemoRun(home: string, sandbox: SandboxLimits | null) {
  const config = ConfigSchema.parse({});
  const models = new ModelRegistry(
    config,
    { providers: { executor: createScriptedProvider(EXECUTOR_SCRIPT) } },
    {},
  );
  const { record } = await runTask({
    home,
    task: TASK,
    workspace: demoWorkspace(),
    check: CHECK,
    rubric: null,
    config,
    models,
    apply: true,
    sandbox,
  });
  return { record, config, models };
}

/** The sandbox limits the demo-home evolutions run under in tests. */
export const DEMO_LIMITS: SandboxLimits = { maxProcs: 256, memoryMb: 2048 };

/**
 * A failed demo run in `home`, then one shallow evolution on it whose patcher is the external
 * command `node <script>` (consent given), sandboxed with DEMO_LIMITS; `tune` edits the config first.
 */
export async function evolveWithPatcherScript(
  home: string,
  script: string,
  tune: (config: Config) => void = () => {},
) {
  const { record, config, models } = await failedDemoRun(home, DEMO_LIMITS);
  tune(config);
  const outcome = await evolve({
    home,
    run: record,
    config,
    models,
    depth: "shallow",
    consent: async () => true,
    patcherCmd: `node ${script}`,
    sandbox: DEMO_LIMITS,
  });
  return { outcome, record };
}
