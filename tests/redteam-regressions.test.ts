import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkScope } from "../src/evolve/check/scope-check.ts";
import { applyEdits } from "../src/evolve/propose/apply-edits.ts";
import { createWorktree } from "../src/git/worktree.ts";
import { makeHome } from "./helpers/homes.ts";

/**
 * Regressions for the red team's breaks of the integrity guard (issue 7, FINDINGS B1, B2, B4, B6),
 * each through the real scope check on a real worktree of a real home.
 */
let home: string;
beforeAll(async () => {
  home = await makeHome();
});

const opts = { allowPaths: ["agent-src/"], maxPatchBytes: 64 * 1024, taskFileNames: ["done.txt"] };

async function scopeOf(
  change: (dir: string) => void,
  extra: Partial<typeof opts> & { allowEscalation?: boolean } = {},
) {
  const wt = await createWorktree(home, "HEAD");
  try {
    change(wt.dir);
    return (await checkScope(wt.dir, { ...opts, ...extra })).result;
  } finally {
    await wt.remove();
  }
}
const edit = (dir: string, rel: string, fn: (s: string) => string) =>
  writeFileSync(path.join(dir, rel), fn(readFileSync(path.join(dir, rel), "utf8")));

describe("B6: git-controlled paths never reach git; git failures reject, never crash", () => {
  it("the patcher model's new file agent-src/sub/.git/... is refused before it is written", async () => {
    const wt = await createWorktree(home, "HEAD");
    try {
      const patch = {
        rationale: "x",
        edits: [],
        new_files: [{ path: "agent-src/sub/.git/config", content: '[filter "x"]\n\tclean = sh p.sh\n' }],
      };
      expect(() => applyEdits(wt.dir, patch, ["agent-src/"])).toThrow(/\.git component/);
      expect(() =>
        applyEdits(wt.dir, { ...patch, new_files: [{ path: "agent-src/sub/.GIT./HEAD", content: "x" }] }, [
          "agent-src/",
        ]),
      ).toThrow(/\.git component/);
    } finally {
      await wt.remove();
    }
  });

  it("an embedded repository planted in agent-src rejects the candidate instead of throwing", async () => {
    const r = await scopeOf((d) => {
      mkdirSync(path.join(d, "agent-src/sub"), { recursive: true });
      writeFileSync(path.join(d, "agent-src/sub/x.ts"), "export const x = 1;\n");
      execFileSync("git", ["init", "-q", path.join(d, "agent-src/sub")]);
    });
    expect(r.passed).toBe(false);
    expect(r.violations.join("\n")).toMatch(/agent-src\/sub\/\.git .*embedded repository/);
  });

  it("a .git FILE pointing at a git dir inside agent-src is refused the same way", async () => {
    const r = await scopeOf((d) => {
      mkdirSync(path.join(d, "agent-src/sub"), { recursive: true });
      writeFileSync(path.join(d, "agent-src/sub/.git"), "gitdir: ../.g\n");
    });
    expect(r.passed).toBe(false);
    expect(r.violations.join("\n")).toMatch(/\.git component/);
  });
});
