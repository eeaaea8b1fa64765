import { OFP_VERSION, OFPT } from './constants.js';
import { OFPBRC, OFPET, OFPHFC, OfpError } from './errors.js';
import { Framer, framingError, helloVersions, negotiateVersion, ourHello } from './framer.js';
import { decodeMessage, encodeMessage } from './messages.js';
import type { Hello } from './messages/basic.js';

/** An ECHO_REQUEST of exactly `length` bytes, its payload a pattern that shows misplaced bytes. */
function echo(length: number, xid: number): Buffer {
  const data = Buffer.alloc(length - 8);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + xid) & 0xff;
  return encodeMessage({ type: OFPT.ECHO_REQUEST, xid, data });
}

/** A stream of varied messages: header-only, short, a flow-mod-sized one, one over 4 KiB. */
const messages: Buffer[] = [
  encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 1 }),
  echo(13, 2),
  encodeMessage(ourHello(3)),
  echo(80, 4),
  echo(5000, 5),
  encodeMessage({ type: OFPT.FEATURES_REQUEST, xid: 6 }),
];
const stream = Buffer.concat(messages);

function hexes(bufs: Buffer[]): string[] {
  return bufs.map((b) => b.toString('hex'));
}

/** Plain comparison for loops of thousands of steps, where expect() would dominate the time. */
function same(out: Buffer[], expected: Buffer[]): boolean {
  return out.length === expected.length && out.every((b, i) => b.equals(expected[i]));
}

/** Feeds the chunks in order, collecting every message framed. */
function frameAll(chunks: Buffer[], framer = new Framer()): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function expectOfpError(f: () => unknown, type: number, code: number): OfpError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(OfpError);
  const err = thrown as OfpError;
  expect([err.type, err.code]).toEqual([type, code]);
  return err;
}

describe('Framer', () => {
  it('frames a whole chunk of many messages, without copying them', () => {
    const framer = new Framer();
    const out = framer.push(stream);
    expect(hexes(out)).toEqual(hexes(messages));
    for (const m of out) expect(m.buffer).toBe(stream.buffer);
    expect(framer.buffered).toBe(0);
  });

  it('frames a stream fed one byte at a time, accounting for the bytes held back', () => {
    const framer = new Framer();
    const out: Buffer[] = [];
    const wrong: string[] = [];
    let inMessage = 0;
    let next = 0;
    for (let i = 0; i < stream.length; i++) {
      const got = framer.push(stream.subarray(i, i + 1));
      inMessage++;
      const completes = inMessage === messages[next].length;
      if (got.length !== (completes ? 1 : 0)) wrong.push(`byte ${i}: ${got.length} messages`);
      if (completes) {
        inMessage = 0;
        next++;
      }
      if (framer.buffered !== inMessage) wrong.push(`byte ${i}: buffered ${framer.buffered}, expected ${inMessage}`);
      out.push(...got);
    }
    expect(wrong).toEqual([]);
    expect(hexes(out)).toEqual(hexes(messages));
    expect(framer.buffered).toBe(0);
  });

  it('frames the stream split in two at every position', () => {
    const wrong: number[] = [];
    for (let at = 0; at <= stream.length; at++) {
      const framer = new Framer();
      const first = framer.push(stream.subarray(0, at));
      // Whatever the first part did not complete is held back, and only that.
      const completed = first.reduce((n, m) => n + m.length, 0);
      const held = framer.buffered;
      const out = [...first, ...framer.push(stream.subarray(at))];
      if (held !== at - completed || !same(out, messages) || framer.buffered !== 0) wrong.push(at);
    }
    expect(wrong).toEqual([]);
  });

  it('frames the stream split in three at many positions', () => {
    const wrong: string[] = [];
    for (let a = 0; a <= 120; a += 3) {
      for (let b = a; b <= stream.length; b += 97) {
        if (!same(frameAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), messages)) wrong.push(`${a}/${b}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('accepts empty chunks anywhere', () => {
    const out = frameAll([Buffer.alloc(0), stream.subarray(0, 5), Buffer.alloc(0), stream.subarray(5), Buffer.alloc(0)]);
    expect(hexes(out)).toEqual(hexes(messages));
  });

  it('does not keep a reference to a chunk it holds bytes of', () => {
    const framer = new Framer();
    const chunk = Buffer.from(messages[3]);
    framer.push(chunk.subarray(0, 4));
    framer.push(chunk.subarray(4, 30));
    chunk.fill(0); // the caller reuses its buffer
    const [out] = framer.push(messages[3].subarray(30));
    expect(out.toString('hex')).toBe(messages[3].toString('hex'));
  });

  it('frames a 65535-byte message, in one chunk, in 1000-byte chunks and one byte at a time', () => {
    const big = echo(65535, 9);
    expect(big.readUInt16BE(2)).toBe(65535);
    const after = encodeMessage({ type: OFPT.BARRIER_REPLY, xid: 10 });
    const both = Buffer.concat([big, after]);

    expect(hexes(new Framer().push(both))).toEqual(hexes([big, after]));

    const chunks: Buffer[] = [];
    for (let i = 0; i < both.length; i += 1000) chunks.push(both.subarray(i, i + 1000));
    expect(hexes(frameAll(chunks))).toEqual(hexes([big, after]));

    // Byte by byte: the framer must not re-join what it holds on every push
    // (that was quadratic: seconds for one message).
    const framer = new Framer();
    const out: Buffer[] = [];
    const wrong: number[] = [];
    const concat = Buffer.concat;
    let joins = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      joins++;
      return concat(list, total);
    }) as typeof Buffer.concat;
    try {
      for (let i = 0; i < both.length; i++) {
        out.push(...framer.push(both.subarray(i, i + 1)));
        if (i < big.length - 1 && framer.buffered !== i + 1) wrong.push(i);
      }
    } finally {
      Buffer.concat = concat;
    }
    // A join per completed header or message, not per pushed byte.
    expect(joins).toBeLessThanOrEqual(4);
    expect(wrong).toEqual([]);
    expect(hexes(out)).toEqual(hexes([big, after]));
    const decoded = decodeMessage(out[0]);
    expect(decoded).toMatchObject({ type: OFPT.ECHO_REQUEST, xid: 9 });
  });

  it.each([0, 7])('rejects a header length of %i with OFPBRC_BAD_LEN, and stays broken', (length) => {
    const bad = Buffer.from([OFP_VERSION, OFPT.ECHO_REQUEST, 0, length, 0, 0, 0, 1]);
    const framer = new Framer();
    expect(framer.push(messages[0])).toHaveLength(1);
    const first = expectOfpError(() => framer.push(bad), OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
    // Every later push fails the same way, even with valid data.
    expect(expectOfpError(() => framer.push(messages[0]), OFPET.BAD_REQUEST, OFPBRC.BAD_LEN)).toBe(first);
    expect(() => framer.push(Buffer.alloc(0))).toThrow(first);
  });

  it('rejects a bad length that arrives split, after good messages in the same chunk', () => {
    const bad = Buffer.from([OFP_VERSION, OFPT.HELLO, 0, 7, 0, 0, 0, 1]);
    const framer = new Framer();
    expect(framer.push(Buffer.concat([messages[0], bad.subarray(0, 3)]))).toHaveLength(1);
    expect(framer.buffered).toBe(3);
    expectOfpError(() => framer.push(bad.subarray(3)), OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
    expectOfpError(() => framer.push(messages[1]), OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
  });

  it('waits for a whole header before judging the length', () => {
    const framer = new Framer();
    expect(framer.push(Buffer.from([OFP_VERSION, OFPT.HELLO, 0, 0, 0, 0, 0]))).toEqual([]);
    expect(framer.buffered).toBe(7);
    expectOfpError(() => framer.push(Buffer.from([0])), OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
  });
});

describe('unframeable input: what it is answered with (OFPBRC_BAD_LEN)', () => {
  it('a header length under 8: the bytes from that header on (at most 64), the peer\'s xid', () => {
    const bad = Buffer.concat([Buffer.from([OFP_VERSION, OFPT.FLOW_MOD, 0, 3, 0xca, 0xfe, 0, 1]), Buffer.alloc(100, 0xab)]);
    const framer = new Framer();
    expect(() => framer.push(Buffer.concat([messages[0], bad]))).toThrow(OfpError);
    expect(framer.unframed()).toEqual(bad.subarray(0, 64));
    const e = framingError(framer.unframed());
    expect(e).toEqual({ type: OFPT.ERROR, xid: 0xcafe0001, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, data: bad.subarray(0, 64) });
    expect(decodeMessage(encodeMessage(e))).toEqual(e);
  });

  it('a stream that ends inside a message: the start of what was held back', () => {
    const flowModSized = echo(80, 0x77);
    const framer = new Framer();
    expect(framer.push(Buffer.concat([messages[0], flowModSized.subarray(0, 10)]))).toHaveLength(1);
    expect(framer.push(flowModSized.subarray(10, 70))).toEqual([]);
    expect(framer.unframed()).toEqual(flowModSized.subarray(0, 64));
    expect(framingError(framer.unframed())).toMatchObject({ xid: 0x77, code: OFPBRC.BAD_LEN, data: flowModSized.subarray(0, 64) });
  });

  it('a stream that ends inside a header: xid 0, the bytes there are', () => {
    const framer = new Framer();
    framer.push(Buffer.from([OFP_VERSION, OFPT.HELLO, 0]));
    expect(framingError(framer.unframed())).toMatchObject({ xid: 0, data: Buffer.from([OFP_VERSION, OFPT.HELLO, 0]) });
  });
});

describe('version negotiation', () => {
  const hello = (version: number, elements: Hello['elements'] = []): Hello => ({ type: OFPT.HELLO, xid: 1, version, elements });
  /** A bitmap with the given versions' bits set (version 4 is OpenFlow 1.3). */
  const bitmap = (...versions: number[]) => ({ type: 1 as const, bitmaps: [versions.reduce((w, v) => w | (1 << v), 0)] });

  it('picks 1.3 from a bitmap offering it among others', () => {
    const peer = hello(6, [bitmap(1, 4, 5, 6)]);
    expect([...helloVersions(peer)].sort()).toEqual([1, 4, 5, 6]);
    expect(negotiateVersion(peer)).toBe(OFP_VERSION);
  });

  it('picks 1.3 from a bitmap as the wire carries it', () => {
    const wire = Buffer.from('060000100000000700010008' + '00000072', 'hex'); // 1.0, 1.3, 1.4, 1.5
    const peer = decodeMessage(wire) as Hello;
    expect(peer.version).toBe(6);
    expect(negotiateVersion(peer)).toBe(OFP_VERSION);
  });

  it('picks 1.3 from a higher header version without a bitmap', () => {
    expect(negotiateVersion(hello(5))).toBe(OFP_VERSION);
    expect(negotiateVersion(hello(6, [{ type: 2, data: Buffer.from([1, 2, 3, 4]) }]))).toBe(OFP_VERSION);
    expect(negotiateVersion(hello(OFP_VERSION))).toBe(OFP_VERSION);
  });

  it('fails with OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE when the peer speaks only 1.0', () => {
    expectOfpError(() => negotiateVersion(hello(1)), OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE);
    expectOfpError(() => negotiateVersion(hello(4, [bitmap(1)])), OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE);
  });

  it('trusts the bitmap over the header version', () => {
    // Header says 1.5, bitmap says 1.0 and 1.4 only: 1.3 is not offered.
    expectOfpError(() => negotiateVersion(hello(6, [bitmap(1, 5)])), OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE);
  });

  it('sends a HELLO of version 1.3 with a bitmap offering only 1.3', () => {
    expect(encodeMessage(ourHello(0x1234)).toString('hex')).toBe('0400001000001234' + '00010008' + '00000010');
    expect(negotiateVersion(ourHello(1))).toBe(OFP_VERSION);
  });

  it('decodes a HELLO of any version, but any other message only at 1.3 (OFPBRC_BAD_VERSION)', () => {
    expect(decodeMessage(Buffer.from('0500000800000001', 'hex'))).toMatchObject({ type: OFPT.HELLO, version: 5 });
    expectOfpError(() => decodeMessage(Buffer.from('0502000800000001', 'hex')), OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION);
    expectOfpError(() => decodeMessage(Buffer.from('0514000800000001', 'hex')), OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION);
    expectOfpError(() => decodeMessage(Buffer.from('0114000800000001', 'hex')), OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION);
  });

  it.each([30, 35, 0xff])('rejects message type %i with OFPBRC_BAD_TYPE', (type) => {
    const wire = Buffer.from([OFP_VERSION, type, 0, 8, 0, 0, 0, 1]);
    expectOfpError(() => decodeMessage(wire), OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE);
  });
});
