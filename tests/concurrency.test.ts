import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { ConfigSchema } from "../src/config/config-schema.ts";
import { emptyUsage } from "../src/contract/index.ts";
import { candidatePolicy } from "../src/evolve/check/candidate-policy.ts";
import { checkScope } from "../src/evolve/check/scope-check.ts";
import { promoteCandidate, type RecordDraft } from "../src/evolve/land/promote.ts";
import { createWorktree } from "../src/git/worktree.ts";
import { readLog } from "../src/log/evolution-log.ts";
import { demoRunArgs, demoWorkspace, makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

const sh = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
const config = ConfigSchema.parse({});
const LIMITS = { maxProcs: 512, memoryMb: 4096 };

function draft(id: string, parent: string, diff: string): RecordDraft {
  return {
    id,
    kind: "evolution",
    time: new Date().toISOString(),
    task: "t",
    runId: "r",
    triggerScore: 0,
    attempt: 1,
    diagnosis: null,
    plan: null,
    rationale: `candidate ${id}`,
    diff,
    scope: null,
    gate: null,
    replay: null,
    regression: [],
    judgement: null,
    verdict: "accepted",
    reason: "test",
    parentCommit: parent,
    target: null,
    models: {},
    usage: emptyUsage(),
    costUsd: 0,
    timings: {},
  };
}

describeSandboxed("candidates built on an outdated head", () => {
  it("are re-applied and re-gated against the new head before they land", async () => {
    const home = await makeHome();
    const parent = sh(home, "rev-parse", "main");
    const a = await createWorktree(home, parent);
    const b = await createWorktree(home, parent);
    writeFileSync(path.join(a.dir, "agent-src/note-a.md"), "Note A.\n");
    writeFileSync(path.join(b.dir, "agent-src/note-b.md"), "Note B.\n");
    const opts = { allowPaths: ["agent-src/"], maxPatchBytes: 65536, taskFileNames: [] };
    const da = draft("ev-a", parent, (await checkScope(a.dir, opts)).diff);
    const db = draft("ev-b", parent, (await checkScope(b.dir, opts)).diff);
    const common = { home, branch: "main", trailers: {}, policy: candidatePolicy(config, LIMITS) };

    const first = await promoteCandidate({ ...common, worktree: a, draft: da });
    expect(first.ok).toBe(true);
    // B was built on `parent`, which is no longer the head: it is re-applied on A and re-gated.
    const second = await promoteCandidate({ ...common, worktree: b, draft: db });
    expect(second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.record.parentCommit).toBe(first.commit);
    expect(second.record.gate?.passed).toBe(true);
    expect(sh(home, "rev-parse", "main")).toBe(second.commit);
    expect(sh(home, "rev-parse", "main~1")).toBe(first.commit);
    expect(sh(home, "ls-tree", "--name-only", "main", "agent-src/")).toMatch(
      /note-a\.md[\s\S]*note-b\.md|note-b\.md[\s\S]*note-a\.md/,
    );

    // A candidate that breaks the agent's tests on the new head is refused there.
    const c = await createWorktree(home, parent);
    writeFileSync(
      path.join(c.dir, "agent-src/prompts/system.md"),
      "Changed without updating the snapshot.\n",
    );
    const dc = draft("ev-c", parent, (await checkScope(c.dir, opts)).diff);
    const third = await promoteCandidate({ ...common, worktree: c, draft: dc });
    expect(third.ok).toBe(false);
    if (!third.ok)
      expect(third.reason).toMatch(/re-gated against the new head [0-9a-f]{10} and failed: .*system prompt/);
    expect(sh(home, "rev-parse", "main")).toBe(second.commit);
    await c.remove();
    await a.remove();
    await b.remove();
  });
});

describeSandboxed("four moss processes evolving the same home at once", () => {
  it("keep history linear and the log chain intact; one identical fix lands, the rest see the moved head", async () => {
    const home = await makeHome({ planted: true });
    const before = sh(home, "rev-parse", "main");
    const runs = await Promise.all([1, 2, 3, 4].map(() => moss(demoRunArgs(home, demoWorkspace(), "--yes"))));
    expect(runs.map((r) => r.stderr)).toEqual(["", "", "", ""]);
    const outcomes = runs.map((r) => JSON.parse(r.stdout).evolution);
    const accepted = outcomes.filter((o) => o.accepted);
    expect(accepted).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.accepted)) {
      expect(o.attempts.at(-1).reason).toMatch(/head moved/);
    }
    expect(sh(home, "rev-list", "--count", `${before}..main`)).toBe("1");
    expect(sh(home, "rev-list", "--merges", "main")).toBe("");
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    // Every attempt of every process is in the log: 4 gate rejections, 3 moved-head rejections, 1 accept.
    const verdicts = readLog(home).map((e) => e.record.verdict);
    expect(verdicts.filter((v) => v === "accepted")).toHaveLength(1);
    expect(verdicts.filter((v) => v === "rejected")).toHaveLength(7);
  }, 240_000);
});
