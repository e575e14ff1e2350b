import { readFile, writeFile } from "node:fs/promises";
import { createTwoFilesPatch } from "diff";
import { z } from "zod";
import { defineTool, description, fail, ok, type Tool } from "./tool.ts";
import { resolveInside } from "./workspace-path.ts";

export function createEditFileTool({ root }: { root: string }): Tool {
  const schema = z.object({
    path: z.string().min(1).describe("Path relative to the workspace root"),
    old_string: z.string().min(1).describe("The exact text to replace"),
    new_string: z.string().describe("The replacement text"),
    replace_all: z.boolean().optional().describe("Replace every occurrence instead of exactly one"),
  });
  return defineTool("edit_file", description("edit-file.md"), schema, async (input) => {
    const file = resolveInside(root, input.path);
    const raw = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === "ENOENT" ? `no such file: ${input.path}` : err.message);
    });
    const bom = raw.startsWith("\uFEFF") ? "\uFEFF" : "";
    const crlf = raw.includes("\r\n");
    // Match on LF text so the model need not reproduce the file's line endings.
    const text = (bom ? raw.slice(1) : raw).replace(/\r\n/g, "\n");
    const oldText = input.old_string.replace(/\r\n/g, "\n");
    const newText = input.new_string.replace(/\r\n/g, "\n");
    const count = text.split(oldText).length - 1;
    if (count === 0)
      return fail(`old_string was not found in ${input.path}. Read the file and copy the text exactly.`);
    if (count > 1 && !input.replace_all) {
      return fail(
        `old_string occurs ${count} times in ${input.path}; add context to make it unique or set replace_all`,
      );
    }
    const updated = input.replace_all
      ? text.split(oldText).join(newText)
      : text.replace(oldText, () => newText);
    await writeFile(file, bom + (crlf ? updated.replace(/\n/g, "\r\n") : updated));
    const patch = createTwoFilesPatch(input.path, input.path, text, updated, undefined, undefined, {
      context: 2,
    });
    return ok(patch.split("\n").slice(1).join("\n"));
  });
}
