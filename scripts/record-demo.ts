/**
 * Re-records src/demo/demo.cassette.json from the demo's scripted model replies. Run it after a
 * deliberate change to what the model sees (prompts, tool schemas, evidence): npm run demo:record
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../src/cli/home.ts";
import { EXECUTOR_SCRIPT, PATCHER_SCRIPT } from "../src/demo/demo-scenario.ts";
import { runDemo } from "../src/demo/run-demo.ts";
import { createScriptedProvider } from "../src/models/scripted-provider.ts";

const cassette = path.join(packageRoot, "src", "demo", "demo.cassette.json");
rmSync(cassette, { force: true });
const result = await runDemo({
  packageRoot,
  sandbox: null,
  source: {
    record: cassette,
    providers: {
      executor: createScriptedProvider(EXECUTOR_SCRIPT, "claude-haiku-5-5"),
      patcher: createScriptedProvider(PATCHER_SCRIPT, "claude-opus-5-5"),
    },
  },
});
rmSync(result.dir, { recursive: true, force: true });
console.log(`\nrecorded ${cassette}`);
