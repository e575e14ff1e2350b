/**
 * Entry point of the agent child process. The harness starts it with the trial workspace as
 * the working directory and talks to it over stdio (see src/contract/protocol.ts).
 */
import { runAgentLoop } from "./loop.ts";
import { systemPrompt } from "./prompts/index.ts";
import { StdioChannel } from "./stdio-channel.ts";
import { createTools } from "./tools/index.ts";

// stdout is the protocol channel: anything else printed goes to stderr.
console.log = (...args: unknown[]) => console.error(...args);

const channel = new StdioChannel(process.stdin, process.stdout);
channel.send({ type: "ready" });
const start = await channel.waitForStart();
const root = process.cwd();
const result = await runAgentLoop({
  task: start.task,
  systemPrompt: systemPrompt(),
  channel,
  tools: createTools(root, start.limits),
  limits: start.limits,
  signal: channel.abort.signal,
  onEvent: (event) => channel.send({ type: "event", event }),
});
channel.send({ type: "done", result });
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
process.exit(0);
