import { isBuiltin } from "node:module";
import path from "node:path";

/**
 * What an import specifier in an agent file reaches, and whether agent code may import it.
 * `reject`: never (harness code, paths outside the agent, code loaders, URLs); `escalate`: only
 * when the user consents (`--allow-escalation`) unless the file's allowlist has it; `ok`: always.
 */
export type ModuleVerdict =
  | { kind: "ok"; module: string }
  | { kind: "escalate"; module: string; what: string }
  | { kind: "reject"; module: string; why: string };

/** Built-ins any agent file may import: files, paths, text and data handling. */
const SAFE_BUILTINS = new Set([
  "assert",
  "assert/strict",
  "buffer",
  "console",
  "crypto",
  "events",
  "fs",
  "fs/promises",
  "path",
  "path/posix",
  "path/win32",
  "perf_hooks",
  "querystring",
  "readline",
  "readline/promises",
  "stream",
  "stream/promises",
  "stream/web",
  "string_decoder",
  "timers",
  "timers/promises",
  "url",
  "util",
  "util/types",
  "zlib",
]);

/** Built-ins that load or inspect code, or reach the process's internals: never from agent code. */
const REJECTED_BUILTINS: Record<string, string> = {
  vm: "evaluates generated code (vm)",
  module: "loads modules by computed name (module.createRequire / register)",
  inspector: "opens the inspector (runs code in any context)",
  "inspector/promises": "opens the inspector (runs code in any context)",
  worker_threads: "starts workers (Worker with eval runs generated code)",
  v8: "reaches V8 internals (v8)",
  repl: "evaluates generated code (repl)",
  wasi: "runs WebAssembly (wasi)",
  trace_events: "reaches process internals (trace_events)",
};

/** Built-ins that widen what the agent can reach; the user may allow them. */
const ESCALATING_BUILTINS: Record<string, string> = {
  child_process: "adds process-spawning code",
  cluster: "adds process-spawning code",
  net: "adds network code",
  http: "adds network code",
  https: "adds network code",
  http2: "adds network code",
  dgram: "adds network code",
  dns: "adds network code",
  "dns/promises": "adds network code",
  tls: "adds network code",
  os: "reaches outside the workspace (os)",
  process: "reaches the process object (env, chdir)",
};

/** File extensions a relative import may load as a module. */
const MODULE_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json"]);

export const isAgentTestFile = (file: string) => /\.test\.ts$/.test(file);

/**
 * Classifies `spec` imported from `file` (a repo-relative path under agent-src/). Relative paths
 * are resolved and must stay inside agent-src/ or src/contract/; `allowed` is the file's
 * allowlist (what it or the agent's other files imported at the head).
 */
export function classifyImport(spec: string, file: string, allowed: ReadonlySet<string>): ModuleVerdict {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !spec.startsWith("node:"))
    return { kind: "reject", module: spec.slice(0, 60), why: "imports a URL (data:, file:, http:)" };
  if (spec.startsWith("#"))
    return { kind: "reject", module: spec, why: "imports through a package.json import map (#)" };
  if (path.posix.isAbsolute(spec) || spec.startsWith("\\"))
    return { kind: "reject", module: spec, why: "imports an absolute path" };
  if (spec.startsWith(".")) return classifyRelative(spec, file);
  const name = spec.replace(/^node:/, "");
  if (spec.startsWith("node:") || isBuiltin(name)) {
    const rejected = REJECTED_BUILTINS[name];
    if (rejected) return { kind: "reject", module: `node:${name}`, why: rejected };
    if (SAFE_BUILTINS.has(name) || allowed.has(`node:${name}`)) return { kind: "ok", module: `node:${name}` };
    return {
      kind: "escalate",
      module: `node:${name}`,
      what: ESCALATING_BUILTINS[name] ?? `imports node:${name}`,
    };
  }
  const pkg = packageName(spec);
  if (allowed.has(pkg)) return { kind: "ok", module: pkg };
  return { kind: "escalate", module: pkg, what: `imports the package ${pkg}, new to agent-src` };
}

function classifyRelative(spec: string, file: string): ModuleVerdict {
  const clean = spec.split(/[?#]/)[0]!;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), clean));
  if (clean !== spec)
    return { kind: "reject", module: target, why: "imports with a query or fragment (a loader trick)" };
  if (target.startsWith("src/contract/")) return { kind: "ok", module: target };
  if (target.startsWith("src/"))
    return { kind: "reject", module: target, why: "imports harness code outside src/contract" };
  if (!target.startsWith("agent-src/"))
    return { kind: "reject", module: target, why: "imports a path outside agent-src and src/contract" };
  const ext = path.posix.extname(target);
  if (!ext) return { kind: "reject", module: target, why: "imports a path without a module extension" };
  if (!MODULE_EXTENSIONS.has(ext))
    return { kind: "reject", module: target, why: `loads a ${ext} file as a module` };
  if (isAgentTestFile(target) && !isAgentTestFile(file))
    return { kind: "reject", module: target, why: "imports a test file from agent code" };
  return { kind: "ok", module: target };
}

/** `zod` for `zod/v4`, `@scope/pkg` for `@scope/pkg/sub`. */
export function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}
