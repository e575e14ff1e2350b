/**
 * `moss eval` on a 20-task suite with a scripted executor (no model time): wall time at
 * --parallel 1 vs 2 (the pool's speed-up), and the per-trial overhead of an eval against a bare
 * `moss run` of the same task (runTask) measured in the same run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ConfigSchema } from "../src/config/config-schema.ts";
import type { ModelTurn } from "../src/contract/index.ts";
import { makePlan } from "../src/eval/eval-plan.ts";
import { savePlan } from "../src/eval/eval-store.ts";
import { runEval } from "../src/eval/run-eval.ts";
import { initHome } from "../src/home/init-home.ts";
import { ModelRegistry } from "../src/models/model-registry.ts";
import type { Provider } from "../src/models/provider.ts";
import { runTask } from "../src/run/run-task.ts";
import type { SandboxLimits } from "../src/sandbox/limits.ts";
import { loadSuite, writeSuite } from "../src/suite/load-suite.ts";
import type { Report } from "./report.ts";

const TASKS = 20;
const CHECK = 'node -e \'process.exit(require("fs").readFileSync("answer.txt","utf8").trim()==="42"?0:1)\'';

/** Writes answer.txt on the first turn, says done on the second: two model calls a trial. */
const executor: Provider = {
  name: "scripted",
  model: "scripted",
  async complete(request): Promise<ModelTurn> {
    const usage = { inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 };
    if (request.messages.length > 1)
      return { content: [{ type: "text", text: "Done." }], stopReason: "end_turn", usage };
    return {
      content: [
        { type: "tool_use", id: "t1", name: "write_file", input: { path: "answer.txt", content: "42\n" } },
      ],
      stopReason: "tool_use",
      usage,
    };
  },
};

export async function benchEvalParallel(report: Report, packageRoot: string, sandbox: SandboxLimits | null) {
  const root = mkdtempSync(path.join(os.tmpdir(), "moss-bench-eval-"));
  try {
    const home = await initHome(path.join(root, "home"), packageRoot);
    const suiteDir = path.join(root, "suite");
    const ws = path.join(suiteDir, "ws");
    mkdirSync(ws, { recursive: true });
    writeFileSync(path.join(ws, "README.md"), "write 42 into answer.txt\n");
    writeSuite(suiteDir, {
      name: "bench",
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        id: `t${i}`,
        prompt: `Write 42 into answer.txt (task ${i}).`,
        workspace: "ws",
        check: CHECK,
      })),
    });
    const suite = loadSuite(suiteDir);
    const config = ConfigSchema.parse({});
    const source = { providers: { executor } };

    const bare: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await runTask({
        home,
        task: "Write 42 into answer.txt.",
        workspace: ws,
        check: CHECK,
        rubric: null,
        config,
        models: new ModelRegistry(config, source),
        apply: false,
        sandbox,
      });
      bare.push(performance.now() - t);
    }
    const bareMs = bare.sort((a, b) => a - b)[1]!;

    const wall: Record<number, number> = {};
    for (const parallel of [1, 2]) {
      const plan = makePlan({
        suite,
        config,
        trials: 1,
        seed: 1,
        agents: [{ label: "head", rev: "HEAD", commit: null }],
      });
      savePlan(home, plan);
      const t = performance.now();
      const out = await runEval({
        home,
        plan,
        config,
        models: source,
        sandbox,
        parallel,
        estimatePerTrialUsd: 0,
      });
      wall[parallel] = performance.now() - t;
      const passed = out.results.filter((r) => r.passed).length;
      if (passed !== TASKS)
        throw new Error(`bench eval: ${passed} of ${TASKS} trials passed at --parallel ${parallel}`);
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const ratio = wall[1]! / wall[2]!;
    report(
      `eval of ${TASKS} tasks, scripted model: --parallel 2`,
      s(wall[2]!),
      `--parallel 1 ${s(wall[1]!)}`,
      `${ratio.toFixed(2)}x faster`,
      ">= 1.5x on 2 cores",
      ratio >= 1.5,
    );
    const perTrial = wall[1]! / TASKS;
    report(
      "eval per-trial time at --parallel 1",
      `${(perTrial / 1000).toFixed(2)} s`,
      `bare moss run (runTask) ${(bareMs / 1000).toFixed(2)} s`,
      `${(perTrial / bareMs).toFixed(2)}x`,
      "<= 1.2x",
      perTrial <= bareMs * 1.2,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
