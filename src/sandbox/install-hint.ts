import { readFileSync } from "node:fs";

/**
 * What to install so moss can sandbox agent code on this OS, as one sentence. Linux: bubblewrap,
 * with the command of the distribution's package manager (from /etc/os-release); macOS:
 * sandbox-exec, else a Linux VM; the rest: what works there. Pure given its inputs; `osRelease` defaults to reading /etc/os-release.
 */
export function sandboxInstallHint(platform: NodeJS.Platform = process.platform, osRelease?: string): string {
  if (platform === "linux") {
    const ids = distroIds(osRelease ?? readOsRelease());
    const cmd = LINUX_INSTALL.find(([family]) => ids.includes(family))?.[1];
    return cmd
      ? `install bubblewrap (${cmd})`
      : "install bubblewrap (the package is called bubblewrap in every major distribution; its command is bwrap)";
  }
  if (platform === "darwin") {
    return "moss sandboxes agent code on macOS with /usr/bin/sandbox-exec, which ships with macOS; if your system lacks it, run moss in a Linux VM or container with bubblewrap installed (for example: brew install colima && colima start, then a Debian container with apt-get install bubblewrap)";
  }
  if (platform === "win32") {
    return "run moss inside WSL 2 (wsl --install), then in the Linux distribution: sudo apt-get install bubblewrap";
  }
  return `there is no supported sandbox on ${platform}; run moss in a Linux VM or container with bubblewrap installed`;
}

const LINUX_INSTALL: Array<[string, string]> = [
  ["debian", "sudo apt-get install bubblewrap"],
  ["ubuntu", "sudo apt-get install bubblewrap"],
  ["fedora", "sudo dnf install bubblewrap"],
  ["rhel", "sudo dnf install bubblewrap"],
  ["centos", "sudo dnf install bubblewrap"],
  ["arch", "sudo pacman -S bubblewrap"],
  ["alpine", "sudo apk add bubblewrap"],
  ["opensuse", "sudo zypper install bubblewrap"],
  ["suse", "sudo zypper install bubblewrap"],
  ["gentoo", "sudo emerge sys-apps/bubblewrap"],
  ["nixos", "add bubblewrap to environment.systemPackages"],
];

function distroIds(osRelease: string): string[] {
  const field = (name: string) =>
    new RegExp(`^${name}=("?)([^"\\n]*)\\1$`, "m").exec(osRelease)?.[2]?.toLowerCase() ?? "";
  return [field("ID"), ...field("ID_LIKE").split(/\s+/)].filter(Boolean);
}

function readOsRelease(): string {
  try {
    return readFileSync("/etc/os-release", "utf8");
  } catch {
    return "";
  }
}
