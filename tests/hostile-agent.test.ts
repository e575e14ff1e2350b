/**
 * A hostile agent attacks through the real binary: agent commands driven by the loopback fake
 * model, and agent-src variants that break the stdio protocol. Every case asserts what the user
 * sees: their folder, the run record, the exit reason and the bytes printed. A table of case ->
 * outcome is printed at the end.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { anthropicMessage } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { commandReplies, hostileHome, hostileRun } from "./helpers/hostile-runs.ts";
import { mossBin } from "./helpers/moss-cli.ts";
import { describeSandboxed } from "./helpers/sandbox-gate.ts";
import { makeWorkspace } from "./helpers/workspaces.ts";

const T = 120_000;
const outcomes: Array<[string, string]> = [];
const note = (name: string, outcome: string) => outcomes.push([name, outcome]);
afterAll(() => {
  const width = Math.max(...outcomes.map(([n]) => n.length));
  console.log(
    `\nhostile agent: ${outcomes.length} cases\n${outcomes.map(([n, o]) => `  ${n.padEnd(width)}  ${o}`).join("\n")}`,
  );
});

let home: string;
beforeAll(async () => {
  home = await makeHome();
}, T);

const ESC = "\x1b";
const text = (t: string) => ({ body: anthropicMessage([{ type: "text", text: t }]) });

describeSandboxed("the channel: the harness trusts nothing the agent says", () => {
  it(
    "a forged model_request with max_tokens 99999 is clamped to the configured limit",
    async () => {
      const h = await hostileHome(`
send(request(1, 99999)); await next();
done("completed", { turns: 0 }); await flush(); process.exit(0);`);
      const { requests, record } = await hostileRun({
        home: h,
        replies: [text("ok")],
        config: { limits: { maxOutputTokens: 512 } },
      });
      expect(requests.map((q) => q.max_tokens)).toEqual([512]);
      expect(record).toMatchObject({ exitReason: "completed", turns: 1 });
      note("forged max_tokens 99999", `API saw max_tokens ${requests[0]?.max_tokens}`);
    },
    T,
  );

  it(
    "a 520 MiB line without a newline ends the run as protocol_error, with a record",
    async () => {
      const h = await hostileHome(`
const chunk = "a".repeat(1 << 20);
for (let i = 0; i < 520; i++) {
  if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
}
await flush(); process.exit(0);`);
      const { r, record } = await hostileRun({ home: h });
      expect(r.stderr).not.toMatch(/Invalid string length/);
      expect(r.code).toBe(1);
      expect(record).toMatchObject({ exitReason: "protocol_error", passed: false, score: 0 });
      expect(record.detail).toMatch(/a line longer than 8388608 bytes/);
      note("520 MiB line", `${record.exitReason}, record kept, exit ${r.code}`);
    },
    T,
  );

  it(
    "invalid JSON on the channel is a protocol_error",
    async () => {
      const h = await hostileHome(`process.stdout.write("{not json\\n"); setInterval(() => {}, 1000);`);
      const { record } = await hostileRun({ home: h });
      expect(record).toMatchObject({ exitReason: "protocol_error", score: 0 });
      expect(record.detail).toMatch(/not protocol: \{not json/);
      note("invalid JSON", String(record.exitReason));
    },
    T,
  );

  it(
    "a message of the wrong shape is a protocol_error naming the field, and is never served",
    async () => {
      const h = await hostileHome(`
send({ type: "model_request", id: 1, request: { system: "s", tools: [], messages: "all of them", maxTokens: 5 } });
setInterval(() => {}, 1000);`);
      const { record, requests } = await hostileRun({ home: h });
      expect(record).toMatchObject({ exitReason: "protocol_error" });
      expect(record.detail).toMatch(/request\.messages/);
      expect(requests).toHaveLength(0);
      note("wrong-schema model_request", `${record.exitReason}, 0 API calls`);
    },
    T,
  );

  it(
    "a text field over the size cap is a protocol_error",
    async () => {
      const h = await hostileHome(`
send({ type: "event", event: { type: "assistant_text", turn: 1, text: "x".repeat(5 * 1024 * 1024) } });
setInterval(() => {}, 1000);`);
      const { record } = await hostileRun({ home: h });
      expect(record).toMatchObject({ exitReason: "protocol_error" });
      expect(record.detail).toMatch(/event\.text/);
      note("5 MiB text in an event", String(record.exitReason));
    },
    T,
  );

  it(
    "calls past maxTurns are refused by the harness: max_turns, and the API saw only maxTurns calls",
    async () => {
      const h = await hostileHome(`
for (let id = 1; id < 100; id++) { send(request(id)); await next(); }
done("completed"); await flush(); process.exit(0);`);
      const { record, requests } = await hostileRun({
        home: h,
        replies: Array.from({ length: 10 }, () => text("again")),
        config: { limits: { maxTurns: 3 } },
      });
      expect(requests).toHaveLength(3);
      expect(record).toMatchObject({ exitReason: "max_turns", turns: 3, score: 0 });
      expect(record.detail).toMatch(/turn 4 past its limit of 3/);
      note("99 calls at maxTurns 3", `${record.exitReason}, ${requests.length} API calls`);
    },
    T,
  );

  it(
    "calls past limits.costBudgetUsd are refused: budget_exhausted, one API call",
    async () => {
      const h = await hostileHome(`
for (let id = 1; id < 20; id++) { send(request(id)); await next(); }
done("completed"); await flush(); process.exit(0);`);
      const { record, requests } = await hostileRun({
        home: h,
        replies: Array.from({ length: 5 }, () => text("again")),
        config: {
          limits: { costBudgetUsd: 0.1 },
          prices: { "claude-haiku-5-5": { inputPerMTok: 1000, outputPerMTok: 1000 } },
        },
      });
      expect(requests).toHaveLength(1);
      expect(record).toMatchObject({ exitReason: "budget_exhausted", turns: 1 });
      expect(record.detail).toMatch(/cost budget exhausted \(\$0\.1500 of \$0\.1\)/);
      note("cost budget $0.10", `${record.exitReason} after ${requests.length} API call`);
    },
    T,
  );

  it(
    "an agent that reports completed with forged turns and usage gets the harness's counts",
    async () => {
      const h = await hostileHome(`
send(request(1)); await next(); send(request(2)); await next();
done("completed", { turns: 1, usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 } });
await flush(); process.exit(0);`);
      const { record } = await hostileRun({ home: h, replies: [text("a"), text("b")] });
      expect(record).toMatchObject({ exitReason: "completed", turns: 2 });
      expect(record.usage).toMatchObject({ inputTokens: 240, outputTokens: 60 });
      note("forged turns/usage in done", `turns ${record.turns}, ${JSON.stringify(record.usage)}`);
    },
    T,
  );

  it(
    "completed after a failed model call is a model_error, capped at 0.5",
    async () => {
      const h = await hostileHome(`
send(request(1)); await next();
done("completed"); await flush(); process.exit(0);`);
      const { record } = await hostileRun({
        home: h,
        replies: [
          { status: 400, body: { type: "error", error: { type: "invalid_request_error", message: "bad" } } },
        ],
        check: "true",
      });
      expect(record).toMatchObject({ exitReason: "model_error", score: 0.5, passed: false });
      expect(record.detail).toMatch(/the agent reported completed/);
      note("completed after an API error", `${record.exitReason}, score ${record.score}`);
    },
    T,
  );

  it(
    "completed after the wall clock is a timeout, capped at 0.5",
    async () => {
      const h = await hostileHome(`
send(request(1)); await next();
await new Promise((r) => setTimeout(r, 2500));
done("completed"); await flush(); process.exit(0);`);
      const { record } = await hostileRun({
        home: h,
        replies: [text("ok")],
        config: { limits: { wallClockMs: 1500 } },
        check: "true",
      });
      expect(record).toMatchObject({ exitReason: "timeout", score: 0.5 });
      note("completed after the wall clock", `${record.exitReason}, score ${record.score}`);
    },
    T,
  );

  it(
    "a second request while one is in flight is a protocol_error; only one reaches the API, and it is counted",
    async () => {
      const h = await hostileHome(`send(request(1)); send(request(2)); setInterval(() => {}, 1000);`);
      const { record, requests } = await hostileRun({ home: h, replies: [text("a"), text("b")] });
      expect(record).toMatchObject({ exitReason: "protocol_error" });
      expect(record.detail).toMatch(/while another was in flight/);
      expect(requests.length).toBe(1);
      // The call the harness did make is counted, although the run ended while it was in flight.
      expect((record.usage as { inputTokens: number }).inputTokens).toBeGreaterThan(0);
      note("two requests in flight", `${record.exitReason}, ${requests.length} API call(s)`);
    },
    T,
  );

  it(
    "an agent may not claim a harness-only exit reason",
    async () => {
      const h = await hostileHome(`done("sandbox_limit"); await flush(); process.exit(0);`);
      const { record } = await hostileRun({ home: h });
      expect(record).toMatchObject({ exitReason: "protocol_error" });
      expect(record.detail).toMatch(/a reason only the harness gives/);
      note("done with sandbox_limit", String(record.exitReason));
    },
    T,
  );

  it(
    "a tool command cannot take over the agent's channel (pidfd_getfd, /proc fd and mem)",
    async () => {
      const { record, requests, ws } = await hostileRun({
        home,
        files: { "hijack.py": HIJACK_PY },
        replies: commandReplies("python3 hijack.py > hijack.json 2>&1; cat hijack.json"),
        config: { limits: { maxOutputTokens: 512 } },
      });
      // The run was not applied (no check): the scratch is gone, so the report comes from the record.
      expect(ws).toBeTruthy();
      const transcript = readFileSync(
        path.join(home, "runs", String(record.runId), "transcript.jsonl"),
        "utf8",
      );
      const result = transcript
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.type === "tool_result");
      // The tool's own stdout is fair game (its parent bash): forged lines land there, as output.
      const reportLine = String(result.content)
        .split("\n")
        .find((l) => l.startsWith('[{"pid"'));
      const report = JSON.parse(reportLine ?? "[]");
      const agent = report.find((p: { comm: string }) => p.comm === "node");
      expect(agent, JSON.stringify(report)).toBeDefined();
      expect(agent.getfd).toMatch(/^errno (1|13)$/);
      expect(agent.procfd).toMatch(/^errno/);
      expect(agent.mem).toMatch(/^errno/);
      expect(requests.every((q) => (q.max_tokens as number) <= 512)).toBe(true);
      expect(requests).toHaveLength(2);
      expect(record).toMatchObject({ exitReason: "completed", turns: 2 });
      note("tool command hijacks the channel", `agent ${agent.getfd}; API calls ${requests.length}`);
    },
    T,
  );
});

/** Walks up from its parent and tries every way a same-uid process could take the agent's stdout. */
const HIJACK_PY = String.raw`
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
forged = (json.dumps({"type": "model_request", "id": 99, "request": {"system": "s", "tools": [],
  "messages": [{"role": "user", "content": [{"type": "text", "text": "pwned"}]}], "maxTokens": 99999}}) + "\n").encode()
def err(): return "errno %d" % ctypes.get_errno()
def ppid(pid):
    s = open("/proc/%d/stat" % pid).read()
    return int(s[s.rindex(")") + 2:].split()[1])
out = []
pid = os.getppid()
while pid > 1:
    row = {"pid": pid, "comm": open("/proc/%d/comm" % pid).read().strip()}
    pfd = libc.syscall(434, pid, 0)
    if pfd < 0:
        row["getfd"] = "open " + err()
    else:
        fd = libc.syscall(438, pfd, 1, 0)
        if fd < 0:
            row["getfd"] = err()
        else:
            row["getfd"] = "TOOK fd"
            try: os.write(fd, forged)
            except OSError as e: row["getfd"] += " write failed %s" % e.errno
    try:
        f = os.open("/proc/%d/fd/1" % pid, os.O_WRONLY); os.write(f, forged); row["procfd"] = "OPENED"
    except OSError as e: row["procfd"] = "errno %d" % e.errno
    try:
        f = os.open("/proc/%d/mem" % pid, os.O_RDWR); row["mem"] = "OPENED"
    except OSError as e: row["mem"] = "errno %d" % e.errno
    out.append(row)
    try: pid = ppid(pid)
    except OSError: break
print(json.dumps(out))
`;

describeSandboxed("terminal output: agent text is shown, never obeyed", () => {
  const nasty = `ok ${ESC}]52;c;cm0gLXJmIH4K${ESC}\\ line${ESC}[1A${ESC}[2K erased\rOVER \u202Egnp.exe \u009b31m c1`;

  it(
    "OSC 52, CSI erase/cursor moves, a lone CR, bidi and C1 in a file's content print visibly",
    async () => {
      const { r } = await hostileRun({
        home,
        replies: [
          {
            body: anthropicMessage([
              { type: "tool_use", name: "write_file", input: { path: "notes.txt", content: `${nasty}\n` } },
            ]),
          },
          text("done"),
        ],
        json: false,
        env: { FORCE_COLOR: "1" },
      });
      const printed = r.stdout + r.stderr;
      expect(printed).not.toContain(`${ESC}]`);
      expect(printed).not.toContain(`${ESC}[1A`);
      expect(printed).not.toContain(`${ESC}[2K`);
      expect(printed).not.toMatch(/\r(?!\n)/);
      expect(printed).not.toContain("\u202E");
      expect(printed).not.toContain("\u009b");
      expect(printed).toContain("^[]52;c;cm0gLXJmIH4K^[\\");
      expect(printed).toContain("^[[1A^[[2K erased^MOVER <U+202E>gnp.exe <U+009B>31m");
      // moss's own color is still there, applied after sanitizing.
      expect(printed).toContain(`${ESC}[32m+ok ^[]52`);
      note("OSC 52/CSI/CR/bidi/C1 in a file", "shown as ^[ ^M <U+202E> <U+009B>; moss colors kept");
    },
    T,
  );

  it(
    "a tool call's name and error shown in progress lines are sanitized",
    async () => {
      const { r } = await hostileRun({
        home,
        replies: [
          { body: anthropicMessage([{ type: "tool_use", name: `x${ESC}]52;c;aGk=\x07`, input: {} }]) },
          text("done"),
        ],
        json: false,
      });
      expect(r.stderr).not.toContain(ESC);
      expect(r.stderr).not.toContain("\x07");
      expect(r.stderr).toContain("→ x^[]52;c;aGk=^G");
      expect(r.stderr).toContain('✗ Unknown tool "x^[]52;c;aGk=^G"');
      note("escapes in tool input/output progress", "no raw ESC/BEL on stderr");
    },
    T,
  );

  it(
    "the agent's reported detail is sanitized in the summary",
    async () => {
      const h = await hostileHome(`
send(request(1)); await next();
done("model_error", { detail: "${"\\u001b"}]52;c;ZXZpbA==${"\\u0007"}${"\\u001b"}[2J cleared" });
await flush(); process.exit(0);`);
      const { r } = await hostileRun({ home: h, replies: [text("hi")], json: false });
      expect(r.stdout).not.toContain(ESC);
      expect(r.stdout).toContain("^[]52;c;ZXZpbA==^G^[[2J cleared");
      note("escapes in the agent's detail", "shown as ^[ ^G");
    },
    T,
  );

  it(
    "--json output escapes C1 and bidi characters too (same value when parsed)",
    async () => {
      const { r, out } = await hostileRun({
        home,
        replies: [
          {
            body: anthropicMessage([
              {
                type: "tool_use",
                name: "write_file",
                input: { path: "a.txt", content: "x\u009b2J\u202Ey\n" },
              },
            ]),
          },
          text("done"),
        ],
      });
      expect(r.stdout).not.toContain("\u009b");
      expect(r.stdout).not.toContain("\u202E");
      expect(r.stdout).toContain("\\u009b2J\\u202ey");
      expect(String(out?.diff)).toContain("+x\u009b2J\u202Ey");
      note("C1/bidi in --json", "escaped as \\u009b \\u202e");
    },
    T,
  );

  it(
    "`moss runs` sanitizes what it lists",
    async () => {
      await hostileRun({ home, replies: [text("done")], task: `fix ${ESC}]52;c;aGk=${ESC}\\ it` });
      const runs = execFileSync(process.execPath, [mossBin, "--home", home, "runs"], {
        env: { ...process.env, FORCE_COLOR: "0" },
      }).toString();
      expect(runs).not.toContain(ESC);
      expect(runs).toContain("fix ^[]52;c;aGk=^[\\ it");
      note("moss runs", "no raw ESC");
    },
    T,
  );
});

describeSandboxed("apply-back: a narrow, checked copy into the user's folder", () => {
  const mode = (file: string) => statSync(file).mode & 0o7777;
  /** A workspace with a plain file, an executable script and a script to be made executable. */
  const workspace = () => {
    const ws = makeWorkspace({
      "notes.txt": "keep me\n",
      "run.sh": "#!/bin/sh\necho run\n",
      "build.sh": "#!/bin/sh\necho build\n",
    });
    chmodSync(path.join(ws, "notes.txt"), 0o644);
    chmodSync(path.join(ws, "run.sh"), 0o755);
    chmodSync(path.join(ws, "build.sh"), 0o644);
    return ws;
  };
  /** The agent runs `command`; the check always passes, so moss applies what it may. */
  const applyRun = (command: string, extra: Partial<Parameters<typeof hostileRun>[0]> = {}) =>
    hostileRun({ home, ws: workspace(), replies: commandReplies(command), check: "true", ...extra });

  it(
    "a set-uid copy of a shell lands without the set-uid bit, and the summary says it is executable",
    async () => {
      const { ws, record } = await applyRun("cp /bin/sh t && chmod 4755 t");
      expect(record).toMatchObject({ passed: true, applied: true, madeExecutable: ["t"] });
      expect(mode(path.join(ws, "t"))).toBe(0o755);
      note("set-uid shell", `applied as ${mode(path.join(ws, "t")).toString(8)}, listed as made executable`);
    },
    T,
  );

  it(
    "set-gid and sticky bits and world-write are dropped",
    async () => {
      const { ws, record } = await applyRun("echo g > g && chmod 2775 g && echo s > s && chmod 1666 s");
      expect(record).toMatchObject({ applied: true });
      expect(mode(path.join(ws, "g"))).toBe(0o755);
      expect(mode(path.join(ws, "s"))).toBe(0o644);
      note(
        "set-gid, sticky, world-write",
        `g ${mode(path.join(ws, "g")).toString(8)}, s ${mode(path.join(ws, "s")).toString(8)}`,
      );
    },
    T,
  );

  it(
    "an existing file chmod 6777 keeps the user's rw bits and is reported as newly executable",
    async () => {
      const { ws, record } = await applyRun("echo more >> notes.txt && chmod 6777 notes.txt");
      expect(record).toMatchObject({ applied: true, madeExecutable: ["notes.txt"] });
      expect(mode(path.join(ws, "notes.txt"))).toBe(0o755);
      expect(readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("keep me\nmore\n");
      note("chmod 6777 on an existing file", `applied as ${mode(path.join(ws, "notes.txt")).toString(8)}`);
    },
    T,
  );

  it(
    "an executable script the agent edits stays executable, and is not reported as new",
    async () => {
      const { ws, record } = await applyRun("echo 'echo more' >> run.sh");
      expect(record).toMatchObject({ applied: true, madeExecutable: [] });
      expect(mode(path.join(ws, "run.sh"))).toBe(0o755);
      note("edit an executable", "stays 755, not reported");
    },
    T,
  );

  it(
    "chmod +x alone is a change: shown in the diff, applied, and reported",
    async () => {
      const { ws, record } = await applyRun("chmod +x build.sh");
      expect(record.diff).toContain("old mode 100644\nnew mode 100755");
      expect(record).toMatchObject({ applied: true, madeExecutable: ["build.sh"] });
      expect(mode(path.join(ws, "build.sh"))).toBe(0o755);
      note("chmod +x only", "diff shows the mode; applied; reported");
    },
    T,
  );

  it(
    "a symlink to /etc/passwd is refused, and with it the whole attempt",
    async () => {
      const { ws, record } = await applyRun("ln -s /etc/passwd pw && echo ok > ok.txt");
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toMatch(/pw: a symlink to \/etc\/passwd, outside the workspace/);
      expect(existsSync(path.join(ws, "ok.txt"))).toBe(false);
      expect(() => lstatSync(path.join(ws, "pw"))).toThrow();
      note("symlink to /etc/passwd", "refused; nothing applied");
    },
    T,
  );

  it(
    "a relative symlink that climbs out, and an absolute one into the scratch, are refused",
    async () => {
      const { ws, record } = await applyRun('ln -s ../../../../etc/shadow up && ln -s "$PWD/notes.txt" abs');
      expect(record).toMatchObject({ applied: false });
      expect(String(record.applyRefused)).toMatch(/up: a symlink to \.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow/);
      expect(String(record.applyRefused)).toMatch(/abs: a symlink to \/.*notes\.txt, outside the workspace/);
      expect(() => lstatSync(path.join(ws, "up"))).toThrow();
      note("symlinks ../ out and into the scratch", "refused");
    },
    T,
  );

  it(
    "a symlink that stays inside the workspace is applied as a symlink",
    async () => {
      const { ws, record } = await applyRun(
        "ln -s notes.txt link && mkdir real && ln -s real alias && echo x > alias/f",
      );
      expect(record).toMatchObject({ applied: true });
      expect(readlinkSync(path.join(ws, "link"))).toBe("notes.txt");
      expect(readlinkSync(path.join(ws, "alias"))).toBe("real");
      expect(readFileSync(path.join(ws, "real/f"), "utf8")).toBe("x\n");
      note("symlinks inside the workspace", "applied as symlinks");
    },
    T,
  );

  it(
    "symlinks planted at the old temp-file names (<file>.moss-<pid>.tmp) are never written through",
    async () => {
      const outside = mkdtempSync(path.join(os.tmpdir(), "moss-victim-"));
      const victim = path.join(outside, "victim");
      writeFileSync(victim, "untouched\n");
      const { ws, record } = await applyRun("echo changed > notes.txt && echo new > new.txt", {
        before: `for f in notes.txt new.txt; do ln -s ${victim} "$W/$f.moss-$$.tmp"; done`,
      });
      expect(record).toMatchObject({ applied: true });
      expect(readFileSync(victim, "utf8")).toBe("untouched\n");
      expect(readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("changed\n");
      expect(readFileSync(path.join(ws, "new.txt"), "utf8")).toBe("new\n");
      note("planted temp-name symlinks", "victim untouched; files applied");
    },
    T,
  );

  it(
    "a FIFO never blocks the run and is never created in the user's folder",
    async () => {
      const { ws, record } = await applyRun("mkfifo pipe && echo ok > ok.txt");
      expect(record).toMatchObject({ applied: true });
      expect(existsSync(path.join(ws, "pipe"))).toBe(false);
      expect(readFileSync(path.join(ws, "ok.txt"), "utf8")).toBe("ok\n");
      note("new FIFO", "not created; the rest applied");
    },
    T,
  );

  it(
    "a FIFO or a socket in place of a user's file is refused, and the file stays",
    async () => {
      const { ws, record } = await applyRun(
        "rm notes.txt && mkfifo notes.txt && rm run.sh && python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('run.sh')\"",
      );
      expect(record).toMatchObject({ applied: false });
      expect(String(record.applyRefused)).toMatch(/notes\.txt: a FIFO/);
      expect(String(record.applyRefused)).toMatch(/run\.sh: a socket/);
      expect(readFileSync(path.join(ws, "notes.txt"), "utf8")).toBe("keep me\n");
      expect(readFileSync(path.join(ws, "run.sh"), "utf8")).toContain("echo run");
      note("FIFO/socket replacing files", "refused; files intact");
    },
    T,
  );

  it(
    "a device node cannot even be made in the sandbox",
    async () => {
      const { ws, record } = await applyRun("mknod null2 c 1 3; echo tried > tried.txt");
      expect(record).toMatchObject({ applied: true });
      expect(existsSync(path.join(ws, "null2"))).toBe(false);
      note("mknod a device", "failed in the sandbox; not in the folder");
    },
    T,
  );

  it(
    "an 8 GB sparse file does not abort the run: reported by size, never read, not applied",
    async () => {
      const { ws, record, r } = await applyRun("truncate -s 8G big.bin", {
        config: { sandbox: { diskMb: 10_240 } },
      });
      expect(r.stderr).not.toMatch(/ERR_FS_FILE_TOO_LARGE|Invalid string length/);
      expect(record).toMatchObject({ exitReason: "completed", passed: true, applied: false });
      expect(record.diff).toContain("(8589934592 bytes) differ: not diffed");
      expect(String(record.applyRefused)).toMatch(/over the cap of 209715200 \(workspace\.maxApplyBytes/);
      expect(existsSync(path.join(ws, "big.bin"))).toBe(false);
      note(
        "8 GB sparse file",
        `record kept; diff ${(record.timings as Record<string, number>).diffMs} ms; refused by size`,
      );
    },
    T,
  );

  it(
    "a 7,000-line rewrite is diffed within bounds and applied exactly",
    async () => {
      const ws = makeWorkspace({
        "big.txt": Array.from({ length: 7000 }, (_, i) => `old line ${i}`).join("\n") + "\n",
      });
      const { record } = await hostileRun({
        home,
        ws,
        replies: commandReplies("seq 7000 | sed 's/^/new line /' > big.txt"),
        check: "true",
      });
      expect(record).toMatchObject({ applied: true });
      expect(record.diff).toContain("@@ -1,7000 +1,7000 @@");
      const want = Array.from({ length: 7000 }, (_, i) => `new line ${i + 1}`).join("\n") + "\n";
      expect(readFileSync(path.join(ws, "big.txt"), "utf8")).toBe(want);
      note("7,000-line rewrite", `diff ${(record.timings as Record<string, number>).diffMs} ms; applied`);
    },
    T,
  );

  it(
    "more files than workspace.maxApplyFiles: nothing applied, the cap named",
    async () => {
      const { ws, record } = await applyRun("mkdir m && for i in $(seq 60); do echo $i > m/$i; done", {
        config: { workspace: { maxApplyFiles: 50 } },
      });
      expect(record).toMatchObject({ passed: true, applied: false });
      expect(String(record.applyRefused)).toMatch(
        /changed 60 files, over the cap of 50 \(workspace\.maxApplyFiles/,
      );
      expect(existsSync(path.join(ws, "m"))).toBe(false);
      note("60 files at a cap of 50", "refused, cap named");
    },
    T,
  );

  it(
    "more bytes than workspace.maxApplyBytes: nothing applied, the cap named",
    async () => {
      const { ws, record } = await applyRun("head -c 3000000 /dev/zero | tr '\\0' a > a.txt", {
        config: { workspace: { maxApplyBytes: 1_000_000 } },
      });
      expect(record).toMatchObject({ applied: false });
      expect(String(record.applyRefused)).toMatch(/3000000 bytes, over the cap of 1000000/);
      expect(existsSync(path.join(ws, "a.txt"))).toBe(false);
      note("3 MB at a cap of 1 MB", "refused, cap named");
    },
    T,
  );

  it(
    "a file replaced by a folder is applied, and no temp folder is left behind",
    async () => {
      const { ws, record } = await applyRun("rm notes.txt && mkdir notes.txt && echo in > notes.txt/inner");
      expect(record).toMatchObject({ applied: true });
      expect(readFileSync(path.join(ws, "notes.txt/inner"), "utf8")).toBe("in\n");
      expect(readdirSync(ws).filter((n) => n.startsWith(".moss"))).toEqual([]);
      note("file -> folder", "applied; no temp left");
    },
    T,
  );
});

describeSandboxed("terminal output of the record and the consent prompt", () => {
  const evil = `${ESC}]52;c;cm0gLXJmIH4K${ESC}\\${ESC}[2K\rclean`;

  it(
    "`moss log` shows a hostile record's diagnosis, plan, reason, gate output and diff visibly",
    async () => {
      const { appendRecord, newEvolutionId } = await import("../src/log/evolution-log.ts");
      const id = newEvolutionId();
      const { recordDraft } = await import("../src/evolve/land/record-draft.ts");
      appendRecord(
        home,
        recordDraft({
          id,
          kind: "evolution",
          task: `task ${evil}`,
          triggerScore: 0,
          attempt: 1,
          diagnosis: `diagnosis ${evil}`,
          plan: `plan ${evil}`,
          rationale: `rationale ${evil}`,
          diff: `--- a/agent-src/x.ts\n+++ b/agent-src/x.ts\n@@ -1 +1 @@\n-a\n+b ${evil}\n`,
          gate: {
            passed: false,
            typecheck: { passed: false, output: `tsc ${evil}` },
            tests: [{ name: `test ${evil}`, file: "t.test.ts", status: "failed", message: evil }],
            summary: `summary ${evil}`,
            ms: 1,
          },
          verdict: "rejected",
          reason: `reason ${evil}`,
          parentCommit: "0".repeat(40),
        }),
      );
      const env = { ...process.env, FORCE_COLOR: "1" };
      const one = execFileSync(process.execPath, [mossBin, "--home", home, "log", id, "--diff"], {
        env,
      }).toString();
      const list = execFileSync(process.execPath, [mossBin, "--home", home, "log"], { env }).toString();
      for (const out of [one, list]) {
        expect(out).not.toContain(`${ESC}]`);
        expect(out).not.toContain(`${ESC}[2K`);
        expect(out).not.toMatch(/\r(?!\n)/);
      }
      for (const field of ["diagnosis", "plan", "rationale", "reason", "tsc", "summary", "test", "+b"])
        expect(one).toContain(`${field} ^[]52;c;cm0gLXJmIH4K^[\\^[[2K^Mclean`);
      expect(list).toContain("reason ^[]52;c;");
      note("moss log of a hostile record", "every field shown as ^[ ^M; colors kept");
    },
    T,
  );

  it("the consent prompt shows the candidate's diff sanitized, then colored", async () => {
    const { consentPrompt } = await import("../src/cli/evolve-hook.ts");
    const { default: chalk } = await import("chalk");
    const level = chalk.level;
    chalk.level = 1;
    try {
      const shown = consentPrompt({
        diff: `--- a/agent-src/loop.ts\n+++ b/agent-src/loop.ts\n@@ -1 +1,2 @@\n+evil()${ESC}[1A${ESC}[2K\n+${ESC}]52;c;aGk=\x07\n`,
        before: 0,
        after: [1],
      });
      expect(shown).not.toContain(`${ESC}[1A`);
      expect(shown).not.toContain(`${ESC}]`);
      expect(shown).toContain(`${ESC}[32m+evil()^[[1A^[[2K`);
      expect(shown).toContain("+^[]52;c;aGk=^G");
    } finally {
      chalk.level = level;
    }
    note("consent prompt diff", "sanitized, then colored");
  });
});
