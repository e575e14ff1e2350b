import { existsSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { type ModelRequest, ModelRequestSchema, type ModelTurn, ModelTurnSchema } from "../contract/index.ts";
import { writeFileAtomic } from "../log/atomic-write.ts";
import { errorTurn, type Provider } from "./provider.ts";

export const ExchangeSchema = z.object({
  role: z.string(),
  model: z.string(),
  request: ModelRequestSchema,
  turn: ModelTurnSchema,
});
export const CassetteSchema = z.object({
  version: z.literal(1),
  note: z.string().optional(),
  exchanges: z.array(ExchangeSchema),
});
export type Exchange = z.infer<typeof ExchangeSchema>;
export type Cassette = z.infer<typeof CassetteSchema>;

export function readCassette(file: string): Cassette {
  if (!existsSync(file)) throw new Error(`cassette not found: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cassette ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = CassetteSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`cassette ${file} is malformed at ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Appends every exchange of the wrapped providers to one cassette file, rewritten atomically. */
export class CassetteRecorder {
  private readonly exchanges: Exchange[] = [];
  constructor(private readonly file: string) {}

  wrap(role: string, inner: Provider): Provider {
    return {
      name: inner.name,
      model: inner.model,
      complete: async (request, signal) => {
        const turn = await inner.complete(request, signal);
        this.exchanges.push({ role, model: inner.model, request, turn });
        writeFileAtomic(this.file, `${JSON.stringify({ version: 1, exchanges: this.exchanges }, null, 1)}\n`);
        return turn;
      },
    };
  }
}

/**
 * Serves a cassette back in order, strictly: a request that differs from the recorded one, or a
 * request past the end, is an error turn that names the exchange. One cursor is shared by every
 * role, so the order of calls across executor, patcher and judge must match too.
 */
export class CassettePlayer {
  private cursor = 0;
  constructor(
    private readonly cassette: Cassette,
    private readonly file: string,
  ) {}

  provider(role: string): Provider {
    return {
      name: "cassette",
      model: `cassette:${role}`,
      complete: async (request) => this.next(role, request),
    };
  }

  get remaining(): number {
    return this.cassette.exchanges.length - this.cursor;
  }

  private next(role: string, request: ModelRequest): ModelTurn {
    const index = this.cursor;
    const exchange = this.cassette.exchanges[index];
    if (!exchange) {
      return errorTurn(
        `cassette ${this.file} is exhausted: request ${index + 1} (${role}) has no recorded reply`,
      );
    }
    if (exchange.role !== role) {
      return errorTurn(
        `cassette ${this.file}: request ${index + 1} came from the ${role} but the recording has the ${exchange.role}`,
      );
    }
    const difference = firstDifference(exchange.request, request);
    if (difference) {
      return errorTurn(
        `cassette ${this.file}: request ${index + 1} (${role}) differs from the recording at ${difference}`,
      );
    }
    this.cursor++;
    return exchange.turn;
  }
}

/** The path of the first difference between two JSON values, or null when they are equal. */
export function firstDifference(expected: unknown, actual: unknown, at = "request"): string | null {
  if (isDeepStrictEqual(expected, actual)) return null;
  if (typeof expected === "object" && expected && typeof actual === "object" && actual) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const d = firstDifference(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        `${at}.${key}`,
      );
      if (d) return d;
    }
  }
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 120) ?? "undefined";
  return `${at} (recorded ${show(expected)}, got ${show(actual)})`;
}
