import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** The Debian package's binary; the tests never download a browser (`playwright install` is not used). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Why the browser tests cannot run here, or null when they can. With MOSS_REQUIRE_CHROMIUM=1
 * (set by .ci/run) a missing browser is an error instead of a skip.
 */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `${CHROMIUM_PATH} is missing (apt-get update && apt-get install -y chromium)`;
  if (process.env.MOSS_REQUIRE_CHROMIUM === "1") throw new Error(`MOSS_REQUIRE_CHROMIUM=1 but ${why}`);
  return why;
}

/**
 * Headless Chromium with a fresh profile (a new temp user-data-dir) and no background network
 * (no GPU; no Chromium sandbox, since CI runs as root). Close the returned context to stop it.
 */
export function launchChromium(): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), "moss-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1200, height: 900 },
  });
}
