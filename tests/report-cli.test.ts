import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { recordDraft } from "../src/evolve/land/record-draft.ts";
import { appendRecord } from "../src/log/evolution-log.ts";
import { type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { moss } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { addTasks, answerTask, suiteResponder } from "./helpers/suite-agent.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describeSandboxed("moss report", () => {
  it("writes one self-contained HTML file with the evals, per-task rates and evolution history, all text escaped", async () => {
    server = await startFakeModelServer(suiteResponder());
    const home = await makeHome();
    const suite = path.join(makeWorkspace({}), "rep");
    expect((await moss(["suite", "init", suite])).code).toBe(0);
    addTasks(suite, [answerTask("stuck", "give-up", { split: "holdout" })]);
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
    const ev = await moss(["--home", home, "eval", suite, "--trials", "2", "--parallel", "2", "--json"], env);
    const { evalId } = JSON.parse(ev.stdout);
    appendRecord(
      home,
      recordDraft({
        kind: "evolution",
        task: "<img src=x onerror=alert(1)>",
        rationale: "r",
        verdict: "rejected",
        reason: "replay: </script><script>alert(2)</script>",
        diff: "+ const s = '<b>bold</b>' && \"q\";\n",
        parentCommit: "0".repeat(40),
      }),
    );

    const out = path.join(makeWorkspace({}), "report.html");
    const r = await moss(["--home", home, "report", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 eval(s), 1 evolution record(s)");
    const html = readFileSync(out, "utf8");
    expect(html).toContain(evalId);
    expect(html.slice(0, html.indexOf("<script")), JSON.stringify(ev.stdout)).toMatch(
      /<td>fix-add<\/td><td class="cell"[^>]*>2\/2<\/td>/,
    );
    expect(html).toMatch(/<td>stuck <span class="tag">holdout<\/span><\/td><td class="cell"[^>]*>0\/2<\/td>/);
    expect(html).toContain("Chart.js v4");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("replay: &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(html).toContain("&#39;&lt;b&gt;bold&lt;/b&gt;&#39; &amp;&amp; &quot;q&quot;");
    expect(html).not.toContain("<img src=x");
    expect(html.match(/<script/g)).toHaveLength(4);
    expect(html).toContain("no campaigns yet");
  });
});
