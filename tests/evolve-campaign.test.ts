import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { readLog } from "../src/log/evolution-log.ts";
import { campaignResponder, greetTask } from "./helpers/campaign-model.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { spawnMoss } from "./helpers/suite-agent.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describeSandboxed("moss evolve SUITE", () => {
  it("a campaign over a 6-task suite with a holdout, SIGKILLed in its cascade, resumes to a promoted candidate and a report", async () => {
    server = await startFakeModelServer(campaignResponder());
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
    const home = await makeHome({ planted: true });
    const suite = path.join(makeWorkspace({}), "greetings");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    const tasks = [
      greetTask("crlf-greeting", "greeting", true),
      greetTask("crlf-welcome", "welcome", true),
      greetTask("lf-hello", "hello", false),
      greetTask("lf-hi", "hi", false),
      greetTask("crlf-salute", "salute", true, "holdout"),
      greetTask("lf-wave", "wave", false, "holdout"),
    ];
    const file = path.join(suite, "suite.json");
    const json = JSON.parse(readFileSync(file, "utf8"));
    json.tasks = tasks;
    (await import("node:fs")).writeFileSync(file, JSON.stringify(json));

    const child = spawnMoss(
      [
        "--home",
        home,
        "evolve",
        suite,
        "--generations",
        "1",
        "--trials",
        "1",
        "--parallel",
        "2",
        "--seed",
        "5",
        "--yes",
      ],
      env,
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // Kill it once the cascade has results on disk (wait on the state file, not on time).
    const campaigns = path.join(home, "campaigns");
    let campaignId = "";
    let killed = false;
    for (let i = 0; i < 1200 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(campaigns)) continue;
      campaignId = readdirSync(campaigns)[0] ?? "";
      const stateFile = path.join(campaigns, campaignId, "state.json");
      if (!existsSync(stateFile)) continue;
      const cascade = JSON.parse(readFileSync(stateFile, "utf8")).history[0]?.candidate?.cascadeEvalId;
      const results = cascade && path.join(home, "evals", cascade, "results.jsonl");
      if (results && existsSync(results) && readFileSync(results, "utf8").trim()) {
        child.kill("SIGKILL");
        killed = true;
        break;
      }
    }
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(null)));
    expect(killed, stderr).toBe(true);
    expect(stderr).toContain("failure batch: ");
    expect(readLog(home).filter((e) => e.record.verdict === "accepted")).toHaveLength(0);

    const r = await moss(
      ["--home", home, "evolve", "--resume", campaignId, "--json", "--parallel", "2"],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe("done");
    const [gen1, final] = out.history;
    expect(gen1).toMatchObject({ n: 1, verdict: "accepted", phase: "done", final: false });
    expect(gen1.batch.sort()).toEqual(["crlf-greeting", "crlf-welcome"]);
    expect(final).toMatchObject({ final: true, phase: "done" });
    // Before: the CRLF tasks fail (2 of 4 train tasks, 1 of 2 holdout); after: everything passes.
    const [f1, f2] = out.figures;
    expect(f1.train).toMatchObject({ n: 4, passes: 2 });
    expect(f1.holdout).toMatchObject({ n: 2, passes: 1 });
    expect(f2.train).toMatchObject({ n: 4, passes: 4 });
    expect(f2.holdout).toMatchObject({ n: 2, passes: 2 });

    const log = readLog(home);
    const accepted = log.filter((e) => e.record.verdict === "accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.record.diff).toContain("edit-file-tool.ts");
    expect((await moss(["--home", home, "log", "--verify"])).code).toBe(0);
    // The holdout tasks never reached the patcher.
    const patcherBodies = server.requests
      .filter((q) => JSON.stringify((q.body.tools as unknown[]) ?? []).includes("submit_"))
      .map((q) => JSON.stringify(q.body));
    expect(patcherBodies.length).toBeGreaterThan(0);
    expect(patcherBodies.some((b) => b.includes("crlf-greeting") || b.includes("src/greeting.js"))).toBe(
      true,
    );
    expect(patcherBodies.some((b) => b.includes("salute") || b.includes("wave"))).toBe(false);

    const report = path.join(makeWorkspace({}), "report.html");
    expect((await moss(["--home", home, "report", "--out", report])).code).toBe(0);
    const html = readFileSync(report, "utf8");
    expect(html).toContain(`<h3>${campaignId} · greetings · done</h3>`);
    expect(html).toMatch(
      /<td>1<\/td><td><code>[0-9a-f]{10}<\/code><\/td><td class="n">2\/4 · 50% \[[0-9–]+%\]<\/td><td class="n">1\/2 · 50%/,
    );
    expect(html).toMatch(
      /<td>2 \(final\)<\/td><td><code>[0-9a-f]{10}<\/code><\/td><td class="n">4\/4 · 100%/,
    );
    expect(html).toContain("<b>accepted</b>");
    expect(html).toContain("edit-file-tool.ts");
  }, 400_000);
});
