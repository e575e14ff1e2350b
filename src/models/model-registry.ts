import type { Config, RoleName } from "../config/config-schema.ts";
import type { ModelRequest, ModelTurn, Usage } from "../contract/index.ts";
import { addUsage, emptyUsage } from "../contract/index.ts";
import { UsageError } from "../errors.ts";
import { createAnthropicProvider } from "./anthropic-provider.ts";
import { CassettePlayer, CassetteRecorder, readCassette } from "./cassette.ts";
import { createOpenAIProvider } from "./openai-provider.ts";
import { costUsd } from "./pricing.ts";
import type { Provider } from "./provider.ts";
import type { RetryNotice } from "./retry-observer.ts";

export interface RoleUsage {
  model: string;
  calls: number;
  usage: Usage;
  costUsd: number;
}

export interface ModelSource {
  /** Replay a cassette instead of calling providers. */
  replay?: string;
  /** Record every exchange to this cassette file. */
  record?: string;
  /** Providers to use as they are (tests, the demo); they win over config. */
  providers?: Partial<Record<RoleName, Provider>>;
  /** Aborts every model call in flight and every later one (an interrupted run). */
  signal?: AbortSignal;
  /** Told when a model call starts, ends, or an attempt of it fails and is retried (live progress). */
  observer?: (event: ModelCallEvent) => void;
}

/** What live progress shows of a model call: its start, its end, and each failed attempt. */
export type ModelCallEvent =
  | { type: "model_call"; phase: "start"; role: RoleName; model: string }
  | { type: "model_call"; phase: "end"; role: RoleName; model: string; ms: number; error?: string }
  | ({ type: "model_call"; phase: "retry"; role: RoleName; model: string } & RetryNotice);

/**
 * Hands out one provider per role and counts calls, tokens and cost per role. Keys are read
 * from the environment here, in the harness, and nowhere else.
 */
export class ModelRegistry {
  private readonly cache = new Map<RoleName, Provider>();
  private readonly accounts = new Map<RoleName, RoleUsage>();
  private readonly player?: CassettePlayer;
  private readonly recorder?: CassetteRecorder;

  constructor(
    private readonly config: Config,
    private readonly source: ModelSource = {},
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    if (source.replay) this.player = new CassettePlayer(readCassette(source.replay), source.replay);
    if (source.record) this.recorder = new CassetteRecorder(source.record);
  }

  /** Throws UsageError when the role's provider cannot be built (a missing key, say). */
  for(role: RoleName): Provider {
    const cached = this.cache.get(role);
    if (cached) return cached;
    let inner = this.source.providers?.[role] ?? this.player?.provider(role) ?? this.build(role);
    if (this.recorder) inner = this.recorder.wrap(role, inner);
    const counted = this.count(role, inner);
    this.cache.set(role, counted);
    return counted;
  }

  usage(): Partial<Record<RoleName, RoleUsage>> {
    return Object.fromEntries(this.accounts);
  }

  /** Models that answered calls but have no price in config: their cost is unknown, not $0. */
  unpricedModels(): string[] {
    const used = [...this.accounts.values()].filter((a) => a.calls > 0).map((a) => a.model);
    return [...new Set(used)].filter((m) => !this.config.prices[m]);
  }

  totalCost(): number {
    let sum = 0;
    for (const a of this.accounts.values()) sum += a.costUsd;
    return sum;
  }

  private count(role: RoleName, inner: Provider): Provider {
    const model = this.config.models[role].model;
    return {
      name: inner.name,
      model: inner.model,
      complete: async (request: ModelRequest, signal?: AbortSignal): Promise<ModelTurn> => {
        const t0 = Date.now();
        this.source.observer?.({ type: "model_call", phase: "start", role, model });
        const stop = this.source.signal;
        const both = stop && signal ? AbortSignal.any([stop, signal]) : (stop ?? signal);
        const turn = await inner.complete(request, both);
        this.source.observer?.({
          type: "model_call",
          phase: "end",
          role,
          model,
          ms: Date.now() - t0,
          ...(turn.stopReason === "error" && turn.error ? { error: turn.error } : {}),
        });
        const acc = this.accounts.get(role) ?? { model, calls: 0, usage: emptyUsage(), costUsd: 0 };
        acc.calls++;
        acc.usage = addUsage(acc.usage, turn.usage);
        acc.costUsd += costUsd(turn.usage, this.config.prices[model]);
        this.accounts.set(role, acc);
        return turn;
      },
    };
  }

  private build(role: RoleName): Provider {
    const { provider, model } = this.config.models[role];
    const settings = this.config.providers[provider];
    const observer = this.source.observer;
    const onRetry = observer
      ? { onRetry: (n: RetryNotice) => observer({ type: "model_call", phase: "retry", role, model, ...n }) }
      : {};
    const apiKey = this.env[settings.apiKeyEnv];
    if (provider === "anthropic") {
      if (!apiKey) {
        throw new UsageError(
          `${settings.apiKeyEnv} is not set, and the ${role} uses Anthropic (${model}). ` +
            `Set ${settings.apiKeyEnv}, or run from a recorded cassette with --replay FILE, ` +
            "or try `moss demo`, which runs offline without a key.",
        );
      }
      return createAnthropicProvider({
        model,
        apiKey,
        maxRetries: settings.maxRetries,
        timeoutMs: settings.timeoutMs,
        ...onRetry,
        ...(settings.baseUrl || this.env.ANTHROPIC_BASE_URL
          ? { baseUrl: settings.baseUrl ?? this.env.ANTHROPIC_BASE_URL }
          : {}),
      });
    }
    return createOpenAIProvider({
      model,
      // Local servers (Ollama, llama.cpp) accept any key.
      apiKey: apiKey ?? "no-key",
      baseUrl: settings.baseUrl ?? "http://127.0.0.1:11434/v1",
      maxRetries: settings.maxRetries,
      timeoutMs: settings.timeoutMs,
      ...onRetry,
    });
  }
}
