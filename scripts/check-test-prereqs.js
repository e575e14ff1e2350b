// Run before `npm test`. The suite runs agent code in the real sandbox (bubblewrap). Without it,
// the sandbox tests are skipped and say so in their titles; with MOSS_REQUIRE_SANDBOX=1 (set by
// .ci/run) a missing sandbox is an error, so CI always runs them.
import { spawnSync } from "node:child_process";

const probe = spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "true"], { stdio: "ignore" });
if (probe.error || probe.status !== 0) {
  const why = probe.error ? "bubblewrap (bwrap) is not installed" : "bubblewrap cannot create a sandbox here";
  const install = "apt-get update && apt-get install -y bubblewrap";
  if (process.env.MOSS_REQUIRE_SANDBOX === "1") {
    console.error(`npm test: MOSS_REQUIRE_SANDBOX=1 but ${why}. Install it with: ${install}`);
    process.exit(1);
  }
  console.error(
    `npm test: ${why}: the tests that run agent code in the real sandbox will be SKIPPED (their titles say NOT RUN).\n` +
      `Install it to run them: ${install}   (CI sets MOSS_REQUIRE_SANDBOX=1 so they always run there)`,
  );
}
