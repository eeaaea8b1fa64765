/**
 * Classic libpcap capture files (the `.pcap` format tcpdump and Wireshark
 * read and write; not pcapng): a 24-byte global header, then one 16-byte
 * record header and the captured bytes per frame.
 *
 * Written here rather than taken from npm: `pcap` is a native libpcap
 * binding for live capture (node-gyp, no file writer), and `pcap-parser`
 * only reads, through a stream API, and is unmaintained. This is ~150 lines.
 *
 * Reading accepts both byte orders and both timestamp resolutions
 * (microseconds, magic 0xa1b2c3d4; nanoseconds, magic 0xa1b23c4d); writing
 * produces little-endian microsecond files unless asked for nanoseconds.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_GLOBAL_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;
/** LINKTYPE_ETHERNET */
export const LINKTYPE_ETHERNET = 1;
export const DEFAULT_SNAPLEN = 262144;

export interface PcapHeader {
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
  /** Timestamps in nanoseconds (else microseconds). */
  nanosecond: boolean;
  littleEndian: boolean;
}

export interface PcapRecord {
  /** Seconds since the epoch. */
  sec: number;
  /** Nanoseconds within the second (microsecond files give multiples of 1000). */
  nsec: number;
  /** The captured bytes (at most snaplen of the frame). */
  data: Buffer;
  /** The frame's length on the wire. */
  origLen: number;
}

export class PcapFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapFormatError';
  }
}

export interface PcapWriteOptions {
  snaplen?: number;
  linktype?: number;
  nanosecond?: boolean;
}

export function encodePcapHeader(opts: PcapWriteOptions = {}): Buffer {
  const b = Buffer.alloc(PCAP_GLOBAL_HEADER_SIZE);
  b.writeUInt32LE(opts.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(opts.snaplen ?? DEFAULT_SNAPLEN, 16);
  b.writeUInt32LE(opts.linktype ?? LINKTYPE_ETHERNET, 20);
  return b;
}

/** One record (header + bytes), the frame cut at `snaplen`. */
export function encodePcapRecord(rec: { sec: number; nsec: number; data: Buffer; origLen?: number }, opts: PcapWriteOptions = {}): Buffer {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const incl = Math.min(rec.data.length, snaplen);
  const b = Buffer.allocUnsafe(PCAP_RECORD_HEADER_SIZE + incl);
  b.writeUInt32LE(rec.sec >>> 0, 0);
  b.writeUInt32LE(opts.nanosecond ? rec.nsec >>> 0 : Math.floor(rec.nsec / 1000), 4);
  b.writeUInt32LE(incl, 8);
  b.writeUInt32LE(rec.origLen ?? rec.data.length, 12);
  rec.data.copy(b, PCAP_RECORD_HEADER_SIZE, 0, incl);
  return b;
}

/** A whole file in memory. */
export function writePcap(records: readonly PcapRecord[], opts: PcapWriteOptions = {}): Buffer {
  return Buffer.concat([encodePcapHeader(opts), ...records.map((r) => encodePcapRecord(r, opts))]);
}

export function decodePcapHeader(buf: Buffer): PcapHeader {
  if (buf.length < PCAP_GLOBAL_HEADER_SIZE) throw new PcapFormatError(`pcap header needs 24 bytes, got ${buf.length}`);
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC) {
    littleEndian = true;
    nanosecond = le === PCAP_MAGIC_NSEC;
  } else if (be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC) {
    littleEndian = false;
    nanosecond = be === PCAP_MAGIC_NSEC;
  } else {
    throw new PcapFormatError(`not a classic pcap file (magic 0x${be.toString(16).padStart(8, '0')})`);
  }
  const u16 = (o: number) => (littleEndian ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return { versionMajor: u16(4), versionMinor: u16(6), snaplen: u32(16), linktype: u32(20), nanosecond, littleEndian };
}

/**
 * Incremental reader: push arbitrary chunks, get whole records back (like
 * the OpenFlow Framer). The global header is read from the first 24 bytes.
 */
export class PcapParser {
  header: PcapHeader | undefined;
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): PcapRecord[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: PcapRecord[] = [];
    if (this.header === undefined) {
      if (buf.length < PCAP_GLOBAL_HEADER_SIZE) {
        this.pending = Buffer.from(buf);
        return out;
      }
      this.header = decodePcapHeader(buf);
      buf = buf.subarray(PCAP_GLOBAL_HEADER_SIZE);
    }
    const h = this.header;
    const u32 = (o: number) => (h.littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    let off = 0;
    while (buf.length - off >= PCAP_RECORD_HEADER_SIZE) {
      const incl = u32(off + 8);
      if (incl > Math.max(h.snaplen, DEFAULT_SNAPLEN)) {
        throw new PcapFormatError(`record at byte ${off} claims ${incl} captured bytes, over snaplen ${h.snaplen}`);
      }
      if (buf.length - off - PCAP_RECORD_HEADER_SIZE < incl) break;
      const frac = u32(off + 4);
      out.push({
        sec: u32(off),
        nsec: h.nanosecond ? frac : frac * 1000,
        origLen: u32(off + 12),
        data: Buffer.from(buf.subarray(off + PCAP_RECORD_HEADER_SIZE, off + PCAP_RECORD_HEADER_SIZE + incl)),
      });
      off += PCAP_RECORD_HEADER_SIZE + incl;
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    return out;
  }

  /** Bytes of an incomplete record (or header) held back. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Parses a whole file; a truncated last record is an error. */
export function readPcap(buf: Buffer): { header: PcapHeader; records: PcapRecord[] } {
  const p = new PcapParser();
  const records = p.push(buf);
  if (p.header === undefined) throw new PcapFormatError(`pcap header needs 24 bytes, got ${buf.length}`);
  if (p.buffered > 0) throw new PcapFormatError(`truncated record: ${p.buffered} bytes left over`);
  return { header: p.header, records };
}

export function readPcapFile(path: string): { header: PcapHeader; records: PcapRecord[] } {
  return readPcap(readFileSync(path));
}

/** Wall-clock time as pcap's seconds + nanoseconds. */
export function wallTime(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

/**
 * Appends frames to a pcap file as they come (synchronous writes: a capture
 * is complete on disk whenever `write` returns).
 */
export class PcapFileWriter {
  private fd: number | undefined;
  private count = 0;

  constructor(
    readonly path: string,
    private readonly opts: PcapWriteOptions = {},
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, encodePcapHeader(opts));
  }

  write(data: Buffer, time: { sec: number; nsec: number } = wallTime()): void {
    if (this.fd === undefined) throw new Error(`pcap writer for ${this.path} is closed`);
    writeSync(this.fd, encodePcapRecord({ ...time, data }, this.opts));
    this.count++;
  }

  get frames(): number {
    return this.count;
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
