import os from "node:os";
import { defineConfig } from "vitest/config";

// Most test files wait on child processes (the moss binary, sandboxes, git, redis-server), not on
// the CPU: vitest's default of one worker per core less one ran them one at a time on 2 cores
// (1,096 s). Three workers there halve the wall time; MOSS_TEST_WORKERS overrides.
const workers = Number(process.env.MOSS_TEST_WORKERS) || Math.max(3, os.availableParallelism() - 1);

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts", "agent-src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: workers,
  },
});
