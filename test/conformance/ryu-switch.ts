/**
 * Ryu's OpenFlow 1.3 switch test suite, run against the emulated NIC: the
 * logic of `npm run conformance` (test/conformance/switch-runner.ts) and of
 * ryu-switch.spec.ts. Works on any directory of files in the format that
 * test/fixtures/ryu-of13/README.md describes.
 *
 * Each case gets a fresh SwitchInstance (ports 1, 2, 3, a ManualClock) and
 * one agent session, exactly as a controller would have: the prerequisites
 * go in as the given OpenFlow bytes, each followed by a barrier, and any
 * ERROR reply fails the case. Then every test's frame enters on port 1:
 *
 * - egress: exactly that frame out of port 2, and nothing anywhere else;
 * - packet_in: one PACKET_IN, reason ACTION, carrying exactly that frame,
 *   and nothing output;
 * - table_miss: each listed table's lookup count rose and its matched count
 *   did not; nothing output, nothing sent to the controller;
 * - throughput: the samples are sent at `pktps` for `duration_time`
 *   simulated seconds; the rate out of each tester_match in_port is within
 *   THROUGHPUT_TOLERANCE of the kbps or pktps given.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  decodeMessage,
  encodeMessage,
  errorCodeName,
  errorTypeName,
  Framer,
  messageTypeName,
  OFPR,
  OFPT,
  OfpMessage,
  OxmField,
  ourHello,
  oxmByName,
  OxmValue,
} from '@nicvisor/openflow';
import { compileMatch, matchesKey } from '@nicvisor/softswitch/classifier.js';
import { parsePacket } from '@nicvisor/softswitch/packet.js';
import { ManualClock } from '@nicvisor/softswitch/clock.js';
import { SwitchInstance } from '@nicvisor/softswitch/instance.js';

// ---------------------------------------------------------------------------
// The file format

export interface RyuPrerequisite {
  type: string;
  hex: string;
  json?: unknown;
}

export interface RyuThroughput {
  tester_match: { oxm_fields: Array<{ OXMTlv: { field: string; value: unknown; mask?: unknown } }> };
  kbps?: number | null;
  pktps?: number | null;
}

export interface RyuTest {
  ingress: { hex?: string; text?: string[]; packets?: { samples_hex: string[]; pktps: number; duration_time: number; text?: string[] } };
  egress?: { hex?: string; throughput?: RyuThroughput[] };
  packet_in?: { hex: string };
  table_miss?: number[];
}

export interface RyuCase {
  description: string;
  prerequisite: RyuPrerequisite[];
  tests: RyuTest[];
}

export interface RyuSuiteFile {
  title?: string;
  source?: string;
  cases: RyuCase[];
}

// ---------------------------------------------------------------------------
// Results

export type FailureKind =
  | 'prerequisite-error'
  | 'handshake'
  | 'exception'
  | 'bad-test'
  | 'no-output'
  | 'output-on-port'
  | 'repeated-output'
  | 'wrong-bytes'
  | 'no-packet-in'
  | 'packet-in-reason'
  | 'packet-in-bytes'
  | 'unexpected-packet-in'
  | 'table-not-looked-up'
  | 'table-matched'
  | 'throughput';

export interface Failure {
  kind: FailureKind;
  message: string;
}

export interface CaseResult {
  description: string;
  passed: boolean;
  failures: Failure[];
}

export interface FileResult {
  /** Relative to the suite directory, with forward slashes. */
  path: string;
  title: string;
  passed: number;
  failed: number;
  cases: CaseResult[];
}

export interface SuiteReport {
  dir: string;
  passed: number;
  failed: number;
  files: FileResult[];
}

/** Ryu's tester accepts a measured rate within 10% of the expected one. */
export const THROUGHPUT_TOLERANCE = 0.1;
/** The switch's port frames enter on, the one `egress` frames must leave by, and the other one. */
export const INGRESS_PORT = 1;
export const EGRESS_PORT = 2;
export const SWITCH_PORTS = [1, 2, 3];

// ---------------------------------------------------------------------------
// Loading

/** Every *.json file under `dir`, recursively, sorted by relative path. */
export function findSuiteFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out.push(p);
    }
  };
  walk(dir);
  return out.sort((a, b) => (relative(dir, a) < relative(dir, b) ? -1 : 1));
}

export function parseSuiteFile(text: string): RyuSuiteFile {
  const data = JSON.parse(text) as RyuSuiteFile;
  if (data === null || typeof data !== 'object' || !Array.isArray(data.cases)) throw new Error('not a Ryu switch-suite file (no "cases" array)');
  return data;
}

// ---------------------------------------------------------------------------
// Comparing frames

function hexByte(b: number | undefined): string {
  return b === undefined ? 'nothing' : `0x${b.toString(16).padStart(2, '0')}`;
}

/** Undefined when equal, else where and how `got` differs from `expected`. */
export function describeDifference(expected: Buffer, got: Buffer): string | undefined {
  if (expected.equals(got)) return undefined;
  const n = Math.min(expected.length, got.length);
  let i = 0;
  while (i < n && expected[i] === got[i]) i++;
  const len = expected.length === got.length ? '' : `; ${got.length} bytes, expected ${expected.length}`;
  return `wrong bytes at offset ${i} (expected ${hexByte(expected[i])}, got ${hexByte(got[i])}${len})`;
}

function reasonName(reason: number): string {
  return Object.keys(OFPR).find((k) => OFPR[k as keyof typeof OFPR] === reason) ?? String(reason);
}

// ---------------------------------------------------------------------------
// The harness: a switch, a controller session, what came out

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

class Harness {
  readonly clock = new ManualClock(0);
  readonly instance: SwitchInstance;
  /** Messages from the switch to the controller since the last `take()`. */
  private inbox: OfpMessage[] = [];
  private undecodable: string[] = [];
  private readonly framer = new Framer();
  /** Frames out of the switch's ports since the last `take()` (copies). */
  private frames: Array<{ port: number; frame: Buffer }> = [];
  /** While set, output goes here instead of being kept. */
  counting: ((port: number, frame: Buffer) => void) | undefined;
  private readonly session: { receive(raw: Buffer): void; close(): void };
  private xid = 1;

  constructor() {
    this.instance = new SwitchInstance({ datapathId: 1n, ports: SWITCH_PORTS.map((portNo) => ({ portNo })), clock: this.clock });
    this.instance.onTransmit((port, frame) => {
      if (this.counting !== undefined) {
        this.counting(port, frame);
      } else {
        this.frames.push({ port, frame: Buffer.from(frame) });
      }
    });
    this.session = this.instance.openSession((raw) => {
      try {
        for (const m of this.framer.push(Buffer.from(raw))) {
          try {
            this.inbox.push(decodeMessage(m));
          } catch (e) {
            this.undecodable.push((e as Error).message);
          }
        }
      } catch (e) {
        this.undecodable.push((e as Error).message);
      }
    });
  }

  nextXid(): number {
    return 0x10000 + this.xid++;
  }

  send(raw: Buffer): void {
    this.session.receive(raw);
  }

  /** Sends a barrier and waits (a few turns of the event loop at most) for its reply; returns what came before it. */
  async barrier(): Promise<{ messages: OfpMessage[]; replied: boolean }> {
    const xid = this.nextXid();
    this.send(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid }));
    for (let i = 0; i < 50; i++) {
      const at = this.inbox.findIndex((m) => m.type === OFPT.BARRIER_REPLY && m.xid === xid);
      if (at >= 0) {
        const messages = this.inbox.slice(0, at);
        this.inbox = this.inbox.slice(at + 1);
        return { messages, replied: true };
      }
      await settle();
    }
    const messages = this.inbox;
    this.inbox = [];
    return { messages, replied: false };
  }

  take(): { messages: OfpMessage[]; frames: Array<{ port: number; frame: Buffer }>; undecodable: string[] } {
    const out = { messages: this.inbox, frames: this.frames, undecodable: this.undecodable };
    this.inbox = [];
    this.frames = [];
    this.undecodable = [];
    return out;
  }

  close(): void {
    this.session.close();
  }
}

function errorNames(m: OfpMessage): string {
  if (m.type !== OFPT.ERROR) return messageTypeName(m.type);
  return `${errorTypeName(m.errorType)}/${'code' in m ? errorCodeName(m.errorType, m.code) : `experimenter ${m.experimenter}`}`;
}

// ---------------------------------------------------------------------------
// Running

async function handshake(h: Harness): Promise<Failure[]> {
  await settle();
  h.send(encodeMessage(ourHello(h.nextXid())));
  const { messages, replied } = await h.barrier();
  const failures: Failure[] = [];
  if (!messages.some((m) => m.type === OFPT.HELLO)) failures.push({ kind: 'handshake', message: 'the switch sent no HELLO' });
  for (const m of messages) if (m.type === OFPT.ERROR) failures.push({ kind: 'handshake', message: `handshake answered with ${errorNames(m)}` });
  if (!replied) failures.push({ kind: 'handshake', message: 'no BARRIER_REPLY after the handshake' });
  return failures;
}

async function installPrerequisites(h: Harness, c: RyuCase): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (const [i, p] of c.prerequisite.entries()) {
    h.send(Buffer.from(p.hex, 'hex'));
    const { messages, replied } = await h.barrier();
    for (const m of messages) {
      if (m.type === OFPT.ERROR) failures.push({ kind: 'prerequisite-error', message: `prerequisite ${i + 1} (${p.type}) rejected: ${errorNames(m)}` });
    }
    if (!replied) failures.push({ kind: 'prerequisite-error', message: `prerequisite ${i + 1} (${p.type}): no BARRIER_REPLY` });
  }
  return failures;
}

function outputFailures(frames: Array<{ port: number; frame: Buffer }>, allowedPort: number | undefined): Failure[] {
  const failures: Failure[] = [];
  const ports = [...new Set(frames.map((f) => f.port))].sort((a, b) => a - b);
  for (const port of ports) {
    if (port !== allowedPort) {
      const n = frames.filter((f) => f.port === port).length;
      failures.push({ kind: 'output-on-port', message: `output on port ${port}${n > 1 ? ` (${n} frames)` : ''}` });
    }
  }
  return failures;
}

function packetIns(messages: OfpMessage[]) {
  return messages.filter((m) => m.type === OFPT.PACKET_IN);
}

async function runFrameTest(h: Harness, t: RyuTest): Promise<Failure[]> {
  const failures: Failure[] = [];
  const frame = Buffer.from(t.ingress.hex!, 'hex');
  const tables = t.table_miss ?? [];
  const before = tables.map((id) => h.instance.tableStats(id));
  h.take();
  h.instance.receiveFrame(INGRESS_PORT, Buffer.from(frame));
  const { messages: late } = await h.barrier();
  const { frames, undecodable, messages } = h.take();
  const fromSwitch = [...late, ...messages];
  for (const u of undecodable) failures.push({ kind: 'exception', message: `undecodable message from the switch: ${u}` });
  const pins = packetIns(fromSwitch);

  if (t.egress?.hex !== undefined) {
    const expected = Buffer.from(t.egress.hex, 'hex');
    const out = frames.filter((f) => f.port === EGRESS_PORT);
    if (out.length === 0) {
      const alt = pins.length > 0 ? ` (sent to the controller instead: PACKET_IN reason ${reasonName(pins[0].reason)})` : '';
      failures.push({ kind: 'no-output', message: `no output on port ${EGRESS_PORT}${alt}` });
    } else {
      const diff = describeDifference(expected, out[0].frame);
      if (diff !== undefined) failures.push({ kind: 'wrong-bytes', message: `port ${EGRESS_PORT}: ${diff}` });
      if (out.length > 1) failures.push({ kind: 'repeated-output', message: `${out.length} frames out of port ${EGRESS_PORT}, expected 1` });
    }
    failures.push(...outputFailures(frames, EGRESS_PORT));
    if (pins.length > 0 && out.length > 0) failures.push({ kind: 'unexpected-packet-in', message: `also sent to the controller (PACKET_IN reason ${reasonName(pins[0].reason)})` });
  } else if (t.packet_in !== undefined) {
    const expected = Buffer.from(t.packet_in.hex, 'hex');
    if (pins.length === 0) {
      const where = frames.length > 0 ? ` (output on port ${[...new Set(frames.map((f) => f.port))].join(', ')} instead)` : '';
      failures.push({ kind: 'no-packet-in', message: `no packet-in${where}` });
    } else {
      const p = pins[0];
      if (p.reason !== OFPR.ACTION) failures.push({ kind: 'packet-in-reason', message: `wrong packet-in reason ${reasonName(p.reason)} (expected ACTION)` });
      const diff = describeDifference(expected, p.data);
      if (diff !== undefined) failures.push({ kind: 'packet-in-bytes', message: `packet-in data: ${diff}` });
      if (pins.length > 1) failures.push({ kind: 'unexpected-packet-in', message: `${pins.length} packet-ins, expected 1` });
      failures.push(...outputFailures(frames, undefined));
    }
  } else if (t.table_miss !== undefined) {
    tables.forEach((id, i) => {
      const after = h.instance.tableStats(id);
      if (!(after.lookupCount > before[i].lookupCount)) failures.push({ kind: 'table-not-looked-up', message: `table ${id}: lookup count did not rise (${after.lookupCount})` });
      if (after.matchedCount !== before[i].matchedCount) {
        failures.push({ kind: 'table-matched', message: `table ${id}: matched count rose ${before[i].matchedCount} -> ${after.matchedCount}` });
      }
    });
    failures.push(...outputFailures(frames, undefined));
    if (pins.length > 0) failures.push({ kind: 'unexpected-packet-in', message: `sent to the controller (PACKET_IN reason ${reasonName(pins[0].reason)})` });
  } else {
    failures.push({ kind: 'bad-test', message: 'test has neither egress, packet_in nor table_miss' });
  }
  return failures;
}

/**
 * The tester switch's flow for one throughput entry: its match (Ryu's JSON
 * OXM fields, in_port N being the frame's exit port N here) compiled with
 * the NIC's own classifier. Throws on a match the codec would refuse.
 */
export function testerMatcher(t: RyuThroughput): { port: number; matches: (port: number, frame: Buffer) => boolean } {
  const fields = t.tester_match?.oxm_fields ?? [];
  const match: OxmField[] = fields.map(({ OXMTlv: f }): OxmField => {
    const d = oxmByName(f.field);
    if (d === undefined) throw new Error(`tester_match field ${f.field} is not an OpenFlow-basic field`);
    const conv = (v: unknown): OxmValue => (d.kind === 'u64' ? BigInt(v as number | string) : (v as OxmValue));
    const mask = (f as { mask?: unknown }).mask;
    return mask === undefined || mask === null ? { field: d.name, value: conv(f.value) } : { field: d.name, value: conv(f.value), mask: conv(mask) };
  });
  const inPort = match.find((m) => m.field === 'in_port')?.value;
  if (typeof inPort !== 'number') throw new Error('tester_match has no in_port');
  const compiled = compileMatch(match);
  return {
    port: inPort,
    // Parsing each frame is only needed for fields beyond in_port.
    matches: match.length === 1 ? (port) => port === inPort : (port, frame) => port === inPort && matchesKey(compiled, parsePacket(frame, port).key),
  };
}

async function runThroughputTest(h: Harness, t: RyuTest): Promise<Failure[]> {
  const spec = t.ingress.packets!;
  const samples = spec.samples_hex.map((x) => Buffer.from(x, 'hex'));
  const failures: Failure[] = [];
  if (samples.length === 0 || !(spec.pktps > 0) || !(spec.duration_time > 0)) return [{ kind: 'bad-test', message: 'throughput test without samples, pktps or duration_time' }];
  let meters: Array<ReturnType<typeof testerMatcher> & { entry: RyuThroughput; packets: number; bytes: number }>;
  try {
    meters = (t.egress?.throughput ?? []).map((entry) => ({ ...testerMatcher(entry), entry, packets: 0, bytes: 0 }));
  } catch (e) {
    return [{ kind: 'bad-test', message: `throughput: ${(e as Error).message}` }];
  }
  h.take();
  h.counting = (port, frame) => {
    for (const m of meters) {
      if (m.matches(port, frame)) {
        m.packets++;
        m.bytes += frame.length;
      }
    }
  };
  const total = Math.round(spec.pktps * spec.duration_time);
  const start = h.clock.now();
  const interval = 1000 / spec.pktps;
  let nextTick = start + 1000;
  try {
    for (let i = 0; i < total; i++) {
      const at = start + i * interval;
      if (at >= nextTick) {
        h.clock.set(nextTick);
        h.instance.tick();
        nextTick += 1000;
      }
      h.clock.set(at);
      h.instance.receiveFrame(INGRESS_PORT, Buffer.from(samples[i % samples.length]));
    }
    h.clock.set(start + spec.duration_time * 1000);
  } finally {
    h.counting = undefined;
  }
  h.take();
  const seconds = spec.duration_time;
  for (const m of meters) {
    const what = m.entry.tester_match.oxm_fields.length > 1 ? `port ${m.port} (${m.entry.tester_match.oxm_fields.filter((f) => f.OXMTlv.field !== 'in_port').map((f) => `${f.OXMTlv.field}=${String(f.OXMTlv.value)}`).join(',')})` : `port ${m.port}`;
    const check = (unit: 'kbps' | 'pktps', expected: number, measured: number) => {
      if (Math.abs(measured - expected) > THROUGHPUT_TOLERANCE * expected) {
        failures.push({ kind: 'throughput', message: `${what}: ${measured.toFixed(1)} ${unit}, expected ${expected} ${unit} ±${THROUGHPUT_TOLERANCE * 100}%` });
      }
    };
    if (typeof m.entry.kbps === 'number') check('kbps', m.entry.kbps, (m.bytes * 8) / 1000 / seconds);
    if (typeof m.entry.pktps === 'number') check('pktps', m.entry.pktps, m.packets / seconds);
  }
  return failures;
}

/** Runs one case on a fresh switch. Never throws: an exception is a failure. */
export async function runCase(c: RyuCase): Promise<CaseResult> {
  const failures: Failure[] = [];
  let h: Harness | undefined;
  try {
    h = new Harness();
    failures.push(...(await handshake(h)));
    failures.push(...(await installPrerequisites(h, c)));
    if (failures.length === 0) {
      for (const [i, t] of c.tests.entries()) {
        const fs = t.ingress?.packets !== undefined ? await runThroughputTest(h, t) : t.ingress?.hex !== undefined ? await runFrameTest(h, t) : [{ kind: 'bad-test' as const, message: 'test without ingress' }];
        failures.push(...(c.tests.length > 1 ? fs.map((f) => ({ ...f, message: `test ${i + 1}: ${f.message}` })) : fs));
      }
    }
  } catch (e) {
    failures.push({ kind: 'exception', message: `threw: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}` });
  } finally {
    try {
      h?.close();
    } catch {
      // closing a broken session is not a separate failure
    }
  }
  return { description: c.description, passed: failures.length === 0, failures };
}

export async function runSuiteFile(path: string, root: string): Promise<FileResult> {
  const rel = relative(root, path).split(sep).join('/');
  let suite: RyuSuiteFile;
  try {
    suite = parseSuiteFile(readFileSync(path, 'utf8'));
  } catch (e) {
    return {
      path: rel,
      title: rel,
      passed: 0,
      failed: 1,
      cases: [{ description: '(file)', passed: false, failures: [{ kind: 'bad-test', message: `unreadable: ${(e as Error).message}` }] }],
    };
  }
  const cases: CaseResult[] = [];
  for (const c of suite.cases) cases.push(await runCase(c));
  const passed = cases.filter((r) => r.passed).length;
  return { path: rel, title: suite.title ?? rel, passed, failed: cases.length - passed, cases };
}

export async function runSuite(dir: string, onFile?: (f: FileResult) => void): Promise<SuiteReport> {
  const files: FileResult[] = [];
  for (const p of findSuiteFiles(dir)) {
    const f = await runSuiteFile(p, dir);
    files.push(f);
    onFile?.(f);
  }
  return {
    dir,
    passed: files.reduce((n, f) => n + f.passed, 0),
    failed: files.reduce((n, f) => n + f.failed, 0),
    files,
  };
}

// ---------------------------------------------------------------------------
// Reporting

/** `RELPATH: P passed, F failed`, then each failing case and its reasons, indented. */
export function formatFile(f: FileResult): string {
  const lines = [`${f.path}: ${f.passed} passed, ${f.failed} failed`];
  for (const c of f.cases) {
    if (c.passed) continue;
    lines.push(`  ${c.description}`);
    for (const x of c.failures) lines.push(`    ${x.message}`);
  }
  return lines.join('\n');
}

export function summaryLine(r: { passed: number; failed: number }): string {
  return `${r.passed} passed, ${r.failed} failed`;
}

export function formatReport(r: SuiteReport): string {
  return [...r.files.map(formatFile), summaryLine(r)].join('\n');
}

/** Failing cases counted by the kind of their failures (a case counts once per kind). */
export function failuresByKind(r: SuiteReport): Map<FailureKind, string[]> {
  const out = new Map<FailureKind, string[]>();
  for (const f of r.files) {
    for (const c of f.cases) {
      for (const kind of new Set(c.failures.map((x) => x.kind))) {
        const list = out.get(kind) ?? [];
        list.push(`${f.path}: ${c.description}: ${c.failures.filter((x) => x.kind === kind).map((x) => x.message).join('; ')}`);
        out.set(kind, list);
      }
    }
  }
  return out;
}
