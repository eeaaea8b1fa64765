/**
 * TCP stream framing and version negotiation (§6.3.1, §7.5.1).
 *
 * The framer turns arbitrary chunks (split or coalesced messages) into whole
 * raw messages without copying when a message lies inside one chunk. A
 * length under 8 cannot be resynchronised: the framer reports it and stops,
 * since every later byte boundary would be a guess.
 */
import { OFP_HEADER_SIZE, OFP_VERSION, OFPT } from './constants.js';
import { OFPBRC, OFPET, OFPHFC, OfpError } from './errors.js';
import type { ErrorMessage, Hello } from './messages/basic.js';

/** How much of unframeable input an OFPT_ERROR carries (§7.5.4: at least 64 bytes of the offending request). */
const ERROR_DATA_LEN = 64;

export class Framer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the held-back message needs before it can be framed (its length, or 8 for a partial header). */
  private pendingNeeds = 0;
  private broken: OfpError | undefined;
  /** The bytes from the header that broke the stream on. */
  private brokenBytes: Buffer | undefined;

  /**
   * Feeds a chunk; returns the complete messages it finishes, in order.
   * Throws OfpError (OFPBRC_BAD_LEN) on a header length below 8, and again
   * on every later call: the stream is unrecoverable.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.broken) throw this.broken;
    const out: Buffer[] = [];
    let buf: Buffer;
    if (this.pendingBytes === 0) {
      buf = chunk;
    } else {
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.pendingNeeds) {
        // Join only once the held-back message is complete: joining on every
        // chunk made a message that trickles in (one byte per push, say)
        // cost quadratic copying. Copied, like the tail below, so no caller
        // buffer is retained.
        this.pending.push(Buffer.from(chunk));
        return out;
      }
      this.pending.push(chunk);
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let off = 0;
    while (buf.length - off >= OFP_HEADER_SIZE) {
      const length = (buf[off + 2] << 8) | buf[off + 3];
      if (length < OFP_HEADER_SIZE) {
        this.brokenBytes = Buffer.from(buf.subarray(off, off + ERROR_DATA_LEN));
        this.broken = new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `message length ${length} < 8`, off);
        throw this.broken;
      }
      if (buf.length - off < length) break;
      out.push(buf.subarray(off, off + length));
      off += length;
    }
    if (off < buf.length) {
      // Copy the tail so a retained partial message does not pin a large chunk.
      const rest = Buffer.from(buf.subarray(off));
      this.pending.push(rest);
      this.pendingBytes = rest.length;
      this.pendingNeeds = rest.length < OFP_HEADER_SIZE ? OFP_HEADER_SIZE : (rest[2] << 8) | rest[3];
    }
    return out;
  }

  /** Bytes of an incomplete message held back. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * What could not be framed, up to 64 bytes: from the header whose length
   * broke the stream on, else the start of the incomplete message held back
   * (all there is to show when the stream ends inside a message).
   */
  unframed(): Buffer {
    if (this.brokenBytes !== undefined) return this.brokenBytes;
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, ERROR_DATA_LEN);
  }
}

/**
 * The answer to bytes that cannot be framed (a length under 8, or a stream
 * that ends inside a message): OFPBRC_BAD_LEN with the peer's xid when its
 * header is whole, and the bytes as data.
 */
export function framingError(unframed: Buffer): ErrorMessage {
  const xid = unframed.length >= OFP_HEADER_SIZE ? unframed.readUInt32BE(4) : 0;
  return { type: OFPT.ERROR, xid, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, data: Buffer.from(unframed.subarray(0, ERROR_DATA_LEN)) };
}

/** The versions a HELLO offers: its bitmap if it has one, else every version up to its header's. */
export function helloVersions(hello: Hello): Set<number> {
  for (const e of hello.elements) {
    if ('bitmaps' in e) {
      const versions = new Set<number>();
      e.bitmaps.forEach((word, i) => {
        for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) versions.add(32 * i + bit);
      });
      return versions;
    }
  }
  return new Set(Array.from({ length: hello.version }, (_, i) => i + 1));
}

/**
 * Negotiates the version with a peer's HELLO: the highest both support.
 * We speak only 1.3, so that is 1.3 or nothing; nothing is
 * OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE.
 */
export function negotiateVersion(peer: Hello, ours: ReadonlySet<number> = new Set([OFP_VERSION])): number {
  const theirs = helloVersions(peer);
  const common = [...ours].filter((v) => theirs.has(v));
  if (common.length === 0) {
    throw new OfpError(
      OFPET.HELLO_FAILED,
      OFPHFC.INCOMPATIBLE,
      `no common version: peer offers [${[...theirs].map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ')}], we support [${[...ours].join(', ')}]`,
    );
  }
  return Math.max(...common);
}

/** Our HELLO: version 1.3 with a version bitmap element offering only 1.3. */
export function ourHello(xid: number): Hello {
  return { type: OFPT.HELLO, xid, version: OFP_VERSION, elements: [{ type: 1, bitmaps: [1 << OFP_VERSION] }] };
}
