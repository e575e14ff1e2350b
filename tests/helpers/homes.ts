import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CHECK, PLANT, plantStep, TASK, WORKSPACE } from "../../src/demo/demo-scenario.ts";
import { DEMO_CASSETTE } from "../../src/demo/run-demo.ts";
import { commitIn } from "../../src/git/ratchet.ts";
import { makeTempDir } from "../../src/git/temp-dirs.ts";
import { initHome } from "../../src/home/init-home.ts";
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
