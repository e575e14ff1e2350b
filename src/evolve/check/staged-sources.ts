import { git } from "../../git/repo.ts";

export const isTestFile = (file: string) => /\.(test|spec)\.[cm]?[jt]sx?$/.test(file);
const isAgentCode = (file: string) => file.startsWith("agent-src/") && /\.[cm]?[jt]sx?$/.test(file);

/** A changed source file of a staged candidate: its text at HEAD and as staged ("" when absent). */
export interface StagedSource {
  path: string;
  before: string;
  after: string;
}

/**
 * The HEAD and staged text of every changed file the integrity checks read (test files, and
 * code under agent-src), fetched once for all of them.
 */
export async function readStagedSources(dir: string, files: string[]): Promise<StagedSource[]> {
  const show = (rev: string) =>
    git(dir)
      .raw(["show", rev])
      .catch(() => "");
  return Promise.all(
    files
      .filter((f) => isTestFile(f) || isAgentCode(f))
      .map(async (path) => ({ path, before: await show(`HEAD:${path}`), after: await show(`:${path}`) })),
  );
}

export const countMatches = (text: string, re: RegExp) => text.match(re)?.length ?? 0;
