/**
 * Who a sandboxed process is, which decides its environment. Every policy is an allowlist: no
 * API key or token of the user's reaches it unless named here, whatever its variable is called.
 * - agent, check: agent code and what it wrote; marked MOSS_AGENT=1.
 * - gate: the candidate's typecheck and tests; non-interactive (CI=1, no colour).
 * - patcher: an external coding CLI; also gets the variables config names for it (its API key).
 */
export type EnvPolicy =
  | { kind: "agent" }
  | { kind: "check" }
  | { kind: "gate" }
  | { kind: "patcher"; pass: string[] };

const BASE = ["PATH", "LANG", "LC_ALL", "TERM", "TZ", "SHELL", "USER"];

/**
 * The environment of a sandboxed (or, with --no-sandbox, unsandboxed) child. HOME and TMPDIR
 * point at `privateHome`, an empty folder of its own; never the user's home.
 */
export function childEnv(
  policy: EnvPolicy,
  parent: NodeJS.ProcessEnv,
  privateHome: string,
  tmpDir = privateHome,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: privateHome, TMPDIR: tmpDir };
  const pass = policy.kind === "patcher" ? [...BASE, ...policy.pass] : BASE;
  for (const key of pass) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  if (policy.kind === "agent" || policy.kind === "check") env.MOSS_AGENT = "1";
  if (policy.kind === "gate") Object.assign(env, { FORCE_COLOR: "0", CI: "1" });
  return env;
}
