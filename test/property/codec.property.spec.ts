/**
 * Property tests of the OpenFlow 1.3.5 codec:
 *  - random well-formed messages of every type round-trip (encode, decode,
 *    deep-equal, re-encode byte-identical), and messageLength is the
 *    encoded length;
 *  - random damage to valid encodings and to Ryu's real messages (byte
 *    flips, truncation at every length, lying length fields, garbage) makes
 *    the decoder throw an OfpError naming a real spec error, or decode
 *    something that itself re-encodes stably; never another exception,
 *    never a hang.
 * Run counts are moderate so the suite stays fast; raise FC_RUNS locally
 * for a deeper search (e.g. FC_RUNS=5000).
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  CODECS,
  decodeMessage,
  encodeMessage,
  errorCodeName,
  errorTypeName,
  messageLength,
  messageTypeName,
  OFP_VERSION,
  OFPBRC,
  OFPET,
  OFPT,
  OfpError,
  OfpMessage,
} from '@nicvisor/openflow';
import { bytes, message, messageArbitraries } from './arbitraries.js';

const RUNS = Number(process.env.FC_RUNS ?? 100);
/**
 * A decode taking longer than this is treated as a hang. Generous: a shared
 * CI machine can pause a process for a good fraction of a second, and a
 * real hang (a loop that does not advance) never ends at all.
 */
const HANG_MS = 2000;

const FIXTURE_DIR = new URL('../fixtures/ryu-of13/codec/', import.meta.url);
const fixtureNames = readdirSync(new URL('packets/', FIXTURE_DIR))
  .filter((f) => f.endsWith('.packet'))
  .sort();
const fixtures: Buffer[] = fixtureNames.map((f) => readFileSync(new URL(`packets/${f}`, FIXTURE_DIR)));
const truncatedFixture = readFileSync(new URL('truncated/libofproto-OFP13-flow_mod.first64.bin', FIXTURE_DIR));

const ALL_TYPES = Object.entries(OFPT) as [string, number][];

/**
 * Fails unless `e` is an OfpError whose type and code are numbers the spec
 * names. Plain checks rather than expect(): this runs tens of thousands of
 * times, and expect() would dominate the suite's time.
 */
function expectSpecError(e: unknown, input: Buffer): asserts e is OfpError {
  const fail = (why: string) => {
    throw new Error(`decoding ${input.toString('hex')}: ${why}`, { cause: e });
  };
  if (!(e instanceof OfpError)) return fail(`threw ${String(e)}, not an OfpError`);
  if (typeof e.type !== 'number' || typeof e.code !== 'number') return fail(`error type/code are not numbers: ${e.message}`);
  if (e.type === OFPET.EXPERIMENTER || !/^OFPET_[A-Z_]+$/.test(errorTypeName(e.type))) return fail(`not a spec error type: ${e.message}`);
  if (!/^OFP[A-Z]+_[A-Z0-9_]+$/.test(errorCodeName(e.type, e.code))) return fail(`not a spec error code: ${e.message}`);
}

function expectBadLen(input: Buffer): void {
  let thrown: unknown = 'nothing';
  try {
    decodeMessage(input);
  } catch (e) {
    thrown = e;
  }
  expectSpecError(thrown, input);
  if (thrown.type !== OFPET.BAD_REQUEST || thrown.code !== OFPBRC.BAD_LEN) {
    throw new Error(`decoding ${input.toString('hex')}: expected OFPBRC_BAD_LEN, got ${thrown.message}`);
  }
}

/**
 * Decodes damaged input. It may fail, only with a spec error, and may
 * succeed; then what it decoded must re-encode (or fail with a spec error)
 * to bytes that are a fixed point: they decode and re-encode to themselves.
 * (Not necessarily to the damaged input, which may be non-canonical, nor to
 * an equal object: invalid UTF-8 in a NUL-padded string field decodes to
 * U+FFFD, which takes 3 bytes and so may be cut short when re-encoded.)
 */
function decodeDamaged(input: Buffer): void {
  const t0 = performance.now();
  let msg: OfpMessage | undefined;
  let thrown: unknown;
  try {
    msg = decodeMessage(input);
  } catch (e) {
    thrown = e;
  }
  const ms = performance.now() - t0;
  if (ms > HANG_MS) throw new Error(`decoding ${input.toString('hex')} took ${ms} ms`);
  if (msg === undefined) {
    expectSpecError(thrown, input);
    return;
  }
  let again: Buffer;
  try {
    again = encodeMessage(msg);
  } catch (e) {
    expectSpecError(e, input);
    return;
  }
  const third = encodeMessage(decodeMessage(again));
  if (!third.equals(again)) {
    throw new Error(`decoding ${input.toString('hex')}: re-encoded ${again.toString('hex')}, then ${third.toString('hex')}`);
  }
}

// ---- Damage ------------------------------------------------------------------

/** A valid encoding: a random message, or one of Ryu's. */
const validWire: fc.Arbitrary<Buffer> = fc.oneof(
  message.map((m) => encodeMessage(m)),
  fc.constantFrom(...fixtures),
);

function withHeaderLength(buf: Buffer, length: number): Buffer {
  const out = Buffer.from(buf);
  if (out.length >= 4) out.writeUInt16BE(length & 0xffff, 2);
  return out;
}

/** A few bytes XORed with non-zero values. */
const flipped = validWire.chain((buf) =>
  fc.array(fc.tuple(fc.nat(buf.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
    const out = Buffer.from(buf);
    for (const [at, x] of flips) out[at] ^= x;
    return out;
  }),
);

/**
 * A 16-bit field overwritten with a value likely to be a lying length: 0,
 * just under or over what was there, odd, or anything. The header's own
 * length field (offset 2) is among the targets.
 */
const lyingLength = validWire.chain((buf) =>
  fc
    .tuple(
      fc.oneof(fc.constant(2), fc.nat(Math.max(0, buf.length - 2))),
      fc.oneof(
        fc.integer({ min: -16, max: 16 }).map((delta) => (old: number) => old + delta),
        fc.oneof(fc.constantFrom(0, 1, 3, 4, 7, 8, 9, 0xffff), fc.integer({ min: 0, max: 0xffff })).map((v) => () => v),
      ),
    )
    .map(([at, value]) => {
      const out = Buffer.from(buf);
      if (at + 2 <= out.length) out.writeUInt16BE(value(out.readUInt16BE(at)) & 0xffff, at);
      return out;
    }),
);

/** Cut short, with the header's length left as it was or made to agree with the cut. */
const truncated = validWire.chain((buf) =>
  fc.tuple(fc.nat(buf.length - 1), fc.boolean()).map(([len, patch]) => {
    const out = Buffer.from(buf.subarray(0, len));
    return patch ? withHeaderLength(out, len) : out;
  }),
);

/** Garbage after a plausible header of any type (and sometimes garbage appended to a valid message). */
const garbage = fc.oneof(
  fc.tuple(fc.oneof(fc.constant(OFP_VERSION), fc.integer({ min: 0, max: 255 })), fc.integer({ min: 0, max: 40 }), fc.nat(0xffffffff), bytes(200)).map(
    ([version, type, x, body]) => {
      const out = Buffer.alloc(8 + body.length);
      out[0] = version;
      out[1] = type;
      out.writeUInt16BE(out.length, 2);
      out.writeUInt32BE(x, 4);
      body.copy(out, 8);
      return out;
    },
  ),
  fc.tuple(validWire, bytes(64, 1)).map(([buf, tail]) => withHeaderLength(Buffer.concat([buf, tail]), buf.length + tail.length)),
);

// ---- Tests ---------------------------------------------------------------------

describe('codec coverage', () => {
  it.each(ALL_TYPES)('OFPT_%s has a codec with decode, bodyLength and encode', (_name, type) => {
    const codec = CODECS[type];
    expect(codec).toBeDefined();
    expect(typeof codec?.decode).toBe('function');
    expect(typeof codec?.bodyLength).toBe('function');
    expect(typeof codec?.encode).toBe('function');
  });

  it('has an arbitrary for every message type', () => {
    expect(Object.keys(messageArbitraries).map(Number).sort((a, b) => a - b)).toEqual(ALL_TYPES.map(([, t]) => t).sort((a, b) => a - b));
  });

  it('has the Ryu fixtures to damage', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(80);
  });
});

describe('round trip of random valid messages', () => {
  function roundTrips(m: OfpMessage): void {
    const wire = encodeMessage(m);
    expect(messageLength(m)).toBe(wire.length);
    expect(wire.readUInt16BE(2)).toBe(wire.length);
    const decoded = decodeMessage(wire);
    expect(decoded).toEqual(m);
    expect(encodeMessage(decoded).equals(wire)).toBe(true);
  }

  it.each(ALL_TYPES)('OFPT_%s', (_name, type) => {
    const arb = messageArbitraries[type];
    fc.assert(fc.property(arb, roundTrips), { numRuns: Math.ceil(RUNS / 2) });
  });

  it('any message type', () => {
    fc.assert(fc.property(message, roundTrips), { numRuns: RUNS * 3 });
  });

  it('every Ryu fixture decodes and re-encodes byte-identically', () => {
    for (let i = 0; i < fixtures.length; i++) {
      expect([fixtureNames[i], encodeMessage(decodeMessage(fixtures[i])).toString('hex')]).toEqual([fixtureNames[i], fixtures[i].toString('hex')]);
    }
  });
});

describe('damaged input throws only OfpError, and never hangs', () => {
  it('the truncated Ryu flow-mod is OFPBRC_BAD_LEN', () => {
    expectBadLen(truncatedFixture);
  });

  it('every Ryu fixture truncated at every length, header length unchanged or patched to agree', () => {
    for (const buf of [...fixtures, truncatedFixture]) {
      for (let len = 0; len < buf.length; len++) {
        const cut = buf.subarray(0, len);
        // The header still announces more than there is: always BAD_LEN.
        expectBadLen(cut);
        // Decoding a patched cut walks all of it, so this is quadratic in the
        // message: past 2 KiB (the two 11 KB table-features messages), cut
        // only at and around 4-byte boundaries, where structures end.
        if (len < 2048 || len % 4 === 0 || len % 4 === 3) decodeDamaged(withHeaderLength(cut, len));
      }
    }
  });

  it('byte flips', () => {
    fc.assert(fc.property(flipped, decodeDamaged), { numRuns: RUNS * 10 });
  });

  it('lying length fields', () => {
    fc.assert(fc.property(lyingLength, decodeDamaged), { numRuns: RUNS * 10 });
  });

  it('random truncation of random messages', () => {
    fc.assert(fc.property(truncated, decodeDamaged), { numRuns: RUNS * 5 });
  });

  it('garbage bodies and trailing garbage', () => {
    fc.assert(fc.property(garbage, decodeDamaged), { numRuns: RUNS * 10 });
  });

  it('every single-byte flip of every Ryu fixture up to 600 bytes', () => {
    for (const buf of fixtures) {
      if (buf.length > 600) continue;
      for (let at = 0; at < buf.length; at++) {
        for (const x of [0x01, 0x80, 0xff]) {
          const out = Buffer.from(buf);
          out[at] ^= x;
          decodeDamaged(out);
        }
      }
    }
  });
});

describe('messageTypeName', () => {
  it('names every type', () => {
    for (const [name, type] of ALL_TYPES) expect(messageTypeName(type)).toBe(name);
  });
});
