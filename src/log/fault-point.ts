/**
 * Fault injection for crash tests: when MOSS_FAULT names this point, the process kills itself
 * with SIGKILL right here, as a power cut would. A no-op otherwise.
 */
export function faultPoint(name: string): void {
  if (process.env.MOSS_FAULT === name) process.kill(process.pid, "SIGKILL");
}
