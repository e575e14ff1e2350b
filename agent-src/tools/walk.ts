import { readdir } from "node:fs/promises";
import path from "node:path";
import { SKIPPED_DIRS } from "./workspace-path.ts";

/** Yields workspace-relative file paths under `dir`, depth first, skipping SKIPPED_DIRS. */
export async function* walkFiles(root: string, dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walkFiles(root, abs);
    } else if (entry.isFile()) {
      yield path.relative(root, abs).split(path.sep).join("/");
    }
  }
}

/** Turns a glob (`*`, `**`, `?`, `{a,b}`) into a RegExp over workspace-relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") re += "(?:";
    else if (c === "}") re += ")";
    else if (c === "," && re.includes("(?:")) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  // A pattern without a slash matches the file name anywhere, as in .gitignore.
  return glob.includes("/") ? new RegExp(`^${re}$`) : new RegExp(`(?:^|/)${re}$`);
}
