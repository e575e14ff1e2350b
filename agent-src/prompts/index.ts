import { readFileSync } from "node:fs";

/** The system prompt, read from system.md so a change to it is a plain diff. */
export function systemPrompt(): string {
  return readFileSync(new URL("./system.md", import.meta.url), "utf8").trim();
}
