/**
 * What ofp-print and ofp-parse share: split a buffer of concatenated raw
 * messages with the library's framer, decode each, and print it (text,
 * JSON, or a re-encoding check). Returns the process exit code.
 */
import { decodeMessage, encodeMessage, Framer, messageTypeName, OfpError, type OfpMessage } from '@nicvisor/openflow';
import { formatMessage, toJson } from '@nicvisor/openflow/text/index.js';

export const EXIT_OK = 0;
export const EXIT_DIFFERS = 1;
export const EXIT_MALFORMED = 2;

export interface PrintOptions {
  json?: boolean;
  check?: boolean;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A usage-level failure (bad hex, unreadable file): printed with a hint, exit 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

interface Framed {
  offset: number;
  raw: Buffer;
}

/**
 * The whole messages in `buf`, in order, and the error that stopped framing
 * (a length under 8, or a truncated last message), if any.
 */
function frame(buf: Buffer): { messages: Framed[]; error?: OfpError } {
  let raws: Buffer[];
  let error: OfpError | undefined;
  const framer = new Framer();
  try {
    raws = framer.push(buf);
  } catch (e) {
    if (!(e instanceof OfpError)) throw e;
    error = e;
    // The framer throws away what it framed before the bad length: frame that prefix again.
    raws = e.offset === undefined ? [] : new Framer().push(buf.subarray(0, e.offset));
  }
  const messages: Framed[] = [];
  let offset = 0;
  for (const raw of raws) {
    messages.push({ offset, raw });
    offset += raw.length;
  }
  if (error === undefined && offset < buf.length) {
    // A truncated last message: let the decoder describe it, with its offset.
    try {
      decodeMessage(buf, offset);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      error = e;
    }
  }
  return { messages, error };
}

/** Index of the first differing byte, or -1 if equal. */
function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function reportMalformed(io: Output, e: OfpError, where: string): void {
  io.err(`nicvisor: malformed input: ${e.message}${where}`);
  io.err('hint: offsets count from the start of the input; `nicvisor ofp-print --help` describes the input format');
}

/** Prints every message of `buf`; returns the exit code. */
export function printMessages(buf: Buffer, opts: PrintOptions, io: Output = stdio): number {
  const { messages, error } = frame(buf);
  let code = EXIT_OK;
  messages.forEach(({ offset, raw }, i) => {
    let msg: OfpMessage;
    try {
      // Decoding in place keeps the error offsets relative to the whole input.
      msg = decodeMessage(buf, offset);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      reportMalformed(io, e, ` in message #${i + 1} at offset ${offset}`);
      code = EXIT_MALFORMED;
      return;
    }
    if (opts.check) {
      const head = `#${i + 1} @${offset} ${messageTypeName(msg.type)} xid=${hex(msg.xid)}`;
      let encoded: Buffer;
      try {
        encoded = encodeMessage(msg);
      } catch (e) {
        io.out(`${head}: cannot be re-encoded: ${(e as Error).message}`);
        if (code === EXIT_OK) code = EXIT_DIFFERS;
        return;
      }
      const at = firstDifference(raw, encoded);
      io.out(at < 0 ? `${head}: identical` : `${head}: differs at byte ${at}`);
      if (at >= 0 && code === EXIT_OK) code = EXIT_DIFFERS;
    } else if (opts.json) {
      io.out(JSON.stringify(toJson(msg)));
    } else {
      io.out(formatMessage(msg));
    }
  });
  if (error !== undefined) {
    reportMalformed(io, error, ` (after ${messages.length} whole message${messages.length === 1 ? '' : 's'})`);
    code = EXIT_MALFORMED;
  }
  return code;
}
