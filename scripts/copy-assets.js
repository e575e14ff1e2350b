// Copies model-facing .md files from src/ to dist/ beside the compiled code that reads them.
import { cpSync, readdirSync } from "node:fs";
import path from "node:path";

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(from);
    else if (entry.name.endsWith(".md") || entry.name.endsWith(".cassette.json")) cpSync(from, path.join("dist", path.relative("src", from)));
  }
}
walk("src");
