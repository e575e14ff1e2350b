import { createHash } from "node:crypto";
import type { ModelRequest } from "../../contract/index.ts";
import type { TaskComparison } from "../../log/evolution-record.ts";
import type { Provider } from "../../models/provider.ts";

/**
 * What the executor model is told, as the harness itself saw it in the requests it served: the
 * system prompt and the tool schemas. Compared between the head's and the candidate's trials, it
 * catches an instruction change however the agent code builds it (a prompt file, a template in
 * main.ts, a string built at run time). Structural: the agent cannot hide it from the harness.
 */
export const surfaceOf = (request: ModelRequest) =>
  createHash("sha256")
    .update(JSON.stringify({ system: request.system, tools: request.tools }))
    .digest("hex")
    .slice(0, 16);

/** A provider that records the surface of every request it serves into `seen` (in order, unique). */
export function watchSurface(provider: Provider, seen: string[]): Provider {
  return {
    name: provider.name,
    model: provider.model,
    complete: (request, signal) => {
      const s = surfaceOf(request);
      if (!seen.includes(s)) seen.push(s);
      return provider.complete(request, signal);
    },
  };
}

/**
 * Surfaces the candidate's trials showed that none of the head's trials of the same task did, as
 * one line each for the consent notes; empty when every request matched the head's.
 */
export function surfaceChanges(comparisons: TaskComparison[]): string[] {
  const out: string[] = [];
  for (const c of comparisons) {
    const head = new Set(c.head.flatMap((t) => t.surface ?? []));
    if (head.size === 0) continue;
    const fresh = new Set(c.candidate.flatMap((t) => t.surface ?? []).filter((s) => !head.has(s)));
    if (fresh.size > 0)
      out.push(
        "the executor's system prompt or tool schemas differ from the head's at run time (seen by the harness in the replay's model requests)",
      );
  }
  return [...new Set(out)];
}
