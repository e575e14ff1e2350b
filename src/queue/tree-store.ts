import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Redis } from "ioredis";
import { KEY_PREFIX } from "./connection.ts";
import { type PackedTree, type TreeCaps, TreeRejected, unpackTree } from "./file-tree.ts";

/** Trees live in Redis for a week after their last upload (an eval resumed later uploads again). */
const TREE_TTL_S = 7 * 24 * 3600;
export const treeKey = (hash: string) => `${KEY_PREFIX}tree:${hash}`;

/** Stores `tree` under its hash unless it is there already (one EXISTS per call otherwise). */
export async function uploadTree(redis: Redis, tree: PackedTree): Promise<void> {
  if (await redis.exists(treeKey(tree.hash))) return;
  await redis.set(treeKey(tree.hash), tree.gz, "EX", TREE_TTL_S);
}

/**
 * A worker's cache of trees on disk: each hash is fetched from Redis, checked and unpacked once
 * (concurrent jobs share the fetch), then reused by every later job that names it.
 */
export function createTreeCache(redis: Redis, root: string, caps: TreeCaps, log: (line: string) => void) {
  const pending = new Map<string, Promise<string>>();
  mkdirSync(root, { recursive: true });
  return {
    /** The folder of tree `hash`; throws TreeRejected when it is missing, too big or unsafe. */
    get(hash: string, what: string): Promise<string> {
      const dir = path.join(root, hash);
      if (existsSync(dir)) return Promise.resolve(dir);
      let p = pending.get(hash);
      if (!p) {
        p = (async () => {
          const gz = await redis.getBuffer(treeKey(hash));
          if (!gz)
            throw new TreeRejected(`the ${what} tree ${hash.slice(0, 12)} is not in the queue's store`);
          if (gz.length > caps.maxBytes)
            throw new TreeRejected(`the ${what} tree is ${gz.length} bytes packed, over ${caps.maxBytes}`);
          const { files } = unpackTree(gz, hash, dir, caps);
          log(`fetched ${what} ${hash.slice(0, 12)} (${files} files, ${gz.length} bytes)`);
          return dir;
        })().finally(() => pending.delete(hash));
        pending.set(hash, p);
      }
      return p;
    },
  };
}
