/**
 * The shape every message family implements: a body decoder and encoder
 * side by side, plus the body's encoded length (computed, never trusted).
 * The 8-byte header is handled once, in messages.ts.
 */
import { Reader, Writer } from './wire.js';

export interface MessageCodec<M> {
  /** Decodes the body; `r` spans exactly the message's bytes after the header. */
  decode(r: Reader, xid: number, version: number): M;
  /** Encoded length of the body (the header's 8 bytes not included). */
  bodyLength(m: M): number;
  encode(m: M, w: Writer): void;
}
