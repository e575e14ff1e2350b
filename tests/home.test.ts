import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { initHome } from "../src/home/init-home.ts";
import { moss } from "./helpers/moss-cli.ts";
import { repoRoot } from "./helpers/workspaces.ts";

const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `moss-${prefix}-`));

describe("the agent home", () => {
  it("without --home or MOSS_HOME: creates the per-user home on first use, with a one-line notice", async () => {
    const user = tempDir("user");
    const env = { HOME: user, MOSS_HOME: undefined };
    const first = await moss(["runs"], env);
    const home = path.join(user, ".local", "share", "moss");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe(
      `moss: created your agent home in ${home} (first use; pick another with --home or MOSS_HOME)\n`,
    );
    expect(existsSync(path.join(home, "agent-src", "main.ts"))).toBe(true);
    expect(existsSync(path.join(home, ".git"))).toBe(true);
    const second = await moss(["log", "--verify"], env);
    expect(second).toMatchObject({ code: 0, stderr: "" });

    const xdg = tempDir("xdg");
    const withXdg = await moss(["runs"], { ...env, XDG_DATA_HOME: xdg });
    expect(withXdg.stderr).toContain(`created your agent home in ${path.join(xdg, "moss")}`);
  });

  it("names what a home is and how to make one when --home, MOSS_HOME or the default is not one", async () => {
    const missing = path.join(tempDir("nohome"), "nope");
    const r = await moss(["--home", missing, "runs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${missing} (from --home) is not an agent home: it does not exist`);
    expect(r.stderr).toContain("An agent home is a git repository holding the agent's own source");
    expect(r.stderr).toContain(`moss init ${missing}`);

    // A copy of the package folder (what a global install holds) is not a home: no git, never written.
    const pkg = tempDir("pkg");
    cpSync(path.join(repoRoot, "agent-src"), path.join(pkg, "agent-src"), { recursive: true });
    const named = await moss(["runs"], { MOSS_HOME: pkg });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/\(from MOSS_HOME\) is not an agent home: it is not a git repository/);
    expect(named.stderr).toContain("moss init <new folder>");
    expect(readdirSync(pkg)).toEqual(["agent-src"]);

    const user = tempDir("user");
    mkdirSync(path.join(user, ".local", "share", "moss"), { recursive: true });
    writeFileSync(path.join(user, ".local", "share", "moss", "notes.txt"), "mine\n");
    const taken = await moss(["runs"], { HOME: user, MOSS_HOME: undefined });
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/your default agent home .* is not an agent home: it has no agent-src/);
  });

  it("moss init works from a package installed under node_modules, linking its dependencies", async () => {
    // The layout of `npm i moss-agent` in a project: the package under node_modules, its
    // dependencies hoisted beside it.
    const project = tempDir("proj");
    const pkg = path.join(project, "node_modules", "moss-agent");
    for (const rel of ["agent-src", "src/contract", "tsconfig.base.json", "evolution-log/README.md"]) {
      cpSync(path.join(repoRoot, rel), path.join(pkg, rel), { recursive: true });
    }
    for (const dep of ["vitest", "typescript", "@types", "tsx"]) {
      symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(project, "node_modules", dep));
    }
    const home = await initHome(path.join(tempDir("home"), "home"), pkg);
    expect(readdirSync(path.join(home, "agent-src")).sort()).toEqual(
      readdirSync(path.join(repoRoot, "agent-src")).sort(),
    );
    expect(existsSync(path.join(home, "node_modules", "vitest", "package.json"))).toBe(true);
    expect(existsSync(path.join(home, "node_modules", "typescript", "bin", "tsc"))).toBe(true);
  });
});
