import { z } from "zod";

export const ProviderKindSchema = z.enum(["anthropic", "openai"]);

export const RoleSchema = z.object({
  /** Anthropic unless named, so a model alone (MOSS_EXECUTOR_MODEL, --model) is a whole role. */
  provider: ProviderKindSchema.default("anthropic"),
  model: z.string().min(1),
});

export const PriceSchema = z.object({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cacheReadPerMTok: z.number().nonnegative().default(0),
  cacheWritePerMTok: z.number().nonnegative().default(0),
});

/** Keys never live in config: a provider names the environment variable that holds its key. */
export const ProviderSettingsSchema = z.object({
  baseUrl: z.string().url().optional(),
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"),
  maxRetries: z.number().int().min(0).max(10).default(3),
  timeoutMs: z.number().int().positive().default(120_000),
});

export const ConfigSchema = z
  .object({
    threshold: z.number().min(0).max(1).default(1),
    models: z
      .object({
        executor: RoleSchema.default({ provider: "anthropic", model: "claude-haiku-5-5" }),
        patcher: RoleSchema.default({ provider: "anthropic", model: "claude-opus-5-5" }),
        judge: RoleSchema.default({ provider: "anthropic", model: "claude-sonnet-5-5" }),
      })
      .strict()
      .prefault({}),
    providers: z
      .object({
        // Each field has its own default, so a layer may set one (a timeout, a base URL) alone.
        anthropic: ProviderSettingsSchema.extend({
          apiKeyEnv: ProviderSettingsSchema.shape.apiKeyEnv.default("ANTHROPIC_API_KEY"),
        }).prefault({}),
        openai: ProviderSettingsSchema.extend({
          apiKeyEnv: ProviderSettingsSchema.shape.apiKeyEnv.default("OPENAI_API_KEY"),
          baseUrl: z.string().url().default("http://127.0.0.1:11434/v1"),
        }).prefault({}),
      })
      .strict()
      .prefault({}),
    prices: z.record(z.string(), PriceSchema).default({
      "claude-haiku-5-5": {
        inputPerMTok: 1,
        outputPerMTok: 5,
        cacheReadPerMTok: 0.1,
        cacheWritePerMTok: 1.25,
      },
      "claude-sonnet-5-5": {
        inputPerMTok: 3,
        outputPerMTok: 15,
        cacheReadPerMTok: 0.3,
        cacheWritePerMTok: 3.75,
      },
      "claude-opus-5-5": {
        inputPerMTok: 5,
        outputPerMTok: 25,
        cacheReadPerMTok: 0.5,
        cacheWritePerMTok: 6.25,
      },
    }),
    limits: z
      .object({
        maxTurns: z.number().int().positive().default(40),
        wallClockMs: z
          .number()
          .int()
          .positive()
          .default(15 * 60_000),
        tokenBudget: z.number().int().positive().default(2_000_000),
        commandTimeoutMs: z.number().int().positive().default(120_000),
        maxOutputTokens: z.number().int().positive().default(8192),
        /** The harness refuses the agent's model calls once they cost this much (USD); none by default. */
        costBudgetUsd: z.number().positive().optional(),
      })
      .strict()
      .prefault({}),
    workspace: z
      .object({
        maxSnapshotBytes: z
          .number()
          .int()
          .positive()
          .default(200 * 1024 * 1024),
        /** Most files one run may change in the user's folder; above it nothing is applied. */
        maxApplyFiles: z.number().int().positive().default(5000),
        /** Most bytes of changed files one run may write to the user's folder. */
        maxApplyBytes: z
          .number()
          .int()
          .positive()
          .default(200 * 1024 * 1024),
        /**
         * Ignored folders (relative paths) shown read-only in the scratch copy besides
         * node_modules, .venv, venv and vendor, which are shared at any depth.
         */
        shareIgnored: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    runs: z
      .object({
        /** `moss runs --prune` without flags removes runs older than this. */
        maxAgeDays: z.number().positive().default(30),
        /** ...and keeps at most this many (the newest). */
        keep: z.number().int().nonnegative().optional(),
        /** Prune by this policy after every run (off by default: runs are the user's record). */
        autoPrune: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    check: z
      .object({
        timeoutMs: z
          .number()
          .int()
          .positive()
          .default(10 * 60_000),
      })
      .strict()
      .prefault({}),
    evolve: z
      .object({
        enabled: z.boolean().default(true),
        allowPaths: z.array(z.string()).default(["agent-src/"]),
        maxPatchBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024),
        gateTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(5 * 60_000),
        /** Tasks that passed before, most recent first, replayed head vs candidate on each candidate. */
        regressionLimit: z.number().int().nonnegative().default(5),
        /** Share of the panel kept sealed: never named to the patcher, used only for acceptance. */
        sealedFraction: z.number().min(0).max(1).default(0.3),
        /** Head re-runs of the failing task before evolving; any pass means it did not reproduce. */
        reproduceTrials: z.number().int().nonnegative().default(1),
        /** Trial pairs per task that may be lost to model or environment errors before a judgement is undecided. */
        maxInvalidPairs: z.number().int().nonnegative().default(2),
        /** Consent to patches that add env, network or process access or raise the agent's limits. */
        allowEscalation: z.boolean().default(false),
        /** Variables the external patcher (--patcher-cmd) gets besides the base allowlist: its API key. */
        patcherEnv: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"))
          .default([]),
        /** Network for the external patcher; off by default (a CLI that calls an API needs it). */
        patcherNetwork: z.boolean().default(false),
        /** Consent to patches that change existing tests, snapshots or test/type configuration. */
        allowTestChanges: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    sandbox: z
      .object({
        enabled: z.boolean().default(true),
        maxProcs: z.number().int().min(16).default(512),
        memoryMb: z.number().int().min(256).default(4096),
        /** The sandbox's /tmp, a tmpfs whose use counts against memoryMb. */
        tmpMb: z.number().int().min(16).default(256),
        /** Largest file, and total of the writable folders (scratch copy, gate output), in MB. */
        diskMb: z.number().int().min(64).default(2048),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type RoleName = "executor" | "patcher" | "judge";
export type RoleConfig = z.infer<typeof RoleSchema>;
export type Price = z.infer<typeof PriceSchema>;
