/** The names the capability check knows: globals and process members, by what they reach. */

/** Objects that hold every global: `globalThis.process` is `process`. */
export const GLOBAL_OBJECTS = new Set(["globalThis", "global", "window", "self"]);
/** Globals that run generated code: any use rejects. */
export const CODE_RUNNERS = new Set([
  "eval",
  "Function",
  "WebAssembly",
  "ShadowRealm",
  "Worker",
  "SharedWorker",
]);
export const NETWORK = new Set(["fetch", "WebSocket", "XMLHttpRequest", "EventSource"]);
export const CAPABILITIES = new Set([...GLOBAL_OBJECTS, ...CODE_RUNNERS, ...NETWORK, "process", "require"]);

export const PROCESS_REJECTED = new Set([
  "binding",
  "_linkedBinding",
  "dlopen",
  "getBuiltinModule",
  "mainModule",
  "moduleLoadList",
  "reallyExit",
  "execve",
  "setuid",
  "setgid",
  "seteuid",
  "setegid",
  "setgroups",
  "initgroups",
  "_debugProcess",
]);
export const PROCESS_OK = new Set([
  "stdin",
  "stdout",
  "stderr",
  "cwd",
  "exit",
  "exitCode",
  "pid",
  "platform",
  "arch",
  "version",
  "versions",
  "nextTick",
  "hrtime",
  "memoryUsage",
  "uptime",
  "on",
  "once",
  "off",
  "removeListener",
  "emitWarning",
]);
export const PROCESS_WHAT: Record<string, string> = {
  env: "reads environment variables",
  chdir: "changes the working directory",
  kill: "signals processes",
  argv: "reads the command line (test-runner detection)",
  execArgv: "reads the command line (test-runner detection)",
};

/** Globals a test runner defines: agent code that looks for them behaves differently under test. */
export const TEST_GLOBALS = new Set([
  "describe",
  "it",
  "test",
  "expect",
  "vi",
  "vitest",
  "beforeAll",
  "beforeEach",
  "afterAll",
  "afterEach",
  "suite",
]);
