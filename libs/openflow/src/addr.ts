/** Text forms of the address types OXM fields carry: MAC, IPv4, IPv6 (RFC 5952). */
import { OFPBMC, OFPET, OfpError } from './errors.js';

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function macToString(b: Uint8Array, off: number): string {
  return `${HEX2[b[off]]}:${HEX2[b[off + 1]]}:${HEX2[b[off + 2]]}:${HEX2[b[off + 3]]}:${HEX2[b[off + 4]]}:${HEX2[b[off + 5]]}`;
}

function badAddress(kind: string, s: string): OfpError {
  return new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_VALUE, `not a valid ${kind} address: ${JSON.stringify(s)}`);
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * The MAC address in `s` ("aa:bb:cc:dd:ee:ff", either case) as its high 16
 * bits and low 32 bits in `out[0]`, `out[1]`; false when `s` is not one.
 */
export function parseMac(s: string, out: Uint32Array | number[]): boolean {
  if (s.length !== 17) return false;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 6; i++) {
    const h = hexDigit(s.charCodeAt(i * 3));
    const l = hexDigit(s.charCodeAt(i * 3 + 1));
    if (h < 0 || l < 0 || (i < 5 && s.charCodeAt(i * 3 + 2) !== 58)) return false;
    if (i < 2) hi = (hi << 8) | (h << 4) | l;
    else lo = ((lo << 8) | (h << 4) | l) >>> 0;
  }
  out[0] = hi;
  out[1] = lo;
  return true;
}

export function writeMac(s: string, b: Uint8Array, off: number): void {
  if (s.length !== 17) throw badAddress('MAC', s);
  for (let i = 0; i < 6; i++) {
    const hi = hexDigit(s.charCodeAt(i * 3));
    const lo = hexDigit(s.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(i * 3 + 2) !== 58)) throw badAddress('MAC', s);
    b[off + i] = (hi << 4) | lo;
  }
}

export function ipv4ToString(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * The IPv4 address in `s` as a 32-bit number (≥ 0), or -1 when `s` is not
 * four dot-separated decimal parts of 1-3 ASCII digits each, at most 255
 * (leading zeros allowed). One pass over the characters: no split, no regex.
 */
export function parseIpv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let addr = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      part = part * 10 + (c - 48);
    } else if (c === 46) {
      if (digits === 0 || part > 255 || ++dots > 3) return -1;
      addr = addr * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return addr * 256 + part;
}

export function writeIpv4(s: string, b: Uint8Array, off: number): void {
  const a = parseIpv4(s);
  if (a < 0) throw badAddress('IPv4', s);
  b[off] = a >>> 24;
  b[off + 1] = a >>> 16;
  b[off + 2] = a >>> 8;
  b[off + 3] = a;
}

/** RFC 5952 canonical form: lower case, longest run (≥ 2) of zero groups as "::". */
export function ipv6ToString(b: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function writeIpv6(s: string, b: Uint8Array, off: number): void {
  const halves = s.split('::');
  if (halves.length > 2) throw badAddress('IPv6', s);
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    items.forEach((item, idx) => {
      if (idx === items.length - 1 && item.includes('.')) {
        const v4 = new Uint8Array(4);
        writeIpv4(item, v4, 0);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(parseInt(item, 16));
      } else {
        throw badAddress('IPv6', s);
      }
    });
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw badAddress('IPv6', s);
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    b[off + 2 * i] = groups[i] >>> 8;
    b[off + 2 * i + 1] = groups[i] & 0xff;
  }
}

/** An IPv6 address as a 128-bit integer, for mask arithmetic in the text formats. */
export function ipv6ToBigInt(s: string): bigint {
  const b = Buffer.alloc(16);
  writeIpv6(s, b, 0);
  return (b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8);
}

export function ipv6FromBigInt(n: bigint): string {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE((n >> 64n) & 0xffffffffffffffffn, 0);
  b.writeBigUInt64BE(n & 0xffffffffffffffffn, 8);
  return ipv6ToString(b, 0);
}
