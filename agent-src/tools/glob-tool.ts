import { readdir } from "node:fs/promises";
import { z } from "zod";
import { defineTool, description, ok, type Tool } from "./tool.ts";
import { globToRegExp, walkFiles } from "./walk.ts";
import { resolveInside } from "./workspace-path.ts";

const MAX_FILES = 500;

export function createGlobTool({ root }: { root: string }): Tool {
  const schema = z.object({ pattern: z.string().min(1).describe("Glob over workspace-relative paths") });
  return defineTool("glob", description("glob.md"), schema, async (input) => {
    const re = globToRegExp(input.pattern);
    const found: string[] = [];
    for await (const rel of walkFiles(root, root)) {
      if (re.test(rel)) found.push(rel);
      if (found.length >= MAX_FILES) break;
    }
    if (found.length === 0) return ok("No files match.");
    return ok(found.join("\n") + (found.length >= MAX_FILES ? `\n[stopped at ${MAX_FILES} files]` : ""));
  });
}

export function createListDirTool({ root }: { root: string }): Tool {
  const schema = z.object({ path: z.string().optional().describe("Folder relative to the workspace root") });
  return defineTool("list_dir", description("list-dir.md"), schema, async (input) => {
    const dir = resolveInside(root, input.path ?? ".");
    const entries = await readdir(dir, { withFileTypes: true });
    const names = entries
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
      .sort((a, b) => a.localeCompare(b));
    return ok(names.length ? names.join("\n") : "(empty folder)");
  });
}
