/** Bad input from the user (flags, config, task files): exit code 2 with a message that says what and where. */
export class UsageError extends Error {
  readonly code = "USAGE";
}
