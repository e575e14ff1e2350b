import {
  bindingChild,
  effectiveParent,
  type Frame,
  isNameOnly,
  keyIn,
  TYPE_KEYS,
  TYPE_NODES,
} from "./ast-frame.ts";
import {
  CAPABILITIES,
  CODE_RUNNERS,
  GLOBAL_OBJECTS,
  NETWORK,
  PROCESS_OK,
  PROCESS_REJECTED,
  PROCESS_WHAT,
  TEST_GLOBALS,
} from "./capability-lists.ts";
import { ConstFolder, constBindings, type Node, unwrap } from "./const-fold.ts";

/**
 * What one agent source file can reach, read off its TypeScript AST. A review aid, best effort:
 * reading source can never prove what code will do (the sandbox is the boundary). It catches
 * the obvious and the known tricks: computed access to `process`/`globalThis`, aliases, dynamic
 * import/require/eval/Function, the `.constructor` route to Function, names built from parts.
 */
export interface Finding {
  /** Stable identity, compared between the head and the candidate (`process.env`, `eval`). */
  key: string;
  text: string;
  severity: "reject" | "escalate";
}

export interface ImportUse {
  spec: string;
  line: number;
}

export interface LimitValue {
  name: string;
  /** null: set from something that is not a numeric constant. */
  value: number | null;
}

export interface FileScan {
  imports: ImportUse[];
  findings: Finding[];
  /** Every string the file builds from constants (literals, concatenations, templates, joins). */
  strings: string[];
  limits: LimitValue[];
  tsNoCheck: number;
  tsIgnore: number;
}

/** Binding/property names read as limits of the agent's own (`maxTurns`, `DEFAULT_LIMIT`). */
const LIMIT_NAME = /limit|max|timeout|budget|wallclock|turns/i;
const COMPARISON = new Set(["===", "!==", "==", "!=", "instanceof"]);
/** Scans one parsed file (`program` from oxc-parser, `comments` their texts). */
export function scanProgram(text: string, program: Node, comments: string[]): FileScan {
  const scan: FileScan = { imports: [], findings: [], strings: [], limits: [], tsNoCheck: 0, tsIgnore: 0 };
  for (const c of comments) {
    if (/@ts-nocheck/.test(c)) scan.tsNoCheck++;
    if (/@ts-(ignore|expect-error)/.test(c)) scan.tsIgnore++;
  }
  const folder = new ConstFolder(constBindings(program));
  limitAliases = aliasesOfLimits(program);
  toolImports = new Set();
  const lineOf = (pos: number) => text.slice(0, pos).split("\n").length;
  const strings = new Set<string>();
  const stack: Frame[] = [{ node: program, parent: null, key: "", binding: false }];
  while (stack.length) {
    const frame = stack.pop()!;
    const n = frame.node;
    if (TYPE_NODES.has(n.type)) continue;
    const folded = foldsToString(n) ? folder.string(n) : undefined;
    if (folded !== undefined) strings.add(folded);
    if (visit(frame, scan, folder, lineOf)) continue;
    for (const key of Object.keys(n)) {
      if (TYPE_KEYS.has(key)) continue;
      const child = n[key];
      const binding = bindingChild(frame, key);
      if (Array.isArray(child)) {
        for (let i = child.length - 1; i >= 0; i--)
          if (child[i] && typeof child[i].type === "string")
            stack.push({ node: child[i], parent: frame, key, binding });
      } else if (child && typeof child === "object" && typeof child.type === "string") {
        stack.push({ node: child, parent: frame, key, binding });
      }
    }
  }
  scan.strings = [...strings];
  return scan;
}

const foldsToString = (n: Node) =>
  (n.type === "Literal" && typeof n.value === "string") ||
  n.type === "TemplateLiteral" ||
  (n.type === "BinaryExpression" && n.operator === "+") ||
  n.type === "CallExpression";

function reject(scan: FileScan, key: string, text: string) {
  scan.findings.push({ key, text, severity: "reject" });
}
function escalate(scan: FileScan, key: string, text: string) {
  scan.findings.push({ key, text, severity: "escalate" });
}

/**
 * The global capability an expression names (`process`, `eval`, `fetch`, ...), seeing through
 * `globalThis.x`, `globalThis["x"]` and names built from constant parts; undefined otherwise.
 */
function capabilityOf(node: Node, folder: ConstFolder): string | undefined {
  const n = unwrap(node);
  if (n?.type === "Identifier") return CAPABILITIES.has(n.name) ? n.name : undefined;
  if (n?.type !== "MemberExpression") return undefined;
  const base = capabilityOf(n.object, folder);
  if (!base || !GLOBAL_OBJECTS.has(base)) return undefined;
  const name = n.computed ? folder.string(n.property) : n.property.name;
  return name && CAPABILITIES.has(name) ? name : undefined;
}

/** Handles one node; true when its children need no further walk. */
function visit(f: Frame, scan: FileScan, folder: ConstFolder, lineOf: (pos: number) => number): boolean {
  const n = f.node;
  switch (n.type) {
    case "ImportDeclaration":
    case "ExportAllDeclaration":
    case "ExportNamedDeclaration":
      if (n.source) scan.imports.push({ spec: String(n.source.value), line: lineOf(n.start) });
      if (n.type === "ImportDeclaration" && /(^|\/)tools\//.test(String(n.source.value)))
        for (const sp of n.specifiers ?? []) toolImports.add(sp.local.name);
      return false;
    case "TSImportEqualsDeclaration":
      if (n.moduleReference?.type === "TSExternalModuleReference")
        scan.imports.push({ spec: String(n.moduleReference.expression.value), line: lineOf(n.start) });
      return true;
    case "ImportExpression":
      dynamicImport(scan, folder, n.source, lineOf(n.start), "import()");
      return false;
    case "MetaProperty":
      return true;
    case "Literal":
      if (n.value === "constructor")
        reject(scan, "constructor", 'names "constructor" (the Function-constructor route to eval)');
      return false;
    case "UnaryExpression": {
      const arg = unwrap(n.argument);
      if (n.operator === "typeof" && arg?.type === "Identifier" && TEST_GLOBALS.has(arg.name))
        escalate(scan, `test-runner:${arg.name}`, `detects the test runner (typeof ${arg.name})`);
      break;
    }
    case "Identifier":
      if (isNameOnly(f)) return true;
      if (f.binding) {
        if (CAPABILITIES.has(n.name)) reject(scan, `rebind:${n.name}`, `declares its own "${n.name}"`);
        return true;
      }
      if (/^(vi|expect)$|^__vitest/.test(n.name))
        escalate(scan, `test-runner:${n.name}`, `detects the test runner (${n.name})`);
      break;
  }
  if (n.type === "MemberExpression") {
    const meta = unwrap(n.object);
    if (meta?.type === "MetaProperty" && !n.computed && /^(env|vitest|hot)$/.test(n.property.name))
      escalate(
        scan,
        `import.meta.${n.property.name}`,
        `detects the test runner (import.meta.${n.property.name})`,
      );
    const prop = n.computed ? folder.string(n.property) : n.property.name;
    if (prop === "constructor") constructorUse(f, scan);
    const owner = capabilityOf(n.object, folder);
    if (owner && GLOBAL_OBJECTS.has(owner) && prop && /vitest|^__/i.test(prop))
      escalate(scan, `test-runner:${prop}`, `detects the test runner (${owner}.${prop})`);
    if (n.computed) {
      // Legitimate code never needs `process[k]` or `globalThis[k]`; a constant key is no excuse.
      const base = capabilityOf(n.object, folder);
      if (base && (GLOBAL_OBJECTS.has(base) || base === "process"))
        reject(
          scan,
          `computed:${base}`,
          `computed property access on ${base}${prop ? ` (["${prop.slice(0, 40)}"])` : ""}`,
        );
    }
  }
  if (n.type === "Property" && f.binding && !n.computed && (n.key.name ?? n.key.value) === "constructor")
    reject(scan, "constructor", "destructures a constructor (the Function-constructor route to eval)");
  if (n.type === "Identifier" || n.type === "MemberExpression") {
    const cap = capabilityOf(n, folder);
    if (cap) {
      capabilityUse(cap, f, scan);
      return true;
    }
  }
  if (
    n.type === "CallExpression" &&
    unwrap(n.callee)?.type === "Identifier" &&
    unwrap(n.callee).name === "require"
  )
    dynamicImport(scan, folder, n.arguments[0], lineOf(n.start), "require()");
  if (
    n.type === "BinaryExpression" &&
    SCALING.has(n.operator) &&
    (isLimitsMember(n.left) || isLimitsMember(n.right))
  )
    escalate(scan, "limits:scaled", "scales the limits it was given (limits.x * n)");
  if (n.type === "AssignmentExpression" && (isLimitsMember(n.left) || isLimitsObject(n.left)))
    escalate(scan, "limits:rewritten", "rewrites the limits it was given");
  if (n.type === "UpdateExpression" && isLimitsMember(n.argument))
    escalate(scan, "limits:rewritten", "rewrites the limits it was given");
  if (n.type === "UnaryExpression" && n.operator === "delete" && isLimitsMember(n.argument))
    escalate(scan, "limits:rewritten", "rewrites the limits it was given (delete)");
  if (n.type === "CallExpression" && n.arguments.some((a: Node) => isLimitsObject(a))) {
    const callee = unwrap(n.callee);
    const what = callee?.type === "MemberExpression" && !callee.computed ? callee.property.name : "";
    if (OBJECT_WRITERS.has(what) && isLimitsObject(n.arguments[0]))
      escalate(scan, "limits:rewritten", `rewrites the limits it was given (${what})`);
  }
  if (n.type === "SpreadElement" && isLimitsObject(n.argument))
    escalate(scan, "limits:copied", "copies the limits it was given into a new object (spread)");
  if (
    n.type === "TSAsExpression" &&
    isLimitsObject(n.expression) &&
    n.typeAnnotation?.type === "TSAnyKeyword"
  )
    escalate(scan, "limits:any", "casts the limits it was given to any");
  if (
    n.type === "VariableDeclarator" &&
    n.init &&
    isLimitsObject(n.init) &&
    n.id.type === "Identifier" &&
    n.id.typeAnnotation?.typeAnnotation?.type === "TSAnyKeyword"
  )
    escalate(scan, "limits:any", `casts the limits it was given to any (${n.id.name})`);
  fileWrite(n, scan);
  limitOf(f, scan, folder);
  return false;
}

const SCALING = new Set(["*", "+", "**", "<<", "/"]);
/** Calls that write into their first argument (`Object.assign(limits, ...)`). */
const OBJECT_WRITERS = new Set(["assign", "defineProperty", "defineProperties", "set", "setPrototypeOf"]);
/** Names bound in the file being scanned to the limits object (`const L: any = start.limits`). */
let limitAliases = new Set<string>();
/** Names the file being scanned imports from the agent's tools/ folder (tool factories). */
let toolImports = new Set<string>();

/** `limits`, `x.limits` or a name bound to one of them: the limits object the harness hands the agent. */
function isLimitsObject(node: Node): boolean {
  const n = unwrap(node);
  return (
    (n?.type === "Identifier" && (n.name === "limits" || limitAliases.has(n.name))) ||
    (n?.type === "MemberExpression" && !n.computed && n.property.name === "limits") ||
    (n?.type === "MemberExpression" && n.computed && folderless(n.property) === "limits")
  );
}
const folderless = (n: Node) => (unwrap(n)?.type === "Literal" ? String(unwrap(n).value) : undefined);

/** Every name declared or assigned from the limits object or from another such name (to a fixpoint). */
function aliasesOfLimits(program: Node): Set<string> {
  limitAliases = new Set();
  const pairs: Array<[string, Node]> = [];
  const stack: Node[] = [program];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === "VariableDeclarator" && n.id?.type === "Identifier" && n.init)
      pairs.push([n.id.name, n.init]);
    if (n.type === "AssignmentExpression" && n.left?.type === "Identifier")
      pairs.push([n.left.name, n.right]);
    for (const v of Object.values(n))
      if (Array.isArray(v)) for (const c of v) c && typeof c.type === "string" && stack.push(c);
      else if (v && typeof v === "object" && typeof (v as Node).type === "string") stack.push(v as Node);
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, init] of pairs)
      if (!limitAliases.has(name) && isLimitsObject(init)) {
        limitAliases.add(name);
        grew = true;
      }
  }
  return limitAliases;
}

/**
 * File-writing APIs of node:fs. Agent code other than its tools must not touch the workspace on
 * its own (only a model's tool call may): the escalation check flags new uses outside tools/.
 */
const FS_WRITES = new Set(
  [
    "writeFile",
    "appendFile",
    "rm",
    "rmdir",
    "unlink",
    "rename",
    "mkdir",
    "copyFile",
    "cp",
    "truncate",
    "symlink",
    "link",
    "chmod",
    "chown",
    "utimes",
    "mkdtemp",
  ]
    .flatMap((x) => [x, `${x}Sync`])
    .concat(["createWriteStream", "open", "openSync", "write", "writeSync"]),
);
function fileWrite(n: Node, scan: FileScan) {
  if (n.type === "ImportSpecifier") {
    const imported = n.imported?.name ?? n.imported?.value;
    if (FS_WRITES.has(imported)) escalate(scan, "fs-write", `writes files itself (${imported})`);
    return;
  }
  if (n.type !== "CallExpression") return;
  const callee = unwrap(n.callee);
  if (callee?.type === "Identifier" && toolImports.has(callee.name))
    escalate(
      scan,
      "fs-write",
      `runs the agent's own tools itself (${callee.name}), outside a model's tool call`,
    );
  const name = callee?.type === "MemberExpression" && !callee.computed ? callee.property.name : undefined;
  if (name && FS_WRITES.has(name) && name !== "write" && name !== "open")
    escalate(scan, "fs-write", `writes files itself (${name})`);
}
const isLimitsMember = (node: Node) => {
  const n = unwrap(node);
  return n?.type === "MemberExpression" && isLimitsObject(n.object);
};

function dynamicImport(scan: FileScan, folder: ConstFolder, arg: Node, line: number, how: string) {
  const a = unwrap(arg);
  const literal =
    (a?.type === "Literal" && typeof a.value === "string") ||
    (a?.type === "TemplateLiteral" && a.expressions.length === 0);
  if (literal) {
    scan.imports.push({ spec: folder.string(a)!, line });
    return;
  }
  const guess = folder.string(a);
  reject(
    scan,
    "dynamic-import",
    `loads a module by computed name with ${how}${guess ? ` (it folds to "${guess.slice(0, 60)}")` : ""}`,
  );
}

/** A use of a global capability, judged by where it stands. */
function capabilityUse(cap: string, f: Frame, scan: FileScan) {
  const p = effectiveParent(f);
  const role = p ? keyIn(f, p) : "";
  const pt = p?.node.type;
  if (pt === "UnaryExpression" && p!.node.operator === "typeof") return;
  if (pt === "BinaryExpression" && COMPARISON.has(p!.node.operator)) return;
  if (CODE_RUNNERS.has(cap)) {
    reject(
      scan,
      cap,
      cap === "Worker" ? "starts a Worker (eval: true runs generated code)" : `uses ${cap} (generated code)`,
    );
    return;
  }
  const called = (pt === "CallExpression" || pt === "NewExpression") && role === "callee";
  if (NETWORK.has(cap)) {
    if (called) escalate(scan, `network:${cap}`, `adds network code (${cap})`);
    else reject(scan, `alias:${cap}`, `uses ${cap} as a value (an alias hides the network call)`);
    return;
  }
  if (cap === "require") {
    if (!(pt === "CallExpression" && role === "callee"))
      reject(scan, "alias:require", "uses require as a value (loads modules by computed name)");
    return;
  }
  if (pt === "MemberExpression" && role === "object") {
    const m = p!.node;
    // Computed access on process or a global object is rejected where the member is visited.
    if (cap === "process" && !m.computed) processMember(m.property.name, scan);
    if (GLOBAL_OBJECTS.has(cap) || m.computed || cap === "process") return;
    reject(scan, `alias:${cap}`, `uses ${cap}.${m.property.name} (an alias hides what it reaches)`);
    return;
  }
  reject(
    scan,
    `alias:${cap}`,
    `uses ${cap} as a value (an alias, destructuring or argument hides what it reaches)`,
  );
}

function processMember(name: string, scan: FileScan) {
  if (PROCESS_REJECTED.has(name))
    reject(scan, `process.${name}`, `uses process.${name} (native code or internals)`);
  else if (!PROCESS_OK.has(name))
    escalate(scan, `process.${name}`, PROCESS_WHAT[name] ?? `uses process.${name}`);
}

/** `f.constructor` may be read for its name or compared; calling or keeping it reaches Function. */
function constructorUse(f: Frame, scan: FileScan) {
  const p = effectiveParent(f);
  if (
    p?.node.type === "MemberExpression" &&
    keyIn(f, p) === "object" &&
    !p.node.computed &&
    p.node.property.name === "name"
  )
    return;
  if (p?.node.type === "BinaryExpression" && COMPARISON.has(p.node.operator)) return;
  reject(scan, "constructor", "reaches a function's constructor (the Function-constructor route to eval)");
}

/** Records a numeric limit set by a declaration, property, default or assignment. */
function limitOf(f: Frame, scan: FileScan, folder: ConstFolder) {
  const n = f.node;
  let name: string | undefined;
  let value: Node;
  if (n.type === "VariableDeclarator" && n.id.type === "Identifier" && n.init)
    [name, value] = [n.id.name, n.init];
  else if ((n.type === "Property" || n.type === "PropertyDefinition") && !n.computed && n.value) {
    name = n.key.name ?? (typeof n.key.value === "string" ? n.key.value : undefined);
    value = n.value;
    if (value.type === "AssignmentPattern") value = value.right;
  } else if (n.type === "AssignmentPattern" && n.left.type === "Identifier")
    [name, value] = [n.left.name, n.right];
  else if (n.type === "AssignmentExpression") {
    const l = unwrap(n.left);
    name =
      l.type === "Identifier"
        ? l.name
        : l.type === "MemberExpression" && !l.computed
          ? l.property.name
          : undefined;
    value = n.operator === "=" ? n.right : null;
  }
  if (
    !name ||
    !LIMIT_NAME.test(name) ||
    value?.type === "ObjectExpression" ||
    value?.type === "ArrowFunctionExpression"
  )
    return;
  if (value?.type === "FunctionExpression" || value?.type === "ObjectPattern") return;
  const v = value ? folder.fold(value) : undefined;
  scan.limits.push({ name, value: typeof v === "number" ? v : null });
}
