// Run before `npm test`: the suite runs the real sandbox, so it needs bubblewrap installed.
import { spawnSync } from "node:child_process";

const probe = spawnSync("bwrap", ["--version"], { stdio: "ignore" });
if (probe.error || probe.status !== 0) {
  console.error(
    "npm test needs bubblewrap: the suite runs agent code in the real sandbox.\n" +
      "Install it with: apt-get update && apt-get install -y bubblewrap   (CI does this in .ci/run)",
  );
  process.exit(1);
}
