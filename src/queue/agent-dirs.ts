import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import path from "node:path";

/**
 * A worker's agent folders, one per agent-src tree: the job's agent-src beside this machine's
 * harness contract, package.json and node_modules (taken from the worker's home), laid out like
 * a home so the agent starts exactly as a local trial's does. Built once per tree hash.
 */
export function createAgentDirs(root: string, home: string) {
  const pending = new Map<string, Promise<string>>();
  mkdirSync(root, { recursive: true });
  return {
    get(hash: string, treeDir: () => Promise<string>): Promise<string> {
      const dir = path.join(root, hash);
      if (existsSync(dir)) return Promise.resolve(dir);
      let p = pending.get(hash);
      if (!p) {
        p = (async () => {
          const src = await treeDir();
          const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
          try {
            cpSync(src, path.join(tmp, "agent-src"), { recursive: true, verbatimSymlinks: true });
            cpSync(path.join(home, "src", "contract"), path.join(tmp, "src", "contract"), {
              recursive: true,
            });
            copyFileSync(path.join(home, "package.json"), path.join(tmp, "package.json"));
            symlinkSync(realpathSync(path.join(home, "node_modules")), path.join(tmp, "node_modules"));
            if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
            else renameSync(tmp, dir);
          } catch (err) {
            rmSync(tmp, { recursive: true, force: true });
            throw err;
          }
          return dir;
        })().finally(() => pending.delete(hash));
        pending.set(hash, p);
      }
      return p;
    },
  };
}
