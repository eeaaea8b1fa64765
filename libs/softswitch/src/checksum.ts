/**
 * Checksums of the emulated datapath: the Internet checksum (RFC 1071) with
 * the incremental update of RFC 1624, and CRC32c (RFC 4960 appendix B, SCTP).
 *
 * Everything here works on plain numbers and byte ranges, with no allocation,
 * because header actions call it per packet.
 */

/**
 * Ones'-complement sum of `buf[off, end)` read as big-endian 16-bit words,
 * folded to 16 bits (not complemented). An odd trailing byte is padded with
 * a zero low byte. `init` is a sum to continue from (e.g. a pseudo-header).
 */
export function onesSum(buf: Uint8Array, off: number, end: number, init = 0): number {
  // A JS number holds 53 bits exactly, so the loop can accumulate without
  // folding for any frame size a datapath sees (2^37 bytes before overflow).
  let sum = init;
  let i = off;
  const even = end - ((end - off) & 1);
  for (; i < even; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return fold16(sum);
}

/** Folds a ones'-complement accumulator to 16 bits. */
export function fold16(sum: number): number {
  // Two folds suffice below 2^32; loop for the wider sums a number allows.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of `buf[off, end)` (with `init` folded in): the value to store. */
export function internetChecksum(buf: Uint8Array, off: number, end: number, init = 0): number {
  return ~onesSum(buf, off, end, init) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: the checksum `hc` after data whose ones'-complement sum
 * was `oldSum` became data whose sum is `newSum` (both as from onesSum, over
 * the same 16-bit-aligned span). HC' = ~(~HC + ~m + m').
 */
export function checksumAdjust(hc: number, oldSum: number, newSum: number): number {
  return ~fold16((~hc & 0xffff) + (~oldSum & 0xffff) + newSum) & 0xffff;
}

/** Ones'-complement sum of the IPv4 pseudo-header (RFC 793/768) for the header at `ip`. */
export function ipv4PseudoSum(buf: Uint8Array, ip: number, proto: number, l4Length: number): number {
  return onesSum(buf, ip + 12, ip + 20, proto + l4Length);
}

/** Ones'-complement sum of the IPv6 pseudo-header (RFC 8200 §8.1) for the header at `ip`. */
export function ipv6PseudoSum(buf: Uint8Array, ip: number, proto: number, l4Length: number): number {
  // The upper-layer length is 32 bits; split it into two 16-bit words.
  return onesSum(buf, ip + 8, ip + 40, proto + (l4Length & 0xffff) + Math.floor(l4Length / 0x10000));
}

/** CRC32c (Castagnoli, reflected polynomial 0x82f63b78), one byte-indexed table. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * CRC32c of `buf[off, end)`; the final value (already complemented), as an
 * unsigned 32-bit number. `crc32c(Buffer.from('123456789'), 0, 9) === 0xe3069283`.
 */
export function crc32c(buf: Uint8Array, off: number, end: number): number {
  let c = 0xffffffff;
  for (let i = off; i < end; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Recomputes the SCTP checksum of the SCTP packet `buf[off, end)` in place.
 * The CRC is computed with the checksum field zeroed and stored least
 * significant byte first (RFC 4960 appendix B, as Linux and OVS write it).
 */
export function setSctpChecksum(buf: Uint8Array, off: number, end: number): void {
  buf[off + 8] = 0;
  buf[off + 9] = 0;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  const c = crc32c(buf, off, end);
  buf[off + 8] = c & 0xff;
  buf[off + 9] = (c >>> 8) & 0xff;
  buf[off + 10] = (c >>> 16) & 0xff;
  buf[off + 11] = c >>> 24;
}
