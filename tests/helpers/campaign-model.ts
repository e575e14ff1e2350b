import { PATCHER_SCRIPT } from "../../src/demo/demo-scenario.ts";
import { anthropicMessage, type FakeResponder } from "./fake-model-server.ts";
import { makeWorkspace } from "./workspaces.ts";

const OLD = 'export function greet(name) {\n  return "Hi " + name;';
const NEW = "export function greet(name) {\n  return `Hello, ${name}!`;";

/** The demo's patcher replies by tool name (the last of each: the plan and patch that pass the gate). */
const patcherReplies = new Map<string, unknown>();
for (const step of PATCHER_SCRIPT) {
  if (typeof step === "function") continue;
  const block = step.content[0];
  if (block?.type === "tool_use") patcherReplies.set(block.name, block.input);
}

/** The demo patcher's reply to a request that offers one submit_* tool, or null for any other request. */
export function demoPatcherReply(body: Record<string, unknown>) {
  const tools = (body.tools ?? []) as Array<{ name: string }>;
  const submit = tools.length === 1 && tools[0]?.name.startsWith("submit_") ? tools[0].name : null;
  return submit
    ? { body: anthropicMessage([{ type: "tool_use", name: submit, input: patcherReplies.get(submit) }]) }
    : null;
}

/**
 * A fake model for evolve campaigns on the demo's weakness (edit_file ignores CRLF): the executor
 * reads the task's file, edits it with LF text, and says done (so CRLF tasks fail until edit_file
 * is fixed); the patcher answers each submit_* request with the demo's fix. Replies depend only
 * on the request, so trials may arrive in any order.
 */
export function campaignResponder(): FakeResponder {
  return (body) => {
    const patcher = demoPatcherReply(body);
    if (patcher) return patcher;
    const messages = (body.messages ?? []) as Array<{ role: string; content: unknown }>;
    const file = /\[file (\S+?)\]/.exec(JSON.stringify(messages[0]?.content ?? ""))?.[1] ?? "src/greeting.js";
    const turn = messages.filter((m) => m.role === "assistant").length;
    if (turn === 0)
      return { body: anthropicMessage([{ type: "tool_use", name: "read_file", input: { path: file } }]) };
    if (turn === 1) {
      return {
        body: anthropicMessage([
          { type: "tool_use", name: "edit_file", input: { path: file, old_string: OLD, new_string: NEW } },
        ]),
      };
    }
    return { body: anthropicMessage([{ type: "text", text: "Done." }]) };
  };
}

/** A greet task on `src/<name>.js`, with CRLF or LF line endings, and its check. */
export function greetTask(id: string, name: string, crlf: boolean, split: "train" | "holdout" = "train") {
  const eol = crlf ? "\r\n" : "\n";
  const workspace = makeWorkspace({
    "package.json": `${JSON.stringify({ name: id, type: "module" })}\n`,
    [`src/${name}.js`]: ["export function greet(name) {", '  return "Hi " + name;', "}", ""].join(eol),
    "check.js": `import { greet } from "./src/${name}.js";\nif (greet("moss") !== "Hello, moss!") { console.log("FAIL: " + greet("moss")); process.exit(1); }\nconsole.log("ok");\n`,
  });
  return {
    id,
    prompt: `Make greet() in src/${name}.js return "Hello, <name>!" instead of "Hi <name>". [file src/${name}.js]`,
    workspace,
    check: "node check.js",
    split,
  };
}
