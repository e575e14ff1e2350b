import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Mounted read-only whole in every sandbox: the system's programs and libraries, never /etc. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"];

/**
 * The part of /etc a sandbox sees, each entry mounted read-only when it exists: the dynamic
 * loader's cache, name-service and locale settings, CA certificates (not /etc/ssl/private), the
 * alternatives that /usr/bin programs link through, time zone, and the config folders of
 * interpreters whose installed files point into /etc (python3.x sitecustomize, perl, java).
 * passwd, group and hosts are generated (see etcFiles); shadow, sudoers, ssh, cron, pam, the
 * package managers' config (npmrc, pip.conf: they may hold registry tokens) stay out of sight.
 */
const ETC_ENTRIES = [
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "localtime",
  "timezone",
  "alternatives",
  "ssl/certs",
  "ssl/openssl.cnf",
  "ca-certificates",
  "ca-certificates.conf",
  "os-release",
  "debian_version",
  "lsb-release",
  "mime.types",
  "protocols",
  "services",
  "shells",
  "perl",
];
const ETC_PREFIXES = ["python3", "java-"];

/** The /etc entries to mount read-only (absolute paths that exist here). */
export function etcEntries(): string[] {
  let extra: string[] = [];
  try {
    extra = readdirSync("/etc").filter((n) => ETC_PREFIXES.some((p) => n.startsWith(p)));
  } catch {
    // No /etc to read: only the fixed list.
  }
  return [...ETC_ENTRIES, ...extra].map((e) => path.join("/etc", e)).filter((p) => existsSync(p));
}

/** Generated /etc files: the sandbox user and root only, and loopback names. */
export function etcFiles(uid: number): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${uid}:${uid}:moss sandbox:/tmp/home:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${uid}:\nnogroup:x:65534:\n`,
    hosts: "127.0.0.1 localhost\n::1 localhost\n",
  };
}

/**
 * Folders (and files) of the toolchains on PATH that a sandbox mounts read-only, never the user's
 * home nor a whole folder directly in it (so ~/.local/bin does not expose ~/.local/share):
 * - each PATH entry itself, outside the system folders;
 * - for an entry `<prefix>/bin`, the prefix too when it is a toolchain's own folder (at least two
 *   levels below HOME, or outside it: ~/.nvm/versions/node/v20 yes, ~/.local or ~/.cargo no);
 *   inside HOME only its bin, lib, libexec, share and include, never its etc/;
 * - for a symlink in an entry that points elsewhere (~/.local/bin/tool -> .../tool-1.2/bin/tool),
 *   the node package it belongs to, else its target's prefix by the same rule, else the file alone;
 * - for version-manager shims (~/.pyenv/shims, ~/.rbenv/shims) the manager's own code (bin,
 *   libexec, plugins, hooks) and only the versions selected (the workspace's .python-version or
 *   .ruby-version, else the manager's global version file, else all installed versions);
 * - for rustup's proxies (~/.cargo/bin), ~/.rustup's toolchains and settings (not ~/.cargo).
 * Anything named like a credential store is dropped whatever the rule says.
 */
export function toolchainMounts(pathVar: string | undefined, cwd: string, home = os.homedir()): string[] {
  const out = new Set<string>();
  const add = (p: string) => {
    if (existsSync(p) && allowed(p, home)) out.add(p);
  };
  for (const entry of (pathVar ?? "").split(":")) {
    if (!path.isAbsolute(entry) || !existsSync(entry) || underSystem(entry)) continue;
    if (path.resolve(entry) === home || !isDir(entry) || SECRET.test(entry)) continue;
    out.add(entry);
    const real = realpathSync(entry);
    if (real !== entry) add(real);
    for (const p of prefixOf(entry, home)) add(p);
    if (path.basename(entry) === "shims") for (const p of shimManager(entry, cwd, home)) add(p);
    for (const target of linkTargets(entry)) {
      if (underSystem(target) || target.startsWith(`${entry}/`)) continue;
      const dir = path.dirname(target);
      // A node package's bin script needs its whole package; a binary in a prefix, its prefix.
      const pkg = [dir, path.dirname(dir)].find(
        (d) => deepEnough(d, home) && existsSync(path.join(d, "package.json")),
      );
      const prefix = prefixOf(dir, home);
      if (pkg) add(pkg);
      else if (prefix.length) prefix.forEach(add);
      else add(target);
    }
    if (existsSync(path.join(entry, "rustup"))) {
      const rustup = path.join(home, ".rustup");
      add(path.join(rustup, "toolchains"));
      add(path.join(rustup, "settings.toml"));
    }
  }
  return [...out];
}

/** The parts of an install prefix a toolchain runs from; never its etc/ (a global npmrc, say). */
const PREFIX_PARTS = ["bin", "lib", "lib64", "libexec", "share", "include"];

/**
 * For a `<prefix>/bin` entry that is a toolchain's own folder: the prefix (outside HOME), or its
 * PREFIX_PARTS (inside HOME, where its etc/ may hold the user's tokens); else nothing.
 */
function prefixOf(dir: string, home: string): string[] {
  if (path.basename(dir) !== "bin") return [];
  const prefix = path.dirname(dir);
  if (!deepEnough(prefix, home) || underSystem(prefix) || prefix === "/") return [];
  const rel = path.relative(home, prefix);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return [prefix];
  return PREFIX_PARTS.map((p) => path.join(prefix, p));
}

function shimManager(shims: string, cwd: string, home: string): string[] {
  const root = path.dirname(shims);
  if (!existsSync(path.join(root, "libexec"))) return deepEnough(root, home) ? [root] : [];
  const parts = ["bin", "libexec", "plugins", "pyenv.d", "rbenv.d", "version"].map((p) => path.join(root, p));
  const versionFile = [".python-version", ".ruby-version"]
    .map((f) => path.join(cwd, f))
    .concat(path.join(root, "version"))
    .find((f) => existsSync(f));
  const wanted = versionFile
    ? readFileSync(versionFile, "utf8")
        .split(/\s+/)
        .filter((v) => v && !v.includes("/") && v !== "..")
    : [];
  const versions = path.join(root, "versions");
  return wanted.length ? [...parts, ...wanted.map((v) => path.join(versions, v))] : [...parts, versions];
}

/** Real paths of the symlinks directly in `dir`. */
function linkTargets(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    try {
      if (lstatSync(p).isSymbolicLink()) out.push(realpathSync(p));
    } catch {
      // A dangling link: nothing to mount.
    }
  }
  return out;
}

/** Outside HOME, or at least two levels below it (never HOME itself or a folder directly in it). */
function deepEnough(p: string, home: string): boolean {
  const rel = path.relative(home, p);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return !home.startsWith(`${p}/`) && p !== "/";
  return rel.split(path.sep).length >= 2;
}

const SECRET =
  /(^|\/)(\.ssh|\.aws|\.gnupg|\.config|\.moss|\.docker|\.kube|\.azure|\.password-store|\.netrc|\.npmrc|\.pypirc|\.git-credentials|credentials(\.toml)?|\.local\/share\/keyrings)(\/|$)/;

/** Whether a path may be mounted into a sandbox at all: not HOME or a folder directly in it, no secrets. */
export function mountable(p: string, home = os.homedir()): boolean {
  return allowed(path.resolve(p), home);
}

function allowed(p: string, home: string): boolean {
  return deepEnough(p, home) && !SECRET.test(p);
}

function underSystem(p: string): boolean {
  return SYSTEM_DIRS.some((d) => p === d || p.startsWith(`${d}/`));
}

function isDir(p: string): boolean {
  try {
    return lstatSync(realpathSync(p)).isDirectory();
  } catch {
    return false;
  }
}
