import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { expect, it } from "vitest";
import { ConfigSchema } from "../src/config/config-schema.ts";
import type { ModelRequest, ModelTurn } from "../src/contract/index.ts";
import { evolve } from "../src/evolve/cycle.ts";
import { makeTempDir } from "../src/git/temp-dirs.ts";
import { verifyLog } from "../src/log/verify-log.ts";
import { ModelRegistry } from "../src/models/model-registry.ts";
import type { Provider } from "../src/models/provider.ts";
import { createScriptedProvider, turn } from "../src/models/scripted-provider.ts";
import { runTask } from "../src/run/run-task.ts";
import { makeHome } from "./helpers/homes.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";

// A toy skill: every "- SKILL" line in the agent's system prompt lets the (scripted) executor pass
// one more of five checks. So a candidate's effect on the score comes from the agent's real code.
const LIMITS = { maxProcs: 256, memoryMb: 2048 };
const CHECK =
  "node -e \"const k = Math.min(5, Number(require('fs').readFileSync('skills.txt', 'utf8'))); console.log('# pass ' + k); console.log('# fail ' + (5 - k))\"";
const LAST = "summary of what you changed.";
// No reproduction re-run and at most 3 paired trials per candidate: the executor is deterministic,
// so 3 pairs decide (a better candidate wins all 3), and the suite stays fast.
const config = ConfigSchema.parse({ evolve: { regressionLimit: 0, reproduceTrials: 0 } });
const sh = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

const executor: Provider = {
  name: "skills",
  model: "skills",
  async complete(req: ModelRequest): Promise<ModelTurn> {
    const k = req.system.split("- SKILL").length - 1;
    return req.messages.length === 1
      ? turn([
          {
            type: "tool_use",
            id: "w",
            name: "write_file",
            input: { path: "skills.txt", content: String(k) },
          },
        ])
      : turn([{ type: "text", text: "done" }]);
  },
};

type Kind = "good" | "bad" | "noop" | "regress";
const SNAP = "agent-src/test/__snapshots__/schema.test.ts.snap";
const PROMPT = "agent-src/prompts/system.md";

function candidate(kind: Kind, step: number) {
  switch (kind) {
    case "good": // one more skill, snapshot updated with it
      return {
        edits: [
          { path: PROMPT, old_string: LAST, new_string: `${LAST}\n- SKILL ${step}` },
          { path: SNAP, old_string: LAST, new_string: `${LAST}\n- SKILL ${step}` },
        ],
        new_files: [],
      };
    case "bad": // one more skill, but the snapshot test now fails: the gate must refuse it
      return {
        edits: [{ path: PROMPT, old_string: LAST, new_string: `${LAST}\n- SKILL ${step}` }],
        new_files: [],
      };
    case "regress": // a harmless-looking prompt rewrite that drops every skill
      return {
        edits: [
          {
            path: PROMPT,
            old_string: "- Look before you change",
            new_string: "- Look first before you change",
          },
          {
            path: SNAP,
            old_string: "- Look before you change",
            new_string: "- Look first before you change",
          },
        ],
        new_files: [{ path: `agent-src/prompts/skills-${step}.md`, content: "none\n" }],
        dropSkills: true,
      };
    default: // no-op: a note nobody reads; gate passes, the score cannot rise
      return { edits: [], new_files: [{ path: `agent-src/notes-${step}.md`, content: "a note\n" }] };
  }
}

function patcherFor(kind: Kind, step: number, system: string): Provider {
  const c = candidate(kind, step) as {
    edits: Array<{ path: string; old_string: string; new_string: string }>;
    new_files: unknown[];
    dropSkills?: boolean;
  };
  if (c.dropSkills) {
    // Remove the skill lines that exist now, in the prompt and in its snapshot.
    const skills = system.split("\n").filter((l) => l.startsWith("- SKILL"));
    for (const s of skills) {
      c.edits.push({ path: PROMPT, old_string: `\n${s}`, new_string: "" });
      c.edits.push({ path: SNAP, old_string: `\n${s}`, new_string: "" });
    }
  }
  const call = (name: string, input: unknown) => turn([{ type: "tool_use", id: name, name, input }]);
  return createScriptedProvider([
    call("submit_diagnosis", {
      rootCause: "lacks a skill",
      evidence: [{ file: PROMPT, line: 1, note: "n" }],
      confidence: "low",
    }),
    call("submit_plan", { summary: `a ${kind} change`, steps: ["change"], test: "snapshot" }),
    call("submit_patch", { rationale: `${kind} candidate ${step}`, ...c }),
  ]);
}

describeSandboxed("the ratchet, for any sequence of good, bad, regressing and no-op candidates", () => {
  it("never lowers the head's score, keeps its tests passing and never accepts a no-op", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Kind>("good", "bad", "noop", "regress"), { minLength: 1, maxLength: 4 }),
        async (kinds) => {
          const home = await makeHome();
          const ws = path.join(makeTempDir("gate"), "ws");
          mkdirSync(ws, { recursive: true });
          writeFileSync(path.join(ws, "skills.txt"), "0");
          let best = -1;
          for (const [step, kind] of kinds.entries()) {
            const headBefore = sh(home, "rev-parse", "main");
            const models = new ModelRegistry(
              config,
              { providers: { executor, patcher: createScriptedProvider([]) } },
              {},
            );
            const { record } = await runTask({
              home,
              task: "score",
              workspace: ws,
              check: CHECK,
              rubric: null,
              config,
              models,
              apply: false,
              sandbox: LIMITS,
            });
            expect(record.score).toBeGreaterThanOrEqual(best);
            best = record.score;
            const system = (await import("node:fs")).readFileSync(path.join(home, PROMPT), "utf8");
            const evolving = new ModelRegistry(
              config,
              { providers: { executor, patcher: patcherFor(kind, step, system) } },
              {},
            );
            const outcome = await evolve({
              home,
              run: record,
              config,
              models: evolving,
              depth: "shallow",
              trials: 3,
              // A person consents (so a candidate that updates the prompt's snapshot is theirs to take).
              consent: async () => true,
              personConsents: true,
              sandbox: LIMITS,
            });
            if (kind === "good") {
              expect(outcome.accepted, outcome.records[0]?.reason).not.toBeNull();
              expect(outcome.records[0]!.gate?.passed).toBe(true);
            } else {
              expect(outcome.accepted, `${kind} was accepted`).toBeNull();
              expect(sh(home, "rev-parse", "main")).toBe(headBefore);
            }
          }
          expect((await verifyLog(home)).ok).toBe(true);
        },
      ),
      {
        numRuns: 4,
        endOnFailure: true,
        // Always try the sequences that stress stacking and undoing skills.
        examples: [[["good", "noop", "good", "bad"]], [["good", "regress", "good"]]],
      },
    );
  }, 600_000);
});
