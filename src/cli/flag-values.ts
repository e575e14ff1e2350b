import { UsageError } from "../errors.ts";

export function numberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}

/** "30", "30s", "2m", "500ms" as milliseconds (a bare number is seconds). */
export function durationFlag(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0) {
    throw new UsageError(`${flag} must be a duration such as 30, 30s, 2m or 500ms, got "${value}"`);
  }
  const unit = m[2] ?? "s";
  return Math.round(Number(m[1]) * (unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000));
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a whole number of at least 1, got "${value}"`);
  return n;
}

export function usdFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive amount in USD, got "${value}"`);
  return n;
}
