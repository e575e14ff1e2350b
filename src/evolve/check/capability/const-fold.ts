/**
 * Constant folding over an oxc (ESTree) AST: the value an expression has whatever the program's
 * input, when that can be read off the source (literals, arithmetic, string building, `const`
 * bindings, a few pure built-ins). Used so that limits compare by value (`2e5`, `2 ** 17`) and
 * names built from parts (`"child_" + "process"`, `` `greet${"ing"}.js` ``) are seen whole.
 * Best effort: anything it cannot evaluate is `undefined` ("not a constant"), never a guess.
 */

// biome-ignore lint/suspicious/noExplicitAny: ESTree nodes from the parser are plain JSON objects
export type Node = any;
export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

/** Longest string the folder builds, so `"x".repeat(1e9)` in a hostile patch costs nothing. */
const MAX_STRING = 10_000;
const NOT = undefined;

export class ConstFolder {
  private readonly memo = new Map<Node, Value | undefined>();
  private readonly active = new Set<Node>();

  /** `bindings`: the file's `const` declarations by name; a name declared twice is left out. */
  constructor(private readonly bindings: Map<string, Node>) {}

  fold(node: Node): Value | undefined {
    if (!node || typeof node !== "object") return NOT;
    if (this.memo.has(node)) return this.memo.get(node);
    if (this.active.has(node)) return NOT;
    this.active.add(node);
    let v: Value | undefined;
    try {
      v = this.evaluate(node);
    } catch {
      v = NOT;
    }
    this.active.delete(node);
    if (typeof v === "string" && v.length > MAX_STRING) v = NOT;
    this.memo.set(node, v);
    return v;
  }

  /** The folded value when it is a string, else undefined. */
  string(node: Node): string | undefined {
    const v = this.fold(node);
    return typeof v === "string" ? v : NOT;
  }

  private evaluate(n: Node): Value | undefined {
    switch (n.type) {
      case "Literal":
        if (n.regex || n.bigint != null) return NOT;
        return n.value as Value;
      case "TemplateLiteral": {
        let out = n.quasis[0]?.value.cooked ?? "";
        for (let i = 0; i < n.expressions.length; i++) {
          const e = this.fold(n.expressions[i]);
          if (e === NOT || typeof e === "object") return NOT;
          out += String(e) + (n.quasis[i + 1]?.value.cooked ?? "");
        }
        return out;
      }
      case "TaggedTemplateExpression":
        if (memberPath(n.tag) === "String.raw" && n.quasi.expressions.length === 0)
          return n.quasi.quasis[0]?.value.raw ?? "";
        return NOT;
      case "ParenthesizedExpression":
      case "TSAsExpression":
      case "TSSatisfiesExpression":
      case "TSNonNullExpression":
      case "TSTypeAssertion":
      case "ChainExpression":
        return this.fold(n.expression);
      case "SequenceExpression":
        return this.fold(n.expressions[n.expressions.length - 1]);
      case "Identifier":
        if (n.name === "Infinity") return Number.POSITIVE_INFINITY;
        if (n.name === "NaN") return Number.NaN;
        if (n.name === "undefined") return NOT;
        return this.bindings.has(n.name) ? this.fold(this.bindings.get(n.name)) : NOT;
      case "UnaryExpression":
        return unary(n.operator, this.fold(n.argument));
      case "BinaryExpression":
        return binary(n.operator, this.fold(n.left), this.fold(n.right));
      case "LogicalExpression": {
        const l = this.fold(n.left);
        if (l === NOT) return NOT;
        if (n.operator === "&&") return l ? this.fold(n.right) : l;
        if (n.operator === "||") return l ? l : this.fold(n.right);
        return l ?? this.fold(n.right);
      }
      case "ConditionalExpression": {
        const t = this.fold(n.test);
        return t === NOT ? NOT : this.fold(t ? n.consequent : n.alternate);
      }
      case "ArrayExpression": {
        const out: Value[] = [];
        for (const el of n.elements) {
          const v = el && el.type !== "SpreadElement" ? this.fold(el) : NOT;
          if (v === NOT) return NOT;
          out.push(v);
        }
        return out;
      }
      case "ObjectExpression": {
        const out: { [k: string]: Value } = {};
        for (const p of n.properties) {
          if (p.type !== "Property" || p.kind !== "init") return NOT;
          const key = p.computed ? this.fold(p.key) : (p.key.name ?? p.key.value);
          const v = this.fold(p.value);
          if (key === NOT || v === NOT) return NOT;
          out[String(key)] = v;
        }
        return out;
      }
      case "MemberExpression":
        return this.member(n);
      case "CallExpression":
        return this.call(n);
      default:
        return NOT;
    }
  }

  private member(n: Node): Value | undefined {
    const known = KNOWN_CONSTANTS[memberPath(n) ?? ""];
    if (known !== undefined) return known;
    const obj = this.fold(n.object);
    const key = n.computed ? this.fold(n.property) : n.property.name;
    if (obj === NOT || obj === null || key === NOT) return NOT;
    if (typeof obj === "string" || Array.isArray(obj)) {
      if (key === "length") return obj.length;
      return typeof key === "number" ? (obj[key] ?? NOT) : NOT;
    }
    if (typeof obj === "object" && Object.hasOwn(obj, String(key))) return obj[String(key)];
    return NOT;
  }

  private call(n: Node): Value | undefined {
    const args: Value[] = [];
    for (const a of n.arguments) {
      const v = a.type === "SpreadElement" ? NOT : this.fold(a);
      if (v === NOT) return NOT;
      args.push(v);
    }
    const path = memberPath(n.callee);
    const fn = path ? GLOBAL_FUNCTIONS[path] : undefined;
    if (fn) return fn(args);
    // Buffer.from(s, enc).toString(enc2): the usual way to hide a name in base64 or hex.
    const c = unwrap(n.callee);
    if (c?.type === "MemberExpression" && !c.computed && c.property.name === "toString") {
      const inner = unwrap(c.object);
      if (inner?.type === "CallExpression" && memberPath(inner.callee) === "Buffer.from") {
        const [text, enc] = inner.arguments.map((a: Node) => this.fold(a));
        if (typeof text !== "string") return NOT;
        return Buffer.from(text, typeof enc === "string" ? (enc as BufferEncoding) : "utf8").toString(
          typeof args[0] === "string" ? (args[0] as BufferEncoding) : "utf8",
        );
      }
    }
    if (c?.type !== "MemberExpression") return NOT;
    const self = this.fold(c.object);
    const method = c.computed ? this.fold(c.property) : c.property.name;
    if (self === NOT || typeof method !== "string") return NOT;
    return stringOrArrayMethod(self, method, args);
  }
}

/** The `const` bindings of a file by name (a name bound twice anywhere is left out). */
export function constBindings(program: Node): Map<string, Node> {
  const seen = new Map<string, Node>();
  const twice = new Set<string>();
  const stack: Node[] = [program];
  while (stack.length) {
    const n = stack.pop();
    if (!n || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      stack.push(...n);
      continue;
    }
    if (n.type === "VariableDeclarator" && n.id?.type === "Identifier") {
      const name = n.id.name as string;
      if (seen.has(name)) twice.add(name);
      seen.set(name, n.init);
    }
    for (const k in n) if (k !== "parent" && typeof n[k] === "object") stack.push(n[k]);
  }
  for (const name of twice) seen.delete(name);
  return seen;
}

/** `a.b.c` for a chain of non-computed member accesses on an identifier, else undefined. */
export function memberPath(node: Node): string | undefined {
  const n = unwrap(node);
  if (n?.type === "Identifier") return n.name;
  if (n?.type === "MemberExpression" && !n.computed && n.property.type === "Identifier") {
    const base = memberPath(n.object);
    return base === undefined ? undefined : `${base}.${n.property.name}`;
  }
  return undefined;
}

/** The expression under parentheses and TypeScript-only wrappers. */
export function unwrap(node: Node): Node {
  let n = node;
  while (
    n &&
    [
      "ParenthesizedExpression",
      "TSAsExpression",
      "TSSatisfiesExpression",
      "TSNonNullExpression",
      "TSTypeAssertion",
      "TSInstantiationExpression",
      "ChainExpression",
    ].includes(n.type)
  )
    n = n.expression;
  return n;
}

const KNOWN_CONSTANTS: Record<string, number> = {
  "Number.MAX_SAFE_INTEGER": Number.MAX_SAFE_INTEGER,
  "Number.MAX_VALUE": Number.MAX_VALUE,
  "Number.POSITIVE_INFINITY": Number.POSITIVE_INFINITY,
  "Number.EPSILON": Number.EPSILON,
};

const num = (v: Value) => (typeof v === "number" ? v : Number.NaN);
const GLOBAL_FUNCTIONS: Record<string, (a: Value[]) => Value | undefined> = {
  "String.fromCharCode": (a) => String.fromCharCode(...a.map(num)),
  "String.fromCodePoint": (a) => String.fromCodePoint(...a.map(num)),
  String: (a) => String(a[0]),
  Number: (a) => Number(a[0]),
  parseInt: (a) => Number.parseInt(String(a[0]), a[1] === undefined ? undefined : num(a[1]!)),
  "Number.parseInt": (a) => Number.parseInt(String(a[0]), a[1] === undefined ? undefined : num(a[1]!)),
  parseFloat: (a) => Number.parseFloat(String(a[0])),
  "Math.pow": (a) => num(a[0]!) ** num(a[1]!),
  "Math.max": (a) => Math.max(...a.map(num)),
  "Math.min": (a) => Math.min(...a.map(num)),
  "Math.round": (a) => Math.round(num(a[0]!)),
  "Math.floor": (a) => Math.floor(num(a[0]!)),
  "Math.ceil": (a) => Math.ceil(num(a[0]!)),
  "Math.trunc": (a) => Math.trunc(num(a[0]!)),
  atob: (a) => (typeof a[0] === "string" ? Buffer.from(a[0], "base64").toString("latin1") : NOT),
  decodeURIComponent: (a) => decodeURIComponent(String(a[0])),
};

function stringOrArrayMethod(self: Value, method: string, args: Value[]): Value | undefined {
  if (typeof self === "string") {
    const s = self;
    const str = (i: number) => (typeof args[i] === "string" ? (args[i] as string) : NOT);
    switch (method) {
      case "concat":
        return s + args.map(String).join("");
      case "toLowerCase":
      case "toUpperCase":
      case "trim":
      case "trimStart":
      case "trimEnd":
      case "normalize":
        return s[method]();
      case "split":
        return str(0) === NOT ? NOT : s.split(str(0)!);
      case "slice":
      case "substring":
        return s[method](num(args[0] ?? 0), args[1] === undefined ? undefined : num(args[1]));
      case "replace":
      case "replaceAll":
        return str(0) === NOT || str(1) === NOT ? NOT : s[method](str(0)!, str(1)!);
      case "repeat":
        return num(args[0]!) * s.length > MAX_STRING ? NOT : s.repeat(num(args[0]!));
      case "at":
      case "charAt":
        return s[method](num(args[0]!)) ?? NOT;
      case "padStart":
      case "padEnd":
        return num(args[0]!) > MAX_STRING ? NOT : s[method](num(args[0]!), str(1) ?? " ");
      default:
        return NOT;
    }
  }
  if (Array.isArray(self)) {
    switch (method) {
      case "join":
        return self.map(String).join(args[0] === undefined ? "," : String(args[0]));
      case "reverse":
        return [...self].reverse();
      case "concat":
        return self.concat(...args);
      case "slice":
        return self.slice(num(args[0] ?? 0), args[1] === undefined ? undefined : num(args[1]));
      default:
        return NOT;
    }
  }
  return NOT;
}

function unary(op: string, v: Value | undefined): Value | undefined {
  if (v === NOT) return NOT;
  switch (op) {
    case "-":
      return -num(v);
    case "+":
      return Number(v);
    case "~":
      return ~num(v);
    case "!":
      return !v;
    case "void":
      return NOT;
    default:
      return NOT;
  }
}

function binary(op: string, l: Value | undefined, r: Value | undefined): Value | undefined {
  if (l === NOT || r === NOT) return NOT;
  if (op === "+") {
    if (typeof l === "string" || typeof r === "string") {
      if (typeof l === "object" || typeof r === "object") return NOT;
      return String(l) + String(r);
    }
    return num(l) + num(r);
  }
  const a = num(l);
  const b = num(r);
  switch (op) {
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "%":
      return a % b;
    case "**":
      return a ** b;
    case "|":
      return a | b;
    case "&":
      return a & b;
    case "^":
      return a ^ b;
    case "<<":
      return a << b;
    case ">>":
      return a >> b;
    case ">>>":
      return a >>> b;
    case "===":
    case "==":
      return l === r;
    case "!==":
    case "!=":
      return l !== r;
    case "<":
      return a < b;
    case ">":
      return a > b;
    case "<=":
      return a <= b;
    case ">=":
      return a >= b;
    default:
      return NOT;
  }
}
