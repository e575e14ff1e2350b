import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";

/** What of the home an external patcher must leave alone, each part reduced to one hash. */
export type HomeFingerprint = Record<string, string>;

/**
 * Hashes the parts of the home that decide how moss and git behave: moss.config.json,
 * .git/config and .git/hooks by content, node_modules by names, sizes and modification times
 * (cheap for thousands of files; a rewrite that keeps all three is not seen).
 */
export function fingerprintHome(home: string): HomeFingerprint {
  const modules = path.join(home, "node_modules");
  return {
    "moss.config.json": hashTree(path.join(home, "moss.config.json"), true),
    ".git/config": hashTree(path.join(home, ".git", "config"), true),
    ".git/hooks": hashTree(path.join(home, ".git", "hooks"), true),
    node_modules: hashTree(existsSync(modules) ? realpathSync(modules) : modules, false),
  };
}

/** The parts whose hash changed between two fingerprints. */
export function changedParts(before: HomeFingerprint, after: HomeFingerprint): string[] {
  return Object.keys(before).filter((k) => before[k] !== after[k]);
}

function hashTree(root: string, byContent: boolean): string {
  const h = createHash("sha256");
  const visit = (p: string, rel: string) => {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      h.update(`${rel}\0absent\n`);
      return;
    }
    h.update(`${rel}\0${st.mode}\0`);
    if (st.isSymbolicLink()) h.update(`link:${readlinkSync(p)}`);
    else if (st.isDirectory())
      for (const name of readdirSync(p).sort()) visit(path.join(p, name), `${rel}/${name}`);
    else if (byContent) h.update(readFileSync(p));
    else h.update(`${st.size}\0${st.mtimeMs}`);
    h.update("\n");
  };
  visit(root, ".");
  return h.digest("hex");
}
