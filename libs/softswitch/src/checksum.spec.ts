import fc from 'fast-check';
import { checksumAdjust, crc32c, internetChecksum, ipv4PseudoSum, onesSum, setSctpChecksum } from './checksum.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('internet checksum', () => {
  test('RFC 1071 §3 example: sum of 0001 f203 f4f5 f6f7 is 0xddf2', () => {
    const b = hex('0001f203f4f5f6f7');
    expect(onesSum(b, 0, b.length)).toBe(0xddf2);
    expect(internetChecksum(b, 0, b.length)).toBe(0x220d);
  });

  test('an odd trailing byte is padded with a zero low byte', () => {
    expect(onesSum(hex('0102 03'), 0, 3)).toBe(0x0102 + 0x0300);
  });

  test('a real IPv4 header (from Ryu data) checks to db1e', () => {
    const h = hex('4520004b 00000000 4006 0000 c0a80a0a c0a81414');
    expect(internetChecksum(h, 0, 20)).toBe(0xdb1e);
    h.writeUInt16BE(0xdb1e, 10);
    expect(internetChecksum(h, 0, 20)).toBe(0);
  });

  test('TCP over IPv4 with the pseudo-header (Ryu frame, checksum cb4c)', () => {
    const f = hex(
      '22222222222212111111111108004520004b000000004006db1ec0a80a0ac0a814142b6708ae000000000000000060000000' +
        '00000000000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    );
    const l4 = 34;
    const len = f.length - l4;
    expect(internetChecksum(f, l4, f.length, ipv4PseudoSum(f, 14, 6, len))).toBe(0xcb4c);
  });

  test('RFC 1624 incremental update equals a full recomputation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), fc.nat(), fc.uint8Array({ minLength: 2, maxLength: 2 }), (data, at, repl) => {
        const b = Buffer.from(data.length % 2 ? [...data, 0] : data);
        const off = (at % (b.length / 2)) * 2;
        const hc = internetChecksum(b, 0, b.length);
        const before = onesSum(b, off, off + 2);
        b[off] = repl[0];
        b[off + 1] = repl[1];
        const after = onesSum(b, off, off + 2);
        const full = internetChecksum(b, 0, b.length);
        const inc = checksumAdjust(hc, before, after);
        // Equal, up to ones'-complement's two zeros (0x0000 / 0xffff).
        expect(inc === full || (inc ^ full) === 0xffff).toBe(true);
      }),
    );
  });
});

describe('CRC32c', () => {
  test('check value: "123456789" → 0xe3069283', () => {
    const b = Buffer.from('123456789', 'latin1');
    expect(crc32c(b, 0, b.length)).toBe(0xe3069283);
  });

  test('RFC 3720 B.4 vectors: 32 zero bytes → 0x8a9136aa, 32 0xff → 0x62a8ab43, 0..31 → 0x46dd794e', () => {
    expect(crc32c(Buffer.alloc(32), 0, 32)).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff), 0, 32)).toBe(0x62a8ab43);
    const inc = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(crc32c(inc, 0, 32)).toBe(0x46dd794e);
  });

  test('SCTP checksum is the CRC32c with the field zeroed, stored least significant byte first', () => {
    const sctp = hex('2b6708ae 00000000 ffffffff 00000018 00000000 00000000 00000000 0123456789abcdef');
    setSctpChecksum(sctp, 0, sctp.length);
    const stored = sctp.readUInt32LE(8);
    const zeroed = Buffer.from(sctp);
    zeroed.fill(0, 8, 12);
    expect(stored).toBe(crc32c(zeroed, 0, zeroed.length));
  });
});
