import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { anthropicMessage, type FakeServer, startFakeModelServer } from "./helpers/fake-model-server.ts";
import { moss } from "./helpers/moss-cli.ts";
import { itSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace, mathProject, repoRoot } from "./helpers/workspaces.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fixTurns = () => [
  {
    body: anthropicMessage([
      {
        type: "tool_use",
        name: "edit_file",
        input: { path: "src/math.js", old_string: "a - b", new_string: "a + b" },
      },
    ]),
  },
  { body: anthropicMessage([{ type: "text", text: "Fixed add." }]) },
];
const doNothing = () => [{ body: anthropicMessage([{ type: "text", text: "I give up." }]) }];
const tempDir = (p: string) => mkdtempSync(path.join(os.tmpdir(), `moss-${p}-`));
const ESC = "\u001b[";

describe("CLI conventions, through the built binary", () => {
  it("--version and -V print the package version", async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    for (const flag of ["--version", "-V"]) {
      expect(await moss([flag])).toMatchObject({ code: 0, stdout: `${version}\n` });
    }
  });

  itSandboxed(
    "MOSS_EXECUTOR_MODEL works on its own; -m wins over it; an unpriced model's cost is unknown, not $0",
    async () => {
      server = await startFakeModelServer([...fixTurns(), ...fixTurns()]);
      const env = {
        ANTHROPIC_API_KEY: "sk-test",
        ANTHROPIC_BASE_URL: server.url,
        MOSS_EXECUTOR_MODEL: "env-model",
      };
      const args = ["run", "fix add", "--check", "node --test", "--no-evolve", "--json"];
      const byEnv = await moss([...args, "-w", makeWorkspace(mathProject)], env);
      expect(byEnv.code, byEnv.stderr).toBe(0);
      expect(server.requests[0]!.body.model).toBe("env-model");
      expect(JSON.parse(byEnv.stdout)).toMatchObject({ totalCostUsd: null, unpricedModels: ["env-model"] });

      const byFlag = await moss([...args, "-w", makeWorkspace(mathProject), "-m", "flag-model"], env);
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(server.requests[2]!.body.model).toBe("flag-model");
      const human = await moss(["run", "fix add", "-w", makeWorkspace(mathProject), "--no-evolve"], {
        ...env,
        ANTHROPIC_BASE_URL: (await restart(doNothing())).url,
      });
      expect(human.stderr).toMatch(/cost unknown: no price for env-model; add it under "prices"/);
      expect(human.stdout).toMatch(/cost: unknown/);
      expect(human.stdout).not.toMatch(/\$0\.0000/);
      // The stored record says unknown (null), and `moss runs` shows it so, never $0.0000.
      const runId = JSON.parse(byEnv.stdout).runId as string;
      const stored = JSON.parse((await moss(["runs", "--json"])).stdout) as Array<{
        runId: string;
        costUsd: unknown;
      }>;
      expect(stored.find((r) => r.runId === runId)?.costUsd).toBeNull();
      const listed = (await moss(["runs"])).stdout.split("\n").find((l) => l.startsWith(runId));
      expect(listed).toMatch(/ turns {2}unknown {2}fix add/);
    },
  );

  itSandboxed(
    "reads the task from stdin (`-`) and from --task-file, of any size, and records the real task",
    async () => {
      const big = `fix add. ${"context line for the agent\n".repeat(6000)}`; // ~160 KB, over the argv limit
      expect(Buffer.byteLength(big)).toBeGreaterThan(128 * 1024);
      server = await startFakeModelServer([...fixTurns(), ...fixTurns()]);
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const common = ["--check", "node --test", "--no-evolve", "--json"];
      const piped = await moss(["run", "-", "-w", makeWorkspace(mathProject), ...common], env, repoRoot, big);
      expect(piped.code, piped.stderr).toBe(0);
      expect(JSON.parse(piped.stdout).task).toBe(big);
      expect(JSON.stringify(server.requests[0]!.body.messages)).toContain("context line for the agent");

      const file = path.join(tempDir("task"), "task.md");
      writeFileSync(file, big);
      const fromFile = await moss(
        ["run", "--task-file", file, "-w", makeWorkspace(mathProject), ...common],
        env,
      );
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(JSON.parse(fromFile.stdout).task).toBe(big);

      const both = await moss(["run", "x", "--task-file", file], env);
      expect(both).toMatchObject({ code: 2, stderr: expect.stringMatching(/give the task once/) });
      const none = await moss(["run"], env);
      expect(none).toMatchObject({ code: 2, stderr: expect.stringMatching(/say what the agent should do/) });
    },
  );

  itSandboxed(
    "colors: off when redirected and with NO_COLOR; on with FORCE_COLOR or --color always",
    async () => {
      server = await startFakeModelServer([...doNothing(), ...doNothing(), ...doNothing(), ...doNothing()]);
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url, FORCE_COLOR: undefined };
      const run = (extra: string[], more: NodeJS.ProcessEnv = {}) =>
        moss(
          [
            "run",
            "fix add",
            "-w",
            makeWorkspace(mathProject),
            "--check",
            "node --test",
            "--no-evolve",
            ...extra,
          ],
          {
            ...env,
            ...more,
          },
        );
      const plain = await run([]);
      expect(plain.stdout).toContain("FAIL score");
      expect(plain.stdout + plain.stderr).not.toContain(ESC);
      expect((await run(["--color", "always"], { NO_COLOR: "1" })).stdout).toContain(ESC);
      expect((await run([], { FORCE_COLOR: "1" })).stdout).toContain(ESC);
      const noColor = await run(["--color", "auto"], { NO_COLOR: "1", FORCE_COLOR: "1" });
      expect(noColor.stdout + noColor.stderr).not.toContain(ESC);
      expect((await moss(["--color", "sometimes", "runs"])).stderr).toMatch(
        /--color must be auto, always or never/,
      );
    },
  );

  itSandboxed(
    "exit codes: 1 for a failed run, 3 for a passing run not applied because the workspace changed meanwhile",
    async () => {
      const ws = makeWorkspace(mathProject);
      server = await startFakeModelServer([
        fixTurns()[0]!,
        { hangMs: 1500, body: anthropicMessage([{ type: "text", text: "Fixed add." }]) },
      ]);
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const running = moss(["run", "fix add", "-w", ws, "--check", "node --test", "--no-evolve"], env);
      // Another writer (a second run, an editor) changes the file while the agent works on it.
      while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 50));
      writeFileSync(path.join(ws, "src/math.js"), "export function add(a, b) {\n  return b + a;\n}\n");
      const r = await running;
      expect(r.stdout).toContain("PASS");
      expect(r.stdout).toContain("not applied: changed in the meantime: src/math.js");
      expect(r.code).toBe(3);
      expect(readFileSync(path.join(ws, "src/math.js"), "utf8")).toContain("b + a");
    },
  );

  itSandboxed(
    "timeouts as flags: --check-timeout kills a check that never ends, --model-timeout a hung model call",
    async () => {
      server = await startFakeModelServer([
        { hangMs: 60_000, body: {} },
        { hangMs: 60_000, body: {} },
        { hangMs: 60_000, body: {} },
        { hangMs: 60_000, body: {} },
      ]);
      const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: server.url };
      const r = await moss(
        [
          "run",
          "fix add",
          "-w",
          makeWorkspace(mathProject),
          "--no-evolve",
          "--json",
          "--model-timeout",
          "300ms",
        ],
        env,
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ exitReason: "model_error" });
      expect(JSON.parse(r.stdout).detail).toMatch(/timed out/);

      await restart(doNothing());
      const hung = await moss(
        [
          "run",
          "fix add",
          "-w",
          makeWorkspace(mathProject),
          "--check",
          "node -e 'setTimeout(() => {}, 600000)'",
          "--check-timeout",
          "1s",
          "--no-evolve",
          "--json",
        ],
        { ...env, ANTHROPIC_BASE_URL: server!.url },
      );
      // The baseline check on the untouched workspace is what hangs: the environment's failure (exit 2).
      expect(hung.code, hung.stderr).toBe(2);
      expect(JSON.parse(hung.stdout)).toMatchObject({ exitReason: "check_unrunnable" });
      expect(JSON.parse(hung.stdout).detail).toMatch(/timed out after 1 s/);
      expect((await moss(["run", "x", "--check-timeout", "soon"], env)).stderr).toMatch(
        /--check-timeout must be a duration/,
      );
    },
  );

  it("config discovery: user config, then the home's, then --config, each reported by `moss config`", async () => {
    const xdg = tempDir("xdg");
    mkdirSync(path.join(xdg, "moss"));
    writeFileSync(
      path.join(xdg, "moss", "config.json"),
      JSON.stringify({ threshold: 0.5, limits: { maxTurns: 7 } }),
    );
    const home = tempDir("cfghome");
    execFileSync("node", [path.join(repoRoot, "bin", "moss.js"), "init", path.join(home, "h")]);
    writeFileSync(path.join(home, "h", "moss.config.json"), JSON.stringify({ limits: { maxTurns: 9 } }));
    const extra = path.join(home, "extra.json");
    writeFileSync(extra, JSON.stringify({ models: { patcher: { model: "p-model" } } }));
    const r = await moss(["config", "--json", "--config", extra], {
      MOSS_HOME: path.join(home, "h"),
      XDG_CONFIG_HOME: xdg,
      MOSS_JUDGE_MODEL: "j-model",
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config).toMatchObject({
      threshold: 0.5,
      limits: { maxTurns: 9 },
      models: { patcher: { model: "p-model", provider: "anthropic" }, judge: { model: "j-model" } },
    });
    expect(out.origins).toMatchObject({
      threshold: `user config ${path.join(xdg, "moss", "config.json")}`,
      "limits.maxTurns": `home config ${path.join(home, "h", "moss.config.json")}`,
      "models.patcher.model": `--config ${extra}`,
      "models.judge.model": "environment",
      "limits.tokenBudget": "default",
    });
    const text = await moss(["config"], { MOSS_HOME: path.join(home, "h"), XDG_CONFIG_HOME: xdg });
    expect(text.stdout).toMatch(/limits\.maxTurns = 9\s+\(home config /);
  });

  it("moss completion prints scripts bash accepts and that complete the commands", async () => {
    const bash = await moss(["completion", "bash"]);
    expect(bash.code).toBe(0);
    const words = execFileSync(
      "bash",
      ["-c", `${bash.stdout}\nCOMP_WORDS=(moss ru); COMP_CWORD=1; _moss; echo "\${COMPREPLY[@]}"`],
      { encoding: "utf8" },
    );
    expect(words.trim().split(" ")).toEqual(expect.arrayContaining(["run", "runs"]));
    const opts = execFileSync(
      "bash",
      ["-c", `${bash.stdout}\nCOMP_WORDS=(moss run --task); COMP_CWORD=2; _moss; echo "\${COMPREPLY[@]}"`],
      { encoding: "utf8" },
    );
    expect(opts.trim()).toBe("--task-file");
    // A global option's value is not the command: `moss --home DIR run --task` completes run's options.
    const complete = (words: string[]) =>
      execFileSync(
        "bash",
        [
          "-c",
          `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _moss; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8", cwd: os.tmpdir() },
      ).trim();
    expect(complete(["moss", "--home", "/tmp/h", "run", "--task"])).toBe("--task-file");
    expect(complete(["moss", "--color", "never", "--home", "/tmp/h", "runs", "--pru"])).toBe("--prune");
    expect(complete(["moss", "--home", "/tmp/h", "ru"]).split(" ")).toEqual(
      expect.arrayContaining(["run", "runs"]),
    );
    // The value itself completes as a path, never as a command name.
    expect(complete(["moss", "--home", "ru"])).not.toMatch(/\bruns\b/);
    expect((await moss(["completion", "zsh"])).stdout).toContain("#compdef moss");
    expect((await moss(["completion", "fish"])).stdout).toContain("complete -c moss");
    expect((await moss(["completion", "tcsh"])).code).toBe(2);
  });
});

async function restart(replies: Parameters<typeof startFakeModelServer>[0]): Promise<FakeServer> {
  await server?.close();
  server = await startFakeModelServer(replies);
  return server;
}
