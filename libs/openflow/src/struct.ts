/**
 * Fixed-layout structures declared once: the field list builds a
 * binary-parser Parser for decoding and drives the encoder, so the two
 * directions cannot drift. Used for the fixed parts of messages that are
 * not on the hot path (ports, stats entries, features); hot-path messages
 * (flow-mod, packet-in) are hand-decoded in wire.ts style for speed.
 */
import { Parser } from 'binary-parser';
import { macToString, writeMac } from './addr.js';
import { Reader, Writer } from './wire.js';

/** One field: unsigned ints, a 64-bit bigint, a MAC, a NUL-padded string, or padding. */
export type FieldSpec =
  | readonly [name: string, type: 'u8' | 'u16' | 'u32' | 'u64' | 'mac']
  | readonly [name: string, type: 'string', length: number]
  | readonly ['pad', length: number];

type FieldValue<S> = S extends readonly [string, 'u64']
  ? bigint
  : S extends readonly [string, 'mac' | 'string', ...unknown[]]
    ? string
    : number;

/** The object type a field list decodes to (padding excluded). */
export type StructOf<F extends readonly FieldSpec[]> = {
  [S in F[number] as S[0] extends 'pad' ? never : S[0]]: FieldValue<S>;
};

export interface Struct<V> {
  readonly size: number;
  decode(r: Reader): V;
  encode(v: V, w: Writer): void;
}

const WIDTH = { u8: 1, u16: 2, u32: 4, u64: 8, mac: 6 } as const;

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

export function defineStruct<const F extends readonly FieldSpec[]>(fields: F): Struct<StructOf<F>> {
  let parser = new Parser();
  let size = 0;
  for (const f of fields) {
    if (f[0] === 'pad') {
      parser = parser.seek(f[1] as number);
      size += f[1] as number;
      continue;
    }
    const [name, type] = f;
    switch (type) {
      case 'u8':
        parser = parser.uint8(name);
        break;
      case 'u16':
        parser = parser.uint16be(name);
        break;
      case 'u32':
        parser = parser.uint32be(name);
        break;
      case 'u64':
        parser = parser.uint64be(name);
        break;
      case 'mac':
        parser = parser.buffer(name, { length: 6, formatter: (b) => macToString(b as Buffer, 0) });
        break;
      case 'string':
        parser = parser.buffer(name, { length: f[2] as number, formatter: (b) => cString(b as Buffer) });
        break;
    }
    size += type === 'string' ? (f[2] as number) : WIDTH[type as keyof typeof WIDTH];
  }
  const compiled = parser;
  return {
    size,
    decode(r) {
      r.need(size);
      const v = compiled.parse(r.buf.subarray(r.pos, r.pos + size)) as StructOf<F>;
      r.pos += size;
      return v;
    },
    encode(v, w) {
      const rec = v as Record<string, unknown>;
      for (const f of fields) {
        if (f[0] === 'pad') {
          w.zeros(f[1] as number);
          continue;
        }
        const [name, type] = f;
        const x = rec[name];
        switch (type) {
          case 'u8':
            w.u8(x as number);
            break;
          case 'u16':
            w.u16(x as number);
            break;
          case 'u32':
            w.u32(x as number);
            break;
          case 'u64':
            w.u64(x as bigint);
            break;
          case 'mac':
            writeMac(x as string, w.buf, w.pos);
            w.pos += 6;
            break;
          case 'string':
            w.string(x as string, f[2] as number);
            break;
        }
      }
    },
  };
}
