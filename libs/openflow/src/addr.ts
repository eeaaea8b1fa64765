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

export function writeIpv4(s: string, b: Uint8Array, off: number): void {
  const parts = s.split('.');
  if (parts.length !== 4) throw badAddress('IPv4', s);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw badAddress('IPv4', s);
    b[off + i] = Number(p);
  }
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
