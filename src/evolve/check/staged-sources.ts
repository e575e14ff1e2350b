import { spawn } from "node:child_process";
import { git } from "../../git/repo.ts";

/** A test file as vitest collects it in the gate (`agent-src/**\/*.test.ts`); nothing else is one. */
export const isTestFile = (file: string) => /\.test\.ts$/.test(file);
/** Code under agent-src: parsed by the capability check (a `.spec.ts` is code too). */
export const isAgentCode = (file: string) => file.startsWith("agent-src/") && /\.[cm]?[jt]sx?$/.test(file);

/** The agent's code files at HEAD and as staged in `dir`, by path. */
export interface AgentSources {
  head: Map<string, string>;
  staged: Map<string, string>;
}

/** Reads every code file under agent-src at HEAD and in the index, in one `git cat-file` batch. */
export async function readAgentSources(dir: string): Promise<AgentSources> {
  const repo = git(dir);
  const headList = await repo.raw(["ls-tree", "-r", "-z", "HEAD", "--", "agent-src"]);
  const stagedList = await repo.raw(["ls-files", "-s", "-z", "--", "agent-src"]);
  const entries = (list: string, oidAt: number) =>
    list
      .split("\0")
      .filter(Boolean)
      .map((line) => {
        const [meta, file] = line.split("\t") as [string, string];
        return { file, oid: meta.split(" ")[oidAt]! };
      })
      .filter((e) => isAgentCode(e.file));
  const head = entries(headList, 2);
  const staged = entries(stagedList, 1);
  const blobs = await catBlobs(dir, [...new Set([...head, ...staged].map((e) => e.oid))]);
  const toMap = (list: Array<{ file: string; oid: string }>) =>
    new Map(list.map((e) => [e.file, blobs.get(e.oid) ?? ""]));
  return { head: toMap(head), staged: toMap(staged) };
}

/** The text of each blob, by object id. */
function catBlobs(dir: string, oids: string[]): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["cat-file", "--batch"], { cwd: dir, stdio: ["pipe", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => chunks.push(b));
    child.on("error", reject);
    child.on("close", () => {
      const all = Buffer.concat(chunks);
      const out = new Map<string, string>();
      let at = 0;
      while (at < all.length) {
        const eol = all.indexOf(10, at);
        if (eol < 0) break;
        const [oid, type, size] = all.subarray(at, eol).toString("utf8").split(" ");
        if (type === "missing" || size === undefined) {
          at = eol + 1;
          continue;
        }
        const n = Number(size);
        out.set(oid!, all.subarray(eol + 1, eol + 1 + n).toString("utf8"));
        at = eol + 1 + n + 1;
      }
      resolve(out);
    });
    child.stdin.on("error", () => {});
    child.stdin.end(oids.map((o) => `${o}\n`).join(""));
  });
}
