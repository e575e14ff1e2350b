import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";
import { UsageError } from "../errors.ts";

/** The BullMQ queue of trials, and the prefix of moss's own keys beside it (trees, heartbeats). */
export const QUEUE_NAME = "moss-trials";
export const KEY_PREFIX = "moss:";

/**
 * `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). A private CA for TLS comes
 * from the file in MOSS_QUEUE_CA_FILE. Throws a UsageError naming the flag on anything else.
 */
export function parseQueueUrl(raw: string, flag = "--queue"): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag}: "${redactUrl(raw)}" is not a URL; give redis://host:6379 or rediss://...`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new UsageError(`${flag}: ${url.protocol} is not redis: or rediss: (TLS)`);
  if (!url.hostname) throw new UsageError(`${flag}: the URL names no host`);
  return url;
}

/** The URL with any password replaced by ***, for messages and logs. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return raw.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/**
 * A client for BullMQ and moss's keys: it reconnects forever after a restart of Redis (commands
 * wait meanwhile; callers set their own deadlines), and never logs the password.
 */
export function connectRedis(url: URL, name: string): Redis {
  const opts: RedisOptions = {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const caFile = process.env.MOSS_QUEUE_CA_FILE;
  if (url.protocol === "rediss:" && caFile) opts.tls = { ca: readFileSync(caFile) };
  const client = new Redis(url.toString(), opts);
  // Connection errors are reported by the callers' deadlines; ioredis would print them unhandled.
  client.on("error", () => {});
  return client;
}

/**
 * Waits until `client` answers a PING, up to `ms`; else disconnects it (so nothing keeps the
 * process alive) and throws a UsageError saying where and what next (a wrong password or an
 * unreachable host is the user's to fix).
 */
export async function ensureReachable(client: Redis, url: URL, ms: number): Promise<void> {
  let last = "";
  const onError = (err: Error) => {
    last = err.message;
  };
  client.on("error", onError);
  try {
    await withDeadline(client.ping(), ms, () => new Error(last || "no answer"));
  } catch (err) {
    client.disconnect();
    const why = (err as Error).message;
    throw new UsageError(
      `cannot use the queue at ${redactUrl(url.toString())}: ${why}. ` +
        (/WRONGPASS|NOAUTH|AUTH/i.test(why)
          ? "Check the password in the URL (redis://:PASSWORD@host:port)."
          : "Start redis-server there (or check host, port and TLS: rediss:// for TLS)."),
    );
  } finally {
    client.off("error", onError);
  }
}

/** `promise`, or the error `onTimeout` makes once `ms` have passed without an answer. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
