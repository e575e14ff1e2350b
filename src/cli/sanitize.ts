/**
 * Makes untrusted text (anything the agent, a candidate patch, the workspace or a model wrote)
 * safe to print on a terminal: every control or format character that a terminal could act on is
 * shown as visible text instead, so no escape sequence, clipboard write (OSC 52), cursor move,
 * line erase, carriage-return overwrite or bidi reordering can take effect.
 *
 * Kept as is: printable text, tab, line feed, and a carriage return directly before a line feed
 * (CRLF files print as they are; a lone CR would let text overwrite the start of its line).
 * Shown visibly: C0 controls and DEL in caret notation (ESC as `^[`, a lone CR as `^M`), C1
 * controls and Unicode bidi/format/separator characters as `<U+XXXX>`.
 * Colors that moss adds must be applied to the result, never before.
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (ch, offset: number, whole: string) => {
    if (ch === "\r" && whole[offset + 1] === "\n") return ch;
    const code = ch.codePointAt(0)!;
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return "^?";
    return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
  });
}

/**
 * C0 (except tab and LF), DEL, C1, and the invisible characters that change how a line displays:
 * bidi marks, embeddings, overrides and isolates, zero-width characters, line/paragraph separators,
 * the BOM, interlinear annotation and other format characters (Unicode category Cf).
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]/gu;

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but not C1 or bidi characters, which some
 * terminals still act on; those are written as \uXXXX escapes, so the value parses to the same data.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\p{Cf}]/gu, (ch) =>
    [...Array(ch.length).keys()].map((i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`).join(""),
  );
}
