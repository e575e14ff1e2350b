/** A colour or style sequence (SGR: ESC [ params m), as test runners print even into a pipe. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;:]*m`, "g");

/**
 * The last `lines` non-empty-trimmed lines of a command's output, each cut to `width` characters:
 * what a summary shows of a check, so the user sees why it failed without the whole log. Colour
 * sequences are dropped (they would print as `^[[31m` once made safe); any other escape stays,
 * for sanitize() to show.
 */
export function outputTail(text: string, lines = 20, width = 240): string {
  const all = text.replace(SGR, "").replace(/\r\n?/g, "\n").trimEnd().split("\n");
  let start = Math.max(0, all.length - lines);
  while (start < all.length && !all[start]?.trim()) start++;
  return all
    .slice(start)
    .map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l))
    .join("\n");
}
