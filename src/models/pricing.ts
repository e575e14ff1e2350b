import type { Price } from "../config/config-schema.ts";
import type { Usage } from "../contract/index.ts";

/**
 * Cost in USD of several models' usage; null (unknown, never $0) when a model that used tokens
 * has no price in config.
 */
export function knownCostUsd(parts: Array<{ usage: Usage; price: Price | undefined }>): number | null {
  let sum = 0;
  for (const { usage, price } of parts) {
    const tokens = usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
    if (!price && tokens > 0) return null;
    sum += costUsd(usage, price);
  }
  return sum;
}

/** Cost in USD of `usage` at `price`; 0 when the model has no price in config. */
export function costUsd(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  const perToken = (perMTok: number) => perMTok / 1_000_000;
  return (
    usage.inputTokens * perToken(price.inputPerMTok) +
    usage.outputTokens * perToken(price.outputPerMTok) +
    usage.cacheReadTokens * perToken(price.cacheReadPerMTok) +
    usage.cacheWriteTokens * perToken(price.cacheWritePerMTok)
  );
}
