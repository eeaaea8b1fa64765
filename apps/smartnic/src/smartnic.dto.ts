/**
 * The management API's request and reply shapes (JSON over the NestJS TCP
 * transport, so 64-bit datapath ids travel as strings and frames as hex),
 * and the checks that turn an untrusted request into typed values.
 */
import { NicError } from '@nicvisor/softswitch/nic.js';

/** A datapath id: decimal, or hex with 0x, or colon-separated hex bytes (00:00:00:00:00:00:00:01). */
export type DatapathIdText = string;

export interface ChannelConfigDto {
  /** Passive: accept OpenFlow connections here (port 0 = ephemeral). */
  listen?: { host?: string; port?: number };
  /** Active: connect to this controller, `tcp:HOST:PORT`, reconnecting. */
  connect?: string;
}

export interface CreateInstanceDto extends ChannelConfigDto {
  datapathId: DatapathIdText | number;
  /** NIC ports to attach: bare numbers (same number inside) or explicit bindings. */
  ports?: Array<number | { nicPort: number; portNo?: number }>;
  nTables?: number;
}

export interface InstanceView {
  datapathId: string;
  nTables: number;
  ports: Array<{ nicPort: number; portNo: number }>;
  channel: {
    listen?: { host: string; port: number; connections: number };
    connect?: { target: string; connected: boolean };
  };
}

export interface DatapathDto {
  datapathId: DatapathIdText | number;
}

export interface AttachPortDto extends DatapathDto {
  nicPort: number;
  portNo?: number;
}

export interface NicPortDto {
  nicPort: number;
}

export interface PortLinkDto extends NicPortDto {
  down: boolean;
}

export interface InjectFrameDto extends NicPortDto {
  /** The Ethernet frame, hex. */
  frame: string;
}

export interface PcapPathDto extends NicPortDto {
  path: string;
}

export interface PortView {
  nicPort: number;
  name: string;
  hwAddr: string;
  owner: string | null;
  portNo: number | null;
  linkDown: boolean;
  rxFrames: number;
  txFrames: number;
  droppedFrames: number;
  capturing: string | null;
}

function bad(message: string): NicError {
  return new NicError('BAD_ARGUMENT', message);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function requireObject(x: unknown): Record<string, unknown> {
  if (!isObject(x)) throw bad('the request must be a JSON object');
  return x;
}

export function parseDatapathId(x: unknown): bigint {
  let v: bigint | undefined;
  if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) v = BigInt(x);
  else if (typeof x === 'string') {
    const s = x.trim();
    if (/^\d+$/.test(s)) v = BigInt(s);
    else if (/^0x[0-9a-f]{1,16}$/i.test(s)) v = BigInt(s);
    else if (/^[0-9a-f]{2}(:[0-9a-f]{2}){7}$/i.test(s)) v = BigInt(`0x${s.replace(/:/g, '')}`);
  }
  if (v === undefined || v > 0xffffffffffffffffn) throw bad(`bad datapath id ${JSON.stringify(x)}: expected a 64-bit number (decimal, 0x hex or 8 colon-separated bytes)`);
  return v;
}

export function formatDatapathId(d: bigint): string {
  return `0x${d.toString(16).padStart(16, '0')}`;
}

export function requirePortNumber(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 0xffffff00) throw bad(`bad ${what} ${JSON.stringify(x)}`);
  return x;
}

export function optionalPortNumber(x: unknown, what: string): number | undefined {
  return x === undefined || x === null ? undefined : requirePortNumber(x, what);
}

export function requireString(x: unknown, what: string): string {
  if (typeof x !== 'string' || x.length === 0) throw bad(`${what} must be a non-empty string`);
  return x;
}

export function requireBoolean(x: unknown, what: string): boolean {
  if (typeof x !== 'boolean') throw bad(`${what} must be true or false`);
  return x;
}

export function parseFrameHex(x: unknown): Buffer {
  if (typeof x !== 'string' || x.length === 0 || x.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(x)) throw bad('frame must be an even-length hex string');
  const b = Buffer.from(x, 'hex');
  if (b.length < 14) throw bad(`a ${b.length}-byte frame is shorter than an Ethernet header`);
  return b;
}

export interface ParsedCreate {
  datapathId: bigint;
  ports: Array<{ nicPort: number; portNo: number }>;
  nTables: number | undefined;
  listen: { host: string | undefined; port: number } | undefined;
  connect: string | undefined;
}

export function parseCreate(body: unknown): ParsedCreate {
  const o = requireObject(body);
  const datapathId = parseDatapathId(o.datapathId);
  const portsIn = o.ports ?? [];
  if (!Array.isArray(portsIn)) throw bad('ports must be an array');
  const ports = portsIn.map((p: unknown) => {
    if (typeof p === 'number') return { nicPort: requirePortNumber(p, 'NIC port'), portNo: p };
    const b = requireObject(p);
    const nicPort = requirePortNumber(b.nicPort, 'NIC port');
    return { nicPort, portNo: optionalPortNumber(b.portNo, 'instance port') ?? nicPort };
  });
  let nTables: number | undefined;
  if (o.nTables !== undefined) {
    if (typeof o.nTables !== 'number' || !Number.isInteger(o.nTables) || o.nTables < 1 || o.nTables > 254) throw bad('nTables must be 1..254');
    nTables = o.nTables;
  }
  let listen: ParsedCreate['listen'];
  if (o.listen !== undefined && o.listen !== null) {
    const l = requireObject(o.listen);
    const port = l.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw bad('listen.port must be 0..65535');
    listen = { host: l.host === undefined ? undefined : requireString(l.host, 'listen.host'), port };
  }
  const connect = o.connect === undefined || o.connect === null ? undefined : requireString(o.connect, 'connect');
  if (listen !== undefined && connect !== undefined) throw bad('give listen or connect, not both');
  return { datapathId, ports, nTables, listen, connect };
}
