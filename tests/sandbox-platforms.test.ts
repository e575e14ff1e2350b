import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sandboxInstallHint } from "../src/sandbox/install-hint.ts";
import { homeSecrets, macosSandboxProfile } from "../src/sandbox/macos-profile.ts";

const golden = path.join(import.meta.dirname, "fixtures", "macos-sandbox.sb");

describe("the macOS sandbox-exec profile", () => {
  const profile = macosSandboxProfile({
    writable: ["/private/var/folders/xy/T/moss-scratch-42-abc"],
    privateTmp: "/private/var/folders/xy/T/moss-agent-home-42-def",
    deniedReads: homeSecrets("/Users/ada/.local/share/moss", "/Users/ada/.config/moss"),
  });

  it("matches the reviewed golden file (MOSS_UPDATE_GOLDEN=1 rewrites it after a deliberate change)", () => {
    if (process.env.MOSS_UPDATE_GOLDEN) writeFileSync(golden, profile);
    expect(profile).toBe(readFileSync(golden, "utf8"));
  });

  it("denies by default and the network entirely, writes outside the workspace and temp, and reads of the home's secrets", () => {
    expect(profile.startsWith("(version 1)")).toBe(true);
    expect(profile).toContain("(deny default)");
    expect(profile).toContain("(deny network*)");
    expect(profile).not.toMatch(/\(allow network/);
    const writes = profile.slice(profile.indexOf("(allow file-write*"));
    expect(writes).toContain('(subpath "/private/var/folders/xy/T/moss-scratch-42-abc")');
    expect(writes).not.toContain("/Users/ada");
    // Later rules win in SBPL: every denied read comes after the general read permission.
    const allowRead = profile.indexOf("(allow file-read*)");
    for (const secret of ["moss.config.json", "/runs", "/.moss", "/.config/moss"]) {
      expect(profile.indexOf(secret)).toBeGreaterThan(allowRead);
    }
  });

  it("refuses relative paths and control characters, and escapes quotes", () => {
    const base = { privateTmp: "/tmp/p", deniedReads: { files: [], folders: [] } };
    expect(() => macosSandboxProfile({ ...base, writable: ["ws"] })).toThrow(/must be absolute/);
    expect(() => macosSandboxProfile({ ...base, writable: ["/tmp/a\n(allow network*)"] })).toThrow(
      /control character/,
    );
    expect(macosSandboxProfile({ ...base, writable: ['/tmp/a"b\\c'] })).toContain(
      '(subpath "/tmp/a\\"b\\\\c")',
    );
  });
});

describe("where no sandbox can start, the message names what to install for that OS", () => {
  it.each([
    ["linux", 'ID=debian\nVERSION_ID="12"\n', "sudo apt-get install bubblewrap"],
    ["linux", "ID=ubuntu\nID_LIKE=debian\n", "sudo apt-get install bubblewrap"],
    ["linux", 'ID="rocky"\nID_LIKE="rhel centos fedora"\n', "sudo dnf install bubblewrap"],
    ["linux", "ID=arch\n", "sudo pacman -S bubblewrap"],
    ["linux", "ID=alpine\n", "sudo apk add bubblewrap"],
    ["linux", "ID=something-new\n", "its command is bwrap"],
    ["darwin", "", "/usr/bin/sandbox-exec, which ships with macOS"],
    ["darwin", "", "Linux VM or container with bubblewrap"],
    ["win32", "", "WSL 2"],
    ["freebsd", "", "no supported sandbox on freebsd"],
  ] as const)("%s %j", (platform, osRelease, expected) => {
    expect(sandboxInstallHint(platform, osRelease)).toContain(expected);
  });
});
