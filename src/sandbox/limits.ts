/** Resource limits of a sandboxed process (from config.sandbox); null elsewhere means no sandbox. */
export interface SandboxLimits {
  /** Processes the watchdog allows (RLIMIT_NPROC is four times that, see wrapInSandbox). */
  maxProcs: number;
  /** Resident memory of the whole process tree plus what it holds in its /tmp. */
  memoryMb: number;
  /** Size of the private /tmp (a tmpfs); its use counts against memoryMb. */
  tmpMb?: number;
  /** Largest file a sandboxed process may write, and the total of its writable folders. */
  diskMb?: number;
  /**
   * Files and folders no sandboxed process may read (the home's config, runs and keys, the user's
   * credential folders). macOS denies them by name; on Linux they are never mounted anyway.
   */
  deniedReads?: { files: string[]; folders: string[] };
}

export const DEFAULT_TMP_MB = 256;
export const DEFAULT_DISK_MB = 2048;
