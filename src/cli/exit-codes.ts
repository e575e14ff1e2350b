/**
 * moss's exit codes; each means one thing. Documented in the README and `moss --help`.
 * - 0: done (a run passed and its result is in the workspace, or was not wanted there: --no-apply)
 * - 1: a run failed (score below the threshold), or a command's check failed (log --verify, apply)
 * - 2: usage, config or environment error (bad flag or config, not a home, no sandbox, no key,
 *      a check that cannot run on the untouched workspace)
 * - 3: a run passed but its result was NOT applied: the workspace changed in the meantime, or
 *      apply-back refused it (unsafe names or symlinks, caps, a write error rolled back)
 * - 129, 130, 143: ended by SIGHUP, Ctrl-C (SIGINT) or SIGTERM (128 + the signal number); the
 *   home is left verifiable
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notApplied: 3 } as const;

export const EXIT_CODES_HELP = `Exit codes:
  0    done: the run passed and was applied (or --no-apply)
  1    the run failed (score below the threshold), or a check failed (log --verify, apply)
  2    usage, config or environment error (bad flag or config, not an agent home, no sandbox,
       no key, a check that cannot run on the untouched workspace)
  3    the run passed but was not applied: the workspace changed in the meantime
  130  interrupted by Ctrl-C (143 SIGTERM, 129 SIGHUP)`;

/**
 * The exit code of a `moss run` that finished without a signal, from its final attempt;
 * `conflicts`: paths not applied, changed meanwhile or refused.
 */
export function runExitCode(r: { unrunnable: boolean; passed: boolean; conflicts: number }): number {
  if (r.unrunnable) return EXIT.usage;
  if (!r.passed) return EXIT.failed;
  return r.conflicts > 0 ? EXIT.notApplied : EXIT.ok;
}
