import type { Usage } from "../contract/index.ts";
import { addUsage, emptyUsage } from "../contract/index.ts";
import type { ModelRegistry } from "../models/model-registry.ts";

/** Starts metering the registry's usage; the returned function gives the tokens and cost since. */
export function meterUsage(models: ModelRegistry): () => { usage: Usage; costUsd: number } {
  const before = totalUsage(models);
  return () => {
    const now = totalUsage(models);
    return {
      usage: {
        inputTokens: now.usage.inputTokens - before.usage.inputTokens,
        outputTokens: now.usage.outputTokens - before.usage.outputTokens,
        cacheReadTokens: now.usage.cacheReadTokens - before.usage.cacheReadTokens,
        cacheWriteTokens: now.usage.cacheWriteTokens - before.usage.cacheWriteTokens,
      },
      costUsd: now.cost - before.cost,
    };
  };
}

function totalUsage(models: ModelRegistry): { usage: Usage; cost: number } {
  let usage = emptyUsage();
  for (const a of Object.values(models.usage())) if (a) usage = addUsage(usage, a.usage);
  return { usage, cost: models.totalCost() };
}
