import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { defineTool, description, ok, type Tool } from "./tool.ts";
import { resolveInside } from "./workspace-path.ts";

export function createWriteFileTool({ root }: { root: string }): Tool {
  const schema = z.object({
    path: z.string().min(1).describe("Path relative to the workspace root"),
    content: z.string().describe("The full new content of the file"),
  });
  return defineTool("write_file", description("write-file.md"), schema, async (input) => {
    const file = resolveInside(root, input.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, input.content);
    return ok(`Wrote ${input.content.length} characters to ${input.path}`);
  });
}
