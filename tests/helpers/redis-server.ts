import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import net from "node:net";

/** Why the Redis tests cannot run here, or null (MOSS_REQUIRE_REDIS=1 turns a skip into a failure). */
export function redisMissing(): string | null {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return null;
  } catch {
    if (process.env.MOSS_REQUIRE_REDIS === "1")
      throw new Error(
        "MOSS_REQUIRE_REDIS=1 but redis-server is not installed (apt-get install redis-server)",
      );
    return "redis-server is not installed (apt-get install redis-server); the queue tests are skipped";
  }
}

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL (no save: it runs without persistence, so its data is gone). */
  kill(): Promise<void>;
  /** A fresh, empty server on the same port (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, without persistence; `args` are extra flags.
 * With `tls`, the port speaks only TLS (rediss://) with that certificate and key.
 */
export async function startRedis(
  args: string[] = [],
  tls?: { cert: string; key: string },
): Promise<RedisServer> {
  const port = await freePort();
  const portArgs = tls
    ? [
        "--port",
        "0",
        "--tls-port",
        String(port),
        "--tls-cert-file",
        tls.cert,
        "--tls-key-file",
        tls.key,
        "--tls-auth-clients",
        "no",
      ]
    : ["--port", String(port)];
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      "redis-server",
      [...portArgs, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", ...args],
      { stdio: "ignore" },
    );
    await waitForPort(port, 20_000);
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await gone;
  };
  await start();
  return { port, url: `${tls ? "rediss" : "redis"}://127.0.0.1:${port}`, kill, restart: start, stop: kill };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
}
