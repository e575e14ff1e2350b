import type { Node } from "./const-fold.ts";

/** Where a node stands in the walked AST: its parent chain and whether it declares names. */
/** Keys under which a node holds only TypeScript types, erased at run time. */
export const TYPE_KEYS = new Set([
  "typeAnnotation",
  "returnType",
  "typeParameters",
  "typeArguments",
  "superTypeArguments",
  "implements",
]);
export const TYPE_NODES = new Set([
  "TSTypeAliasDeclaration",
  "TSInterfaceDeclaration",
  "TSDeclareFunction",
  "TSImportType",
  "TSTypeQuery",
]);
export const WRAPPERS = new Set([
  "ParenthesizedExpression",
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSNonNullExpression",
  "TSTypeAssertion",
  "TSInstantiationExpression",
  "ChainExpression",
]);

export interface Frame {
  node: Node;
  parent: Frame | null;
  key: string;
  /** Inside a binding pattern: identifiers here declare names. */
  binding: boolean;
}

/** Whether `key` of the frame's node holds a binding pattern (names being declared). */
export function bindingChild(frame: Frame, key: string): boolean {
  const t = frame.node.type;
  if (frame.binding) {
    if (t === "AssignmentPattern") return key === "left";
    if (t === "Property") return key === "value";
    return !(frame.node.computed && key === "key");
  }
  if (t === "VariableDeclarator") return key === "id";
  if (/Function/.test(t)) return key === "params" || key === "id";
  if (t === "ClassDeclaration" || t === "ClassExpression") return key === "id";
  if (t === "CatchClause") return key === "param";
  return /^Import(Default|Namespace)?Specifier$/.test(t) && key === "local";
}

/** The frame above `f`, skipping parentheses and type assertions around an expression. */
export function effectiveParent(f: Frame): Frame | null {
  let p = f.parent;
  while (p && WRAPPERS.has(p.node.type)) p = p.parent;
  return p;
}

/** The child of `p` on the path to `f` (through wrappers): its key in `p`. */
export function keyIn(f: Frame, p: Frame): string {
  let c = f;
  while (c.parent && c.parent !== p) c = c.parent;
  return c.key;
}

/** A non-reference identifier position: property names, labels, import/export names. */
export function isNameOnly(f: Frame): boolean {
  const p = f.parent;
  if (!p) return false;
  const t = p.node.type;
  if (t === "MemberExpression") return f.key === "property" && !p.node.computed;
  if (["Property", "MethodDefinition", "PropertyDefinition", "AccessorProperty"].includes(t))
    return f.key === "key" && !p.node.computed;
  if (["LabeledStatement", "BreakStatement", "ContinueStatement"].includes(t)) return f.key === "label";
  if (t === "ImportSpecifier") return f.key === "imported";
  if (t === "ExportSpecifier" || t === "ExportAllDeclaration") return f.key === "exported";
  return ["MetaProperty", "TSEnumMember", "TSModuleDeclaration", "ImportAttribute"].includes(t);
}
