import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodePcapHeader,
  encodePcapHeader,
  PcapFileWriter,
  PcapFormatError,
  PcapParser,
  readPcap,
  readPcapFile,
  writePcap,
} from './pcap.js';

const frame = (n: number, len = 60) => Buffer.alloc(len, n);

describe('pcap', () => {
  it('writes the classic little-endian microsecond header tcpdump writes', () => {
    expect(encodePcapHeader().toString('hex')).toBe('d4c3b2a1' + '02000400' + '00000000' + '00000000' + '00000400' + '01000000');
  });

  it('round-trips records, microsecond and nanosecond', () => {
    const records = [
      { sec: 1_700_000_000, nsec: 123_456_000, data: frame(1), origLen: 60 },
      { sec: 1_700_000_001, nsec: 999_999_000, data: frame(2, 1514), origLen: 1514 },
    ];
    const usec = readPcap(writePcap(records));
    expect(usec.header).toMatchObject({ nanosecond: false, linktype: 1, versionMajor: 2, versionMinor: 4 });
    expect(usec.records).toEqual(records);
    const precise = [{ ...records[0], nsec: 123_456_789 }];
    const nsec = readPcap(writePcap(precise, { nanosecond: true }));
    expect(nsec.header.nanosecond).toBe(true);
    expect(nsec.records).toEqual(precise);
  });

  it('cuts frames at snaplen and keeps the original length', () => {
    const { header, records } = readPcap(writePcap([{ sec: 0, nsec: 0, data: frame(7, 200), origLen: 200 }], { snaplen: 64 }));
    expect(header.snaplen).toBe(64);
    expect(records[0].data).toEqual(frame(7, 64));
    expect(records[0].origLen).toBe(200);
  });

  it('reads big-endian files', () => {
    const be = Buffer.from('a1b2c3d40002000400000000000000000000ffff00000001' + '00000005' + '00000007' + '00000002' + '00000003' + 'abcd', 'hex');
    const { header, records } = readPcap(be);
    expect(header).toMatchObject({ littleEndian: false, snaplen: 65535, linktype: 1 });
    expect(records).toEqual([{ sec: 5, nsec: 7000, data: Buffer.from('abcd', 'hex'), origLen: 3 }]);
  });

  it('parses incrementally across arbitrary chunk boundaries', () => {
    const file = writePcap([1, 2, 3].map((n) => ({ sec: n, nsec: 0, data: frame(n, 60 + n), origLen: 60 + n })));
    for (const step of [1, 5, 17, 24, 40]) {
      const p = new PcapParser();
      const got = [];
      for (let i = 0; i < file.length; i += step) got.push(...p.push(file.subarray(i, i + step)));
      expect(got.map((r) => r.sec)).toEqual([1, 2, 3]);
      expect(got[2].data).toEqual(frame(3, 63));
      expect(p.buffered).toBe(0);
    }
  });

  it('rejects what is not a pcap file, and truncated ones', () => {
    expect(() => decodePcapHeader(Buffer.alloc(24))).toThrow(PcapFormatError);
    expect(() => readPcap(Buffer.alloc(10))).toThrow(/24 bytes/);
    const file = writePcap([{ sec: 0, nsec: 0, data: frame(1), origLen: 60 }]);
    expect(() => readPcap(file.subarray(0, file.length - 1))).toThrow(/truncated/);
  });

  it('appends to a file as frames come', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcap-'));
    try {
      const path = join(dir, 'out.pcap');
      const w = new PcapFileWriter(path);
      w.write(frame(1), { sec: 10, nsec: 5000 });
      expect(readPcapFile(path).records).toHaveLength(1);
      w.write(frame(2, 70));
      w.close();
      expect(w.frames).toBe(2);
      const { records } = readPcap(readFileSync(path));
      expect(records.map((r) => r.data.length)).toEqual([60, 70]);
      expect(records[0]).toMatchObject({ sec: 10, nsec: 5000 });
      expect(() => w.write(frame(3))).toThrow(/closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
