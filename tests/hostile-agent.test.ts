/**
 * A hostile agent attacks through the real binary: agent commands driven by the loopback fake
 * model, and agent-src variants that break the stdio protocol. Every case asserts what the user
 * sees: their folder, the run record, the exit reason and the bytes printed. A table of case ->
 * outcome is printed at the end.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessage } from "./helpers/fake-model-server.ts";
import { makeHome } from "./helpers/homes.ts";
import { commandReplies, hostileHome, hostileRun } from "./helpers/hostile-runs.ts";
import { mossBin } from "./helpers/moss-cli.ts";

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

describe("the channel: the harness trusts nothing the agent says", () => {
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
    "a second request while one is in flight is a protocol_error; only one reaches the API",
    async () => {
      const h = await hostileHome(`send(request(1)); send(request(2)); setInterval(() => {}, 1000);`);
      const { record, requests } = await hostileRun({ home: h, replies: [text("a"), text("b")] });
      expect(record).toMatchObject({ exitReason: "protocol_error" });
      expect(record.detail).toMatch(/while another was in flight/);
      expect(requests.length).toBeLessThanOrEqual(1);
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

describe("terminal output: agent text is shown, never obeyed", () => {
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
