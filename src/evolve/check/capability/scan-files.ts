import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { type FileScan, scanProgram } from "./capability-scan.ts";
import type { Node } from "./const-fold.ts";

/** A file's scan, or why it could not be analysed (which rejects the candidate). */
export type ScanOutcome = FileScan | { error: string };

const parserUrl = pathToFileURL(createRequire(import.meta.url).resolve("oxc-parser")).href;

/**
 * The child that parses: the parser is native code, and hostile, deeply nested source can crash
 * it (a segfault, not an exception), so it never runs inside the harness's process. It reads
 * `[{ path, text }]` as JSON on stdin and writes `[{ program, comments, errors }]`.
 */
const CHILD = `
const { parseSync } = await import(${JSON.stringify(parserUrl)});
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const files = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const lang = (f) => /\\.tsx$/.test(f) ? "tsx" : /\\.jsx$/.test(f) ? "jsx" : /\\.[cm]?js$/.test(f) ? "js" : "ts";
const out = files.map(({ path, text }) => {
  const r = parseSync(path, text, { lang: lang(path), sourceType: "module", preserveParens: false });
  return { program: r.program, comments: r.comments.map((c) => c.value), errors: r.errors.map((e) => e.message) };
});
process.stdout.write(JSON.stringify(out));
`;

/**
 * Scans agent source files: parsed in a child process with a time and output cap, walked here.
 * Same order as `files`; when the child dies, every file gets the reason as its error.
 */
export async function scanFiles(
  files: Array<{ path: string; text: string }>,
  timeoutMs = 60_000,
): Promise<ScanOutcome[]> {
  if (files.length === 0) return [];
  const parsed = await new Promise<Array<{ program: Node; comments: string[]; errors: string[] }> | string>(
    (resolve) => {
      const child = execFile(
        process.execPath,
        ["--input-type=module", "-e", CHILD],
        { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH ?? "" } },
        (err, stdout) => {
          if (err)
            return resolve(
              `the capability analysis failed (${err.killed ? "timed out" : (err.signal ?? `exit ${err.code}`)}): code this deeply nested or large is refused`,
            );
          try {
            resolve(JSON.parse(stdout));
          } catch {
            resolve("the capability analysis returned no result");
          }
        },
      );
      child.stdin?.on("error", () => {});
      child.stdin?.end(JSON.stringify(files));
    },
  );
  if (typeof parsed === "string" || parsed.length !== files.length)
    return files.map(() => ({
      error: typeof parsed === "string" ? parsed : "the capability analysis lost files",
    }));
  return parsed.map((p, i) => {
    if (p.errors.length > 0) return { error: `does not parse: ${p.errors[0]!.slice(0, 200)}` };
    try {
      return scanProgram(files[i]!.text, p.program, p.comments);
    } catch (err) {
      return { error: `could not be analysed (${(err as Error).message.slice(0, 100)}): it is refused` };
    }
  });
}
