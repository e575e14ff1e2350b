import { readFile } from "node:fs/promises";
import { z } from "zod";
import { defineTool, description, fail, ok, type Tool } from "./tool.ts";
import { resolveInside } from "./workspace-path.ts";

const DEFAULT_LIMIT = 2000;

export function createReadFileTool({ root }: { root: string }): Tool {
  const schema = z.object({
    path: z.string().min(1).describe("Path relative to the workspace root"),
    offset: z.number().int().min(1).optional().describe("First line to read, 1-based"),
    limit: z.number().int().min(1).optional().describe("Number of lines to read"),
  });
  return defineTool("read_file", description("read-file.md"), schema, async (input) => {
    const file = resolveInside(root, input.path);
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === "ENOENT" ? `no such file: ${input.path}` : err.message);
    });
    if (text.includes("\u0000")) return fail(`${input.path} looks like a binary file`);
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    const start = (input.offset ?? 1) - 1;
    if (start >= lines.length && lines.length > 0) {
      return fail(`offset ${input.offset} is past the end of ${input.path} (${lines.length} lines)`);
    }
    const end = Math.min(lines.length, start + (input.limit ?? DEFAULT_LIMIT));
    const body = lines
      .slice(start, end)
      .map((line, i) => `${String(start + i + 1).padStart(6)}→${line}`)
      .join("\n");
    const more = end < lines.length ? `\n[${lines.length - end} more lines; use offset=${end + 1}]` : "";
    return ok(body + more);
  });
}
