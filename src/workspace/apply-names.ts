import path from "node:path";

/** Linux limits: bytes in one path component, and in a whole path (PATH_MAX less its NUL). */
export const NAME_MAX = 255;
export const PATH_MAX = 4095;

/** Control characters (C0, DEL, C1) and bidi controls (LRM/RLM/ALM, embeddings, overrides, isolates). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Folder names that hold installed packages, never written by apply-back: even when a project's
 * .gitignore stops ignoring them (an agent may make that change in one run and write into them in
 * the next). `vendor` is left out: Go and PHP projects commit it as source.
 */
const INSTALLED = new Set(["node_modules", ".venv", "venv"]);

/** `rel` with every unsafe character shown as \u{..}, safe to print anywhere. */
export function showName(rel: string): string {
  return rel.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * Why `rel` cannot be written under `target`: a path inside an installed-dependency folder, a name
 * with control characters, escape sequences or
 * bidi overrides (a user's ls, shell or editor would show something else), a component over
 * NAME_MAX bytes, or a full path over PATH_MAX bytes in the target; null when it can.
 */
export function nameProblem(target: string, rel: string): string | null {
  const dep = rel.split("/").find((p) => INSTALLED.has(p));
  if (dep !== undefined)
    return `${showName(rel)}: inside a ${dep} folder; moss never writes installed dependencies`;
  UNSAFE.lastIndex = 0;
  if (UNSAFE.test(rel)) return `${showName(rel)}: its name holds control or bidi characters`;
  const long = rel.split("/").find((p) => Buffer.byteLength(p) > NAME_MAX);
  if (long !== undefined)
    return `${showName(rel)}: a name of ${Buffer.byteLength(long)} bytes, over the ${NAME_MAX} a folder allows`;
  const full = Buffer.byteLength(path.join(target, rel));
  if (full > PATH_MAX)
    return `${showName(rel)}: ${full} bytes as a path in ${target}, over the ${PATH_MAX} the system allows`;
  return null;
}
