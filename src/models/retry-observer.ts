/** A failed HTTP attempt of a model call, seen before the SDK retries it (or gives up). */
export interface RetryNotice {
  /** HTTP status, or null for a timeout or a broken connection. */
  status: number | null;
  /** What failed, for a person: "429", "timed out", "connection failed". */
  what: string;
  /** True when the SDK will try again. */
  retrying: boolean;
  /** The wait the server asked for (retry-after), when it said. */
  retryAfterMs: number | null;
}

const RETRIED = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/**
 * A `fetch` for the provider SDKs that reports each failed attempt through `notify` and otherwise
 * behaves exactly like `fetch`. Attempts are counted per request body, so a notice says whether
 * the SDK (with `maxRetries`) will retry.
 */
export function observedFetch(notify: (n: RetryNotice) => void, maxRetries: number): typeof fetch {
  // Keyed by the request body: the SDK resends the same body on each retry.
  const attempts = new Map<unknown, number>();
  return async (input, init) => {
    const key = init?.body ?? input;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    const retrying = n <= maxRetries;
    try {
      const res = await fetch(input, init);
      if (!RETRIED(res.status) || !retrying) attempts.delete(key);
      if (RETRIED(res.status)) {
        notify({
          status: res.status,
          what: String(res.status),
          retrying,
          retryAfterMs: retryAfter(res.headers),
        });
      }
      return res;
    } catch (err) {
      // The SDK aborts an attempt that runs past its timeout; a caller's abort looks the same
      // here, so whoever renders notices ignores them once the run is interrupted.
      if (!retrying) attempts.delete(key);
      const aborted = (err as Error).name === "AbortError" || (err as Error).name === "TimeoutError";
      notify({
        status: null,
        what: aborted ? "timed out" : "connection failed",
        retrying,
        retryAfterMs: null,
      });
      throw err;
    }
  };
}

function retryAfter(headers: Headers): number | null {
  const ms = Number(headers.get("retry-after-ms"));
  if (ms > 0) return ms;
  const s = Number(headers.get("retry-after"));
  return s > 0 ? s * 1000 : null;
}
