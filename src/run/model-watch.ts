import type { ModelFailure, Usage } from "../contract/index.ts";
import { addUsage, emptyUsage } from "../contract/index.ts";
import { isServiceFailure } from "../models/model-failure.ts";
import type { Provider } from "../models/provider.ts";

/** A model-service failure seen during one attempt, with the role that hit it. */
export interface RoleFailure extends ModelFailure {
  role: "executor" | "judge";
  message: string;
}

export interface WatchedProvider {
  provider: Provider;
  /** The first model-service failure (see isServiceFailure) this attempt's calls hit, if any. */
  failure(): RoleFailure | null;
  /** Tokens of this attempt's calls only (the registry counts every run of the process). */
  usage(): Usage;
}

/** Wraps a provider for one attempt: its own usage, and whether the model service failed it. */
export function watchProvider(role: RoleFailure["role"], inner: Provider): WatchedProvider {
  let failure: RoleFailure | null = null;
  let usage = emptyUsage();
  return {
    provider: {
      name: inner.name,
      model: inner.model,
      complete: async (request, signal) => {
        const turn = await inner.complete(request, signal);
        usage = addUsage(usage, turn.usage);
        if (turn.stopReason === "error" && isServiceFailure(turn.failure) && !failure)
          failure = { role, ...turn.failure, message: turn.error ?? "model call failed" };
        return turn;
      },
    },
    failure: () => failure,
    usage: () => usage,
  };
}
