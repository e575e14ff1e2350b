import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { demoPatcherReply } from "./helpers/campaign-model.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { seededExecutor } from "./helpers/seeded-executor.ts";
import { repoRoot } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const TASKS = ["crlf-edit", "long-file-sum", "find-constant", "slow-build", "check-first"];

type Summary = {
  complete: boolean;
  agents: Array<{ tasks: Array<{ taskId: string; n: number; passes: number }> }>;
};
const perTask = (s: Summary) =>
  Object.fromEntries(s.agents[0]!.tasks.map((t) => [t.taskId, `${t.passes}/${t.n}`]));

async function evalSeeded(home: string): Promise<Record<string, string>> {
  const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server!.url };
  const r = await moss(
    ["--home", home, "eval", "builtin:seeded", "--trials", "1", "--parallel", "2", "--json"],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout) as Summary;
  expect(summary.complete).toBe(true);
  return perTask(summary);
}

describeSandboxed("the built-in seeded suite", () => {
  it("ships in the package and lists one planted weakness per task", async () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    expect(pkg.files).toContain("suites/");
    const shown = await moss(["suite", "show", "builtin:seeded", "--json"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).tasks.map((t: { id: string }) => t.id)).toEqual(TASKS);
    const plant = JSON.parse(readFileSync(path.join(repoRoot, "suites/seeded/plant.json"), "utf8"));
    expect(plant.weaknesses.map((w: { task: string }) => w.task)).toEqual(TASKS);
    const bad = await moss(["suite", "show", "builtin:nope"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('no built-in suite "nope"; the built-in suites are: seeded');
  });

  it("a pristine agent passes every task; after `moss suite plant builtin:seeded` each task fails on its weakness, and the planted agent's own tests still pass", async () => {
    server = await startFakeModelServer(seededExecutor());
    const pristine = await makeHome();
    expect(await evalSeeded(pristine)).toEqual(Object.fromEntries(TASKS.map((t) => [t, "1/1"])));

    const planted = await makeHome();
    const p = await moss(["--home", planted, "suite", "plant", "builtin:seeded"]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain("planted 5 weakness(es)");
    expect(await evalSeeded(planted)).toEqual(Object.fromEntries(TASKS.map((t) => [t, "0/1"])));
    // The plant also removes the tests that covered each weakness, so the gate accepts the weak head.
    const own = spawnSync("npx", ["vitest", "run"], { cwd: planted, encoding: "utf8" });
    expect(own.status, own.stdout + own.stderr).toBe(0);

    // Planting twice is refused: the agent is no longer the pristine text the plant expects.
    const again = await moss(["--home", planted, "suite", "plant", "builtin:seeded"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("cannot plant edit-ignores-crlf");
  }, 240_000);

  const WEAKNESSES: Array<[string, string]> = [
    ["edit-ignores-crlf", "crlf-edit"],
    ["read-truncates-silently", "long-file-sum"],
    ["search-misses-nested-files", "find-constant"],
    ["command-timeout-too-tight", "slow-build"],
    ["prompt-skips-verification", "check-first"],
  ];
  it.each(WEAKNESSES)(
    "the weakness %s alone fails only its task %s (--only)",
    async (weakness, task) => {
      server = await startFakeModelServer(seededExecutor());
      const home = await makeHome();
      const p = await moss(["--home", home, "suite", "plant", "builtin:seeded", "--only", weakness]);
      expect(p.code, p.stderr).toBe(0);
      expect(await evalSeeded(home)).toEqual(
        Object.fromEntries(TASKS.map((t) => [t, t === task ? "0/1" : "1/1"])),
      );
    },
    240_000,
  );

  it("moss evolve builtin:seeded repairs a planted weakness: the demo's patcher fixes edit_file, promoted, every task passes", async () => {
    const executor = seededExecutor();
    server = await startFakeModelServer((body, i) => demoPatcherReply(body) ?? executor(body, i));
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
    const home = await makeHome();
    expect(
      (await moss(["--home", home, "suite", "plant", "builtin:seeded", "--only", "edit-ignores-crlf"])).code,
    ).toBe(0);
    const args = ["--generations", "1", "--trials", "1", "--parallel", "2", "--seed", "5", "--yes", "--json"];
    const r = await moss(["--home", home, "evolve", "builtin:seeded", ...args], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe("done");
    expect(out.history[0]).toMatchObject({ n: 1, verdict: "accepted", batch: ["crlf-edit"] });
    const [before, after] = out.figures;
    expect(before.train).toMatchObject({ n: 5, passes: 4 });
    expect(after.train).toMatchObject({ n: 5, passes: 5 });
  }, 400_000);
});
