import type { Readable } from "node:stream";

export interface LineCaps {
  /** Longest line accepted, in bytes, without its newline. */
  maxLineBytes: number;
  /** Most bytes accepted on the stream in all. */
  maxTotalBytes: number;
}

/**
 * Reads newline-terminated UTF-8 lines from an untrusted stream within fixed memory: a line is
 * held only up to `maxLineBytes`, so a stream without newlines can never grow a string past the
 * cap. The first violation calls `onViolation` once and stops reading (the stream is destroyed);
 * no line is delivered after it. `onLine` is called synchronously, in order.
 */
export function readBoundedLines(
  stream: Readable,
  caps: LineCaps,
  onLine: (line: string) => void,
  onViolation: (why: string) => void,
): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let stopped = false;
  const stop = (why: string) => {
    if (stopped) return;
    stopped = true;
    pending = [];
    stream.destroy();
    onViolation(why);
  };
  stream.on("error", () => {});
  stream.on("data", (chunk: Buffer) => {
    if (stopped) return;
    total += chunk.length;
    if (total > caps.maxTotalBytes)
      return stop(`the agent wrote more than ${caps.maxTotalBytes} bytes on the channel`);
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (pendingBytes + nl - start > caps.maxLineBytes) return stop(tooLong(caps));
      const line = Buffer.concat([...pending, chunk.subarray(start, nl)]).toString("utf8");
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      onLine(line);
      if (stopped) return;
    }
    if (pendingBytes + chunk.length - start > caps.maxLineBytes) return stop(tooLong(caps));
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
    }
  });
}

const tooLong = (caps: LineCaps) =>
  `the agent wrote a line longer than ${caps.maxLineBytes} bytes on the channel`;
