import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { defineTool, description, fail, ok, type Tool } from "./tool.ts";
import { globToRegExp, walkFiles } from "./walk.ts";
import { resolveInside } from "./workspace-path.ts";

const MAX_MATCHES = 200;

export function createSearchTool({ root }: { root: string }): Tool {
  const schema = z.object({
    pattern: z.string().min(1).describe("JavaScript regular expression"),
    path: z.string().optional().describe("Folder or file to search, relative to the workspace root"),
    glob: z.string().optional().describe("Only files whose path matches this glob"),
    ignore_case: z.boolean().optional(),
  });
  return defineTool("grep", description("search.md"), schema, async (input) => {
    let re: RegExp;
    try {
      re = new RegExp(input.pattern, input.ignore_case ? "i" : "");
    } catch (err) {
      return fail(`Invalid regular expression: ${(err as Error).message}`);
    }
    const start = resolveInside(root, input.path ?? ".");
    const filter = input.glob ? globToRegExp(input.glob) : null;
    const files = (await stat(start)).isFile() ? [path.relative(root, start)] : walkFiles(root, start);
    const matches: string[] = [];
    for await (const rel of files) {
      if (filter && !filter.test(rel)) continue;
      const text = await readFile(path.join(root, rel), "utf8").catch(() => "");
      if (text.includes("\u0000")) continue;
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length && matches.length < MAX_MATCHES; i++) {
        if (re.test(lines[i]!)) matches.push(`${rel}:${i + 1}: ${lines[i]!.slice(0, 300)}`);
      }
      if (matches.length >= MAX_MATCHES) break;
    }
    if (matches.length === 0) return ok("No matches.");
    const note =
      matches.length >= MAX_MATCHES ? `\n[stopped at ${MAX_MATCHES} matches; narrow the search]` : "";
    return ok(matches.join("\n") + note);
  });
}
