import { readFileSync } from "node:fs";
import { z } from "zod";
import type { ToolSpec } from "../../src/contract/index.ts";

/** What a tool hands back to the loop. Failures are results with isError, never throws. */
export interface ToolOutput {
  content: string;
  isError: boolean;
}

export interface Tool {
  spec: ToolSpec;
  run(input: unknown, signal: AbortSignal): Promise<ToolOutput>;
}

/** Reads a tool's model-facing description from the .md file beside its code. */
export function description(file: string): string {
  return readFileSync(new URL(`./${file}`, import.meta.url), "utf8").trim();
}

export const ok = (content: string): ToolOutput => ({ content, isError: false });
export const fail = (content: string): ToolOutput => ({ content, isError: true });

/**
 * Builds a tool from a zod schema: input is validated before `run` sees it, and an invalid
 * input becomes a readable tool error the model can act on.
 */
export function defineTool<S extends z.ZodType>(
  name: string,
  descriptionText: string,
  schema: S,
  run: (input: z.infer<S>, signal: AbortSignal) => Promise<ToolOutput>,
): Tool {
  const jsonSchema = z.toJSONSchema(schema) as Record<string, unknown>;
  delete jsonSchema.$schema;
  return {
    spec: { name, description: descriptionText, input_schema: jsonSchema },
    async run(input, signal) {
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`);
        return fail(`Invalid input for ${name}: ${issues.join("; ")}`);
      }
      try {
        return await run(parsed.data, signal);
      } catch (err) {
        return fail(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  };
}

/** Keeps the head and tail of long text and says how much was cut. */
export function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  const cut = text.length - 2 * half;
  return `${text.slice(0, half)}\n[... ${cut} characters truncated ...]\n${text.slice(text.length - half)}`;
}
