/**
 * A fuzzing campaign against the whole controller (the app with its embedded
 * emulated NIC, in this process): one tenant's delegated channel gets
 * body-mutated messages on one connection, in batches each closed by a
 * barrier, and framing-mutated ones each on a fresh connection, while
 * another tenant keeps installing flows on its own channel. Every answer
 * is matched to its request by xid. Shared by test/e2e/fuzz.spec.ts and
 * bench/fuzz.bench.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeMessage,
  encodeMessage,
  Framer,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPHFC,
  OFPMPF,
  OFPT,
  ourHello,
  type Match,
  type OfpMessage,
} from '@nicvisor/openflow';
import type { ControllerApp } from '../../apps/controller/src/app.module.js';
import { flowMod, output, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { call, emulatorFlows, flowKey, portOf, runtimeOf, startApp, until } from '../e2e/helpers.js';
import { corpus, FRAMING_KINDS, mutateBody, mutateFraming, Rng, tenantMessages, type FramingCase, type FramingKind } from './mutate.js';

export interface FuzzOptions {
  seed: number;
  /** Body-mutated messages, on one connection. */
  bodyMessages: number;
  /** Framing-mutated messages, one connection each. */
  framingMessages: number;
  /** Messages per barrier-closed batch. */
  batch?: number;
  /** Framing connections open at once. */
  parallel?: number;
}

/** What a body-mutated message got. */
export type BodyOutcome = 'error' | 'reply' | 'accepted';

export interface FuzzReport {
  seed: number;
  body: Record<BodyOutcome, number>;
  /** Replies (messages) matched to body-mutated requests by xid; errors by OFPET type. */
  replies: number;
  errorsByType: Record<string, number>;
  framing: Record<FramingKind, { sent: number; errors: number; closedByServer: number }>;
  victim: { flowMods: number; distinctFlows: number; errors: number; missingOnNic: number };
  /** Async messages the fuzzing connection received (its mutated SET_ASYNC and flow-mods can ask for them). */
  unsolicited: number;
  /** Anything that breaks a rule: a missing or wrong answer, a hang, a stray disconnect. Empty when all is well. */
  problems: string[];
  alive: boolean;
  elapsedMs: number;
}

/** Which reply answers each request type. */
const REPLY_OF: Partial<Record<number, number>> = {
  [OFPT.ECHO_REQUEST]: OFPT.ECHO_REPLY,
  [OFPT.FEATURES_REQUEST]: OFPT.FEATURES_REPLY,
  [OFPT.GET_CONFIG_REQUEST]: OFPT.GET_CONFIG_REPLY,
  [OFPT.MULTIPART_REQUEST]: OFPT.MULTIPART_REPLY,
  [OFPT.BARRIER_REQUEST]: OFPT.BARRIER_REPLY,
  [OFPT.QUEUE_GET_CONFIG_REQUEST]: OFPT.QUEUE_GET_CONFIG_REPLY,
  [OFPT.ROLE_REQUEST]: OFPT.ROLE_REPLY,
  [OFPT.GET_ASYNC_REQUEST]: OFPT.GET_ASYNC_REPLY,
};
const ASYNC = new Set<number>([OFPT.PACKET_IN, OFPT.FLOW_REMOVED, OFPT.PORT_STATUS]);
const MAX_PROBLEMS = 50;
const BARRIER_XID_BASE = 0xf0000000;

/** The answers a connection got, by xid. */
interface Answers {
  replies: OfpMessage[];
  /** The multipart reply's last part (REPLY_MORE clear) came. */
  done: boolean;
}

/** A raw OpenFlow connection: bytes out, decoded messages in, grouped by xid. */
class Conn {
  readonly byXid = new Map<number, Answers>();
  readonly undecodable: string[] = [];
  unsolicited = 0;
  role = OFPCR_ROLE.EQUAL as number;
  closedByServer = false;
  readonly closed: Promise<void>;
  private waiters = new Map<number, () => void>();
  private readonly framer = new Framer();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.framer.push(chunk)) this.receive(raw);
    });
    socket.on('error', () => undefined);
    socket.on('end', () => (this.closedByServer = true));
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  /** Connects; with `hello`, sends ours and waits for the server's. */
  static async open(port: number, hello = true): Promise<Conn> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({ host: '127.0.0.1', port }, () => resolve(sock));
      sock.once('error', reject);
    });
    const c = new Conn(s);
    if (hello) {
      const got = c.wait(1);
      s.write(encodeMessage(ourHello(1)));
      await Promise.race([got, c.closed]);
      c.byXid.clear();
    }
    return c;
  }

  private receive(raw: Buffer): void {
    let m: OfpMessage;
    try {
      m = decodeMessage(raw);
    } catch (e) {
      this.undecodable.push(`${raw.subarray(0, 16).toString('hex')}: ${(e as Error).message}`);
      return;
    }
    if (ASYNC.has(m.type)) {
      this.unsolicited++;
      return;
    }
    if (m.type === OFPT.ROLE_REPLY) this.role = m.role;
    let a = this.byXid.get(m.xid);
    if (a === undefined) this.byXid.set(m.xid, (a = { replies: [], done: false }));
    a.replies.push(m);
    if (m.type !== OFPT.MULTIPART_REPLY || (m.flags & OFPMPF.REPLY_MORE) === 0) a.done = true;
    this.waiters.get(m.xid)?.();
  }

  /** Resolves when a message with this xid comes. */
  wait(xid: number): Promise<void> {
    if (this.byXid.has(xid)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(xid, resolve));
  }

  /** Resolves on the connection's close, or after `ms` with false. */
  async closeWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return r;
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]).finally(() => clearTimeout(timer));
}

const VICTIM_FLOWS = 2000;

/** The other tenant: flow-mods in batches, each batch confirmed by a barrier, until `stop()` (at least one pass over its flows). */
function victimLoop(client: VnfClient, port: number): { stop(): Promise<{ sent: number; errors: number }> } {
  let stopped = false;
  let sent = 0;
  let errors = 0;
  const run = (async () => {
    while (!stopped || sent < VICTIM_FLOWS) {
      for (let k = 0; k < 100; k++, sent++) {
        client.send({ ...flowMod({ tableId: 0, priority: 1000, match: victimMatch(sent % VICTIM_FLOWS), actions: [output(port)] }), xid: client.xid() });
      }
      await client.barrier(30_000);
      errors += client.errors().length;
      client.got.length = 0;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await run;
      return { sent, errors };
    },
  };
}

function victimMatch(i: number): Match {
  return [
    { field: 'eth_type', value: 0x0800 },
    { field: 'ipv4_dst', value: `10.${(i >> 8) & 255}.${i & 255}.1` },
  ];
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const batchSize = opts.batch ?? 256;
  const parallel = opts.parallel ?? 8;
  const rng = new Rng(opts.seed);
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const report: FuzzReport = {
    seed: opts.seed,
    body: { error: 0, reply: 0, accepted: 0 },
    replies: 0,
    errorsByType: {},
    framing: Object.fromEntries(FRAMING_KINDS.map((k) => [k, { sent: 0, errors: 0, closedByServer: 0 }])) as FuzzReport['framing'],
    victim: { flowMods: 0, distinctFlows: 0, errors: 0, missingOnNic: 0 },
    unsolicited: 0,
    problems,
    alive: false,
    elapsedMs: 0,
  };

  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-fuzz-'));
  const app: ControllerApp = await startApp(dir);
  try {
    const fz = await call(app, 'POST', '/v1/instances', { vnf: 'fz1', tenant: 'mallory', ports: [1, 2] });
    const vic = await call(app, 'POST', '/v1/instances', { vnf: 'vic1', tenant: 'acme', ports: [3, 4], quotas: { maxFlows: VICTIM_FLOWS + 100 } });
    if (fz.status !== 201 || vic.status !== 201) throw new Error(`instances: ${fz.status} ${JSON.stringify(fz.body)} / ${vic.status} ${JSON.stringify(vic.body)}`);
    const fzPort = portOf(fz.body.channel.endpoint);
    const nTables = Number(fz.body.tables?.tenant?.length ?? 7);
    const seeds = corpus(opts.seed, 30, tenantMessages([1, 2], nTables));
    const victimClient = await VnfClient.open(portOf(vic.body.channel.endpoint));
    const victimFlowsBefore = emulatorFlows(app, vic.body.datapathId).map(flowKey).sort();
    const victim = victimLoop(victimClient, 4);

    await fuzzBodies(fzPort, opts.bodyMessages, batchSize, seeds, rng, report, problem);
    await fuzzFraming(fzPort, opts.framingMessages, parallel, seeds, rng, report, problem);

    const v = await victim.stop();
    report.victim.flowMods = v.sent;
    report.victim.errors = v.errors;
    const onNic = new Set(emulatorFlows(app, vic.body.datapathId).map(flowKey));
    const expected = Array.from({ length: VICTIM_FLOWS }, (_, i) =>
      flowKey({ ...flowMod({ tableId: 1, priority: 1000, match: victimMatch(i), actions: [output(4)] }) }),
    );
    report.victim.distinctFlows = expected.length;
    report.victim.missingOnNic = expected.filter((k) => !onNic.has(k)).length + victimFlowsBefore.filter((k) => !onNic.has(k)).length;

    // Alive: the REST API answers, the fuzzed channel takes a fresh connection, the victim's still works.
    const health = await call(app, 'GET', '/v1/instances');
    const probe = await Conn.open(fzPort);
    probe.socket.write(encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 42, data: Buffer.from('alive?') }));
    const echoed = await within(probe.wait(42), 10_000);
    probe.socket.destroy();
    await victimClient.barrier(10_000);
    report.alive = health.status === 200 && echoed !== 'timeout' && probe.byXid.get(42)?.replies[0]?.type === OFPT.ECHO_REPLY;
    victimClient.close();
    // Every framing connection was let go: only what is open now remains (nothing, once the probe is gone).
    const ch = runtimeOf(app).core.channel('fz1')!;
    await until(() => ch.connections.size === 0, 'the fuzzed channel to let every connection go', 10_000).catch((e: Error) => problem(`${e.message}: ${ch.connections.size} left`));
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

async function fuzzBodies(port: number, total: number, batchSize: number, seeds: Buffer[], rng: Rng, report: FuzzReport, problem: (p: string) => void): Promise<void> {
  let conn = await Conn.open(port);
  let xid = 1;
  let batchNo = 0;
  for (let sent = 0; sent < total; ) {
    // A mutated ROLE_REQUEST may have made this connection a slave: back to EQUAL, so mutations keep reaching the policy.
    if (conn.role === OFPCR_ROLE.SLAVE) {
      const x = BARRIER_XID_BASE - 1 - batchNo;
      conn.socket.write(encodeMessage({ type: OFPT.ROLE_REQUEST, xid: x, role: OFPCR_ROLE.EQUAL, generationId: 0n }));
      await within(conn.wait(x), 10_000);
    }
    const batch: Array<{ xid: number; raw: Buffer }> = [];
    const out: Buffer[] = [];
    while (batch.length < batchSize && sent < total) {
      const raw = mutateBody(rng.pick(seeds), rng, rng.pick(seeds), xid++);
      batch.push({ xid: raw.readUInt32BE(4), raw });
      out.push(raw);
      sent++;
    }
    const barrierXid = BARRIER_XID_BASE + batchNo++;
    out.push(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: barrierXid }));
    conn.socket.write(Buffer.concat(out));
    const r = await within(Promise.race([conn.wait(barrierXid), conn.closed]), 30_000);
    if (r === 'timeout') {
      problem(`batch ${batchNo}: no barrier reply within 30 s (first xid ${batch[0]!.xid})`);
      conn.socket.destroy();
      conn = await Conn.open(port);
      continue;
    }
    // Body mutations keep the framing right, so nothing may end the connection (a later HELLO included).
    const ended = !conn.byXid.has(barrierXid);
    if (ended) problem(`batch ${batchNo}: connection closed by the server (first xid ${batch[0]!.xid})`);
    for (const m of batch) classify(m, conn.byXid.get(m.xid), report, problem);
    for (const e of conn.undecodable.splice(0)) problem(`undecodable message from nicvisor: ${e}`);
    report.unsolicited += conn.unsolicited;
    conn.unsolicited = 0;
    conn.byXid.clear();
    if (ended) conn = await Conn.open(port);
  }
  conn.socket.destroy();
  await conn.closed;
}

/** One body-mutated message's outcome: an error, the right reply, or (one-way messages) silence until the barrier. */
function classify(m: { xid: number; raw: Buffer }, a: Answers | undefined, report: FuzzReport, problem: (p: string) => void): void {
  const type = m.raw[1]!;
  const answers = a?.replies ?? [];
  report.replies += answers.length;
  const errors = answers.filter((r) => r.type === OFPT.ERROR);
  const want = REPLY_OF[type];
  const hex = () => m.raw.toString('hex').slice(0, 160);
  if (errors.length > 0) {
    if (errors.length !== answers.length || errors.length > 1) problem(`xid ${m.xid}: an error and more (${answers.map((r) => r.type).join(',')}): ${hex()}`);
    for (const e of errors) {
      const key = 'code' in e ? String(e.errorType) : 'experimenter';
      report.errorsByType[key] = (report.errorsByType[key] ?? 0) + 1;
    }
    report.body.error++;
    return;
  }
  if (want === undefined) {
    if (answers.length > 0) problem(`xid ${m.xid}: a one-way message of type ${type} was answered with ${answers.map((r) => r.type).join(',')}: ${hex()}`);
    report.body.accepted++;
    return;
  }
  if (answers.length === 0 || !a!.done) return problem(`xid ${m.xid}: type ${type} got no ${answers.length === 0 ? 'answer' : 'final part'}: ${hex()}`);
  if (answers.some((r) => r.type !== want)) return problem(`xid ${m.xid}: type ${type} answered with ${answers.map((r) => r.type).join(',')}: ${hex()}`);
  if (type === OFPT.MULTIPART_REQUEST) {
    const mp = m.raw.readUInt16BE(8);
    const wrong = answers.find((r) => r.type === OFPT.MULTIPART_REPLY && r.body.mpType !== mp);
    if (wrong !== undefined) return problem(`xid ${m.xid}: multipart ${mp} answered with multipart ${(wrong as { body: { mpType: number } }).body.mpType}: ${hex()}`);
  }
  report.body.reply++;
}

async function fuzzFraming(port: number, total: number, parallel: number, seeds: Buffer[], rng: Rng, report: FuzzReport, problem: (p: string) => void): Promise<void> {
  // Cases are drawn up front, so the campaign does not depend on the order connections finish in.
  const longer = seeds.filter((s) => s.length > 8);
  const cases: FramingCase[] = [];
  for (let i = 0; i < total; i++) {
    const kind = FRAMING_KINDS[i % FRAMING_KINDS.length]!;
    const base = Buffer.from(rng.pick(kind === 'length-short' || kind === 'truncated' ? longer : seeds));
    base.writeUInt32BE(0x100000 + i, 4);
    cases.push(mutateFraming(base, rng, kind));
  }
  let next = 0;
  const worker = async () => {
    while (next < cases.length) await framingCase(port, cases[next++]!, report, problem);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Expected: an OFPT_ERROR (BAD_LEN, BAD_VERSION, HELLO_FAILED as the kind says, with the message's xid), and the server closing the connection. */
async function framingCase(port: number, c: FramingCase, report: FuzzReport, problem: (p: string) => void): Promise<void> {
  const conn = await Conn.open(port, c.kind !== 'hello');
  conn.socket.write(c.bytes);
  if (c.halfClose) conn.socket.end();
  const closed = await conn.closeWithin(10_000);
  const stats = report.framing[c.kind];
  stats.sent++;
  const errors = [...conn.byXid.values()].flatMap((a) => a.replies).filter((m) => m.type === OFPT.ERROR);
  const wanted: Record<FramingKind, [number, number] | undefined> = {
    'length-under-8': [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN],
    'length-short': undefined,
    'length-long': [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN],
    truncated: [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN],
    version: [OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION],
    hello: [OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE],
  };
  const w = wanted[c.kind];
  const ok = errors.some((e) => 'code' in e && (w === undefined || (e.errorType === w[0] && e.code === w[1] && (c.xid === undefined || e.xid === c.xid))));
  if (ok) stats.errors++;
  else problem(`framing ${c.kind}: no ${w === undefined ? 'error' : `error ${w[0]}/${w[1]}`} (got ${errors.map((e) => JSON.stringify({ xid: e.xid, t: (e as { errorType: number }).errorType, c: (e as { code?: number }).code })).join(' ') || 'none'}): ${c.bytes.toString('hex').slice(0, 64)}`);
  for (const e of conn.undecodable) problem(`undecodable message from nicvisor: ${e}`);
  if (closed && conn.closedByServer) stats.closedByServer++;
  else problem(`framing ${c.kind}: the server did not close the connection: ${c.bytes.toString('hex').slice(0, 64)}`);
  conn.socket.destroy();
}
