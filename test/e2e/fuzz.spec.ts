/**
 * Fuzzing a tenant's delegated channel (test/fuzz/): 100,000 mutated
 * messages from valid ones of every type — body mutations on one
 * connection, framing mutations one per fresh connection — while another
 * tenant keeps installing flows. Afterwards the controller is alive, the
 * other tenant lost nothing and saw no error, every body-mutated message got
 * an OpenFlow error or the right reply (or, one-way, was taken silently
 * before the next barrier), and every framing error got its OFPT_ERROR and
 * a disconnect. The seed is fixed and printed (FUZZ_SEED overrides it), so a
 * failure reproduces. Counts are asserted, not time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, Framer, OFPBRC, OFPET, OFPT, ourHello, type OfpMessage } from '@nicvisor/openflow';
import type { ControllerApp } from '../../apps/controller/src/app.module.js';
import { runFuzz, type FuzzReport } from '../fuzz/campaign.js';
import { call, portOf, startApp } from './helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
const FRAMING = 1200;
const TOTAL = 100_000;

let report: FuzzReport;

beforeAll(async () => {
  // One line, so a failing run can be repeated with FUZZ_SEED.
  console.log(`fuzz seed: ${SEED} (0x${SEED.toString(16)})`);
  report = await runFuzz({ seed: SEED, bodyMessages: TOTAL - FRAMING, framingMessages: FRAMING });
}, 300_000);

describe(`fuzzing one tenant's delegated channel (seed 0x${SEED.toString(16)})`, () => {
  it('sends 100,000 mutated messages, and nothing breaks a rule', () => {
    const body = report.body.error + report.body.reply + report.body.accepted;
    const framing = Object.values(report.framing).reduce((n, k) => n + k.sent, 0);
    expect(body + framing).toBe(TOTAL);
    expect(report.problems).toEqual([]);
  });

  it('every body-mutated message: an error, or the right reply, or (one-way) silence before the barrier reply', () => {
    expect(report.body.error + report.body.reply + report.body.accepted).toBe(TOTAL - FRAMING);
    // Mutations mostly break messages, but some still pass: all three outcomes occur.
    expect(report.body.error).toBeGreaterThan((TOTAL - FRAMING) / 2);
    expect(report.body.reply).toBeGreaterThan(0);
    expect(report.body.accepted).toBeGreaterThan(0);
    expect(report.replies).toBeGreaterThanOrEqual(report.body.error + report.body.reply);
  });

  it('every framing error: its OFPT_ERROR and the server closing the connection', () => {
    for (const [kind, k] of Object.entries(report.framing)) {
      expect({ kind, ...k }).toEqual({ kind, sent: FRAMING / 6, errors: FRAMING / 6, closedByServer: FRAMING / 6 });
    }
  });

  it('the other tenant lost nothing and saw no error; the controller is alive', () => {
    expect(report.victim.flowMods).toBeGreaterThanOrEqual(report.victim.distinctFlows);
    expect(report.victim).toMatchObject({ errors: 0, missingOnNic: 0 });
    expect(report.alive).toBe(true);
  });
});

/** What the fuzzer found, pinned down: each case once, deterministically. */
describe('regressions found by fuzzing', () => {
  let dir: string;
  let app: ControllerApp;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nicvisor-fuzz-regress-'));
    app = await startApp(dir);
    const r = await call(app, 'POST', '/v1/instances', { vnf: 'fz1', tenant: 'mallory', ports: [1, 2] });
    port = portOf(r.body.channel.endpoint);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `bytes` after our HELLO (optionally half-closing); collects what comes until `replies` messages (not HELLO) came or the server closed. */
  async function exchange(bytes: Buffer, halfClose: boolean, replies = Infinity): Promise<{ got: OfpMessage[]; closed: boolean }> {
    const got: OfpMessage[] = [];
    const framer = new Framer();
    const s = await new Promise<Socket>((resolve) => {
      const sock = netConnect({ host: '127.0.0.1', port }, () => resolve(sock));
    });
    s.on('data', (c: Buffer) => got.push(...framer.push(c).map((raw) => decodeMessage(raw))));
    s.on('error', () => undefined);
    const closed = new Promise<boolean>((resolve) => s.on('close', () => resolve(true)));
    s.write(encodeMessage(ourHello(1)));
    s.write(bytes);
    if (halfClose) s.end();
    const answers = () => got.filter((m) => m.type !== OFPT.HELLO);
    const enough = (async () => {
      for (let i = 0; i < 500 && answers().length < replies; i++) await new Promise((r) => setTimeout(r, 10));
      return false;
    })();
    const done = await Promise.race([closed, enough]);
    s.destroy();
    return { got: answers(), closed: done };
  }

  it('a HELLO after the version is settled is ignored: replies still owed are not dropped, the connection stays up', async () => {
    const later = encodeMessage({ type: OFPT.HELLO, xid: 5, version: 1, elements: [] });
    const r = await exchange(
      Buffer.concat([encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 3 }), encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 4, data: Buffer.alloc(0) }), later, encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 6, data: Buffer.alloc(0) })]),
      false,
      3,
    );
    expect(r.got.map((m) => [m.type, m.xid])).toEqual([
      [OFPT.BARRIER_REPLY, 3],
      [OFPT.ECHO_REPLY, 4],
      [OFPT.ECHO_REPLY, 6],
    ]);
    expect(r.closed).toBe(false);
  });

  it('a header length under 8: OFPBRC_BAD_LEN with its xid and bytes, then the server closes', async () => {
    const bad = Buffer.from('040e0005000000aa', 'hex');
    const r = await exchange(bad, false);
    expect(r.got).toEqual([{ type: OFPT.ERROR, xid: 0xaa, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, data: bad }]);
    expect(r.closed).toBe(true);
  });

  it('a stream that ends inside a message: OFPBRC_BAD_LEN with its xid and first bytes, then the server closes', async () => {
    const cut = encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 0xbb, data: Buffer.alloc(100, 1) }).subarray(0, 70);
    const r = await exchange(cut, true);
    expect(r.got).toEqual([{ type: OFPT.ERROR, xid: 0xbb, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, data: cut.subarray(0, 64) }]);
    expect(r.closed).toBe(true);
  });
});
