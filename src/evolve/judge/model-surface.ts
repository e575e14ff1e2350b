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

/**
 * A provider that records the surface of every request it serves into `seen` (in order, unique)
 * and counts the tool calls the model asked for in the replies it served (`served.toolCalls`).
 */
export function watchSurface(provider: Provider, seen: string[], served = { toolCalls: 0 }): Provider {
  return {
    name: provider.name,
    model: provider.model,
    complete: async (request, signal) => {
      const s = surfaceOf(request);
      if (!seen.includes(s)) seen.push(s);
      const turn = await provider.complete(request, signal);
      served.toolCalls += turn.content.filter((b) => b.type === "tool_use").length;
      return turn;
    },
  };
}

/**
 * Candidate trials that changed the workspace although the model never asked for a tool call in
 * any reply the harness served: agent code wrote the workspace on its own. Structural (the
 * harness saw every reply); it catches agent code acting alone, not one riding along a real call.
 */
export function unpromptedWrites(comparisons: TaskComparison[]): string[] {
  const hit = comparisons.some(
    (c) => c.candidate.some((t) => t.unprompted) && !c.head.some((t) => t.unprompted),
  );
  return hit
    ? [
        "writes the workspace outside a model tool call (files changed in a replay where the model asked for no tool)",
      ]
    : [];
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
