/**
 * The environment an agent child gets: an allowlist, so no API key or token of the user's can
 * reach agent code, whatever its variable is called. HOME points at a private empty folder.
 */
export function childEnv(parent: NodeJS.ProcessEnv, privateHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: privateHome, TMPDIR: privateHome };
  for (const key of ["PATH", "LANG", "LC_ALL", "TERM", "TZ", "SHELL", "USER"]) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  env.MOSS_AGENT = "1";
  return env;
}
