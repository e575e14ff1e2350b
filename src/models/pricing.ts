import type { Price } from "../config/config-schema.ts";
import type { Usage } from "../contract/index.ts";

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
