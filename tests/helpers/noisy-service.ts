import { seededRandom } from "../../src/eval/stats.ts";
import type { FakeReply, FakeResponder } from "./fake-model-server.ts";

/**
 * The ways a model service fails a request: overload, rate limit, 5xx, a reset connection, a 200
 * whose body is not JSON, a 200 whose JSON is not a message, a 200 whose body is cut half-way.
 */
export const FAULTS: Array<{ name: string; reply: FakeReply }> = [
  { name: "529", reply: { status: 529 } },
  { name: "429", reply: { status: 429, headers: { "retry-after-ms": "1" } } },
  { name: "500", reply: { status: 500 } },
  { name: "503", reply: { status: 503 } },
  { name: "reset", reply: { drop: true } },
  { name: "garbage", reply: { garbage: "<html>502 Bad Gateway</html>" } },
  { name: "not-a-message", reply: { body: { ok: true } } },
  { name: "cut", reply: { cut: true } },
];

/**
 * A seeded stochastic model service: each request that `exposed` allows fails with probability
 * `rate` in one of FAULTS (picked by the same seeded stream), else gets `inner`'s reply. Every
 * fault is logged with the request's index, so a test can tell which runs the service broke.
 */
export function noisyService(
  inner: FakeResponder,
  seed: number,
  rate: number,
  exposed: (body: Record<string, unknown>, index: number) => boolean = () => true,
): { responder: FakeResponder; faults: Array<{ index: number; fault: string }> } {
  const rand = seededRandom(seed);
  const faults: Array<{ index: number; fault: string }> = [];
  return {
    faults,
    responder: (body, index) => {
      if (exposed(body, index) && rand() < rate) {
        const f = FAULTS[Math.floor(rand() * FAULTS.length)]!;
        faults.push({ index, fault: f.name });
        return f.reply;
      }
      return inner(body, index);
    },
  };
}
