import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { copyFolder, findTaskFolders, suiteBuilder } from "./suite-builder.ts";

/** The part of an exercise's `.meta/config.json` the importer reads. */
const ExerciseConfigSchema = z.object({
  files: z.object({
    solution: z.array(z.string()).default([]),
    test: z.array(z.string()).default([]),
    example: z.array(z.string()).default([]),
  }),
  blurb: z.string().optional(),
});

interface Language {
  /** The check run in the scratch workspace after the agent. */
  check: (tests: string[]) => string;
  /** Installs what the check needs, once per task before the trials. */
  setup?: string;
}

/** Per track: the check, and the set-up its tests need (the polyglot benchmark's six tracks). */
const LANGUAGES: Record<string, Language> = {
  python: { check: (tests) => `python3 -m pytest -q ${tests.join(" ")}`.trim() },
  javascript: { check: () => "npm test", setup: "npm install --no-audit --no-fund" },
  go: { check: () => "go test ./..." },
  rust: { check: () => "cargo test -- --include-ignored" },
  java: { check: () => "gradle test --offline" },
  cpp: { check: () => "cmake -S . -B build && cmake --build build" },
};

const EXTENSIONS: Record<string, string> = {
  ".py": "python",
  ".js": "javascript",
  ".mjs": "javascript",
  ".go": "go",
  ".rs": "rust",
  ".java": "java",
  ".cpp": "cpp",
  ".cc": "cpp",
  ".h": "cpp",
};

/**
 * Imports Exercism practice exercises (the layout of Exercism tracks and of the polyglot
 * benchmark: `<track>/exercises/practice/<slug>/` with `.docs/instructions.md`,
 * `.meta/config.json` and the solution stub and test files) into a suite. The workspace is the
 * exercise without `.meta/` (which holds the reference solution); the prompt is the instructions.
 * `src` may be one exercise, a folder of exercises, or a whole checkout.
 */
export function importExercism(
  src: string,
  out: string,
): { file: string; added: string[]; skipped: string[] } {
  const root = path.resolve(src);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root} is not a folder`);
  const exercises = findTaskFolders(root, 5, (d) => existsSync(path.join(d, ".meta", "config.json")));
  if (!exercises.length) {
    throw new UsageError(
      `no Exercism exercises under ${root}: an exercise is a folder with .meta/config.json and .docs/instructions.md`,
    );
  }
  const builder = suiteBuilder(out, `Imported from the Exercism layout at ${root}`);
  for (const dir of exercises) {
    const configFile = path.join(dir, ".meta", "config.json");
    let config: z.infer<typeof ExerciseConfigSchema>;
    try {
      config = ExerciseConfigSchema.parse(JSON.parse(readFileSync(configFile, "utf8")));
    } catch (err) {
      throw new UsageError(
        `${configFile}: not an exercise config (${(err as Error).message.split("\n")[0]})`,
      );
    }
    const slug = path.basename(dir);
    const language = detectLanguage(dir, [...config.files.solution, ...config.files.test]);
    const lang = language ? LANGUAGES[language] : undefined;
    if (!language || !lang)
      throw new UsageError(`${dir}: cannot tell the exercise's language from its files`);
    const instructions = ["introduction.md", "instructions.md", "instructions.append.md"]
      .map((f) => path.join(dir, ".docs", f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f, "utf8").trim())
      .join("\n\n");
    const prompt = [
      instructions || config.blurb || `Solve the exercise "${slug}".`,
      `Change only these files: ${config.files.solution.join(", ")}. Keep the names of existing functions, classes and ` +
        `modules: the tests in ${config.files.test.join(", ")} use them. Use only the standard library.`,
    ].join("\n\n");
    builder.add({
      id: `${language}-${slug}`,
      prompt,
      check: lang.check(config.files.test),
      ...(lang.setup ? { setup: lang.setup } : {}),
      split: "train",
      tags: ["exercism", language],
      fill: (ws) => {
        copyFolder(dir, ws, (rel) => rel === ".meta" || rel.startsWith(".meta/") || rel === "node_modules");
        if (language === "javascript") unskipTests(ws, config.files.test);
      },
    });
  }
  return builder.save();
}

function detectLanguage(dir: string, files: string[]): string | undefined {
  const parts = dir.split(path.sep);
  const track = parts[parts.lastIndexOf("exercises") - 1];
  if (track && LANGUAGES[track]) return track;
  for (const f of files) {
    const lang = EXTENSIONS[path.extname(f)];
    if (lang) return lang;
  }
  return undefined;
}

/** Exercism's JavaScript tests skip all but the first case (`xtest`); every case should count. */
function unskipTests(ws: string, tests: string[]): void {
  for (const rel of tests) {
    const file = path.join(ws, rel);
    if (!existsSync(file)) continue;
    writeFileSync(file, readFileSync(file, "utf8").replace(/\bx(test|it)\(/g, "$1("));
  }
}
