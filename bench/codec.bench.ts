/**
 * Codec throughput, one core: messages per second for decode and encode.
 * Every operation is run briefly first (so call sites are as polymorphic as
 * in a controller that handles all of them), then each is warmed up and
 * timed over several rounds of ≥ 0.5 s; the figure is the median round.
 * Fixtures come from test/fixtures.
 *
 * BENCH_ROUNDS sets the number of rounds (default 7). BENCH_CLOCK=cpu times
 * rounds by the process's CPU time instead of the wall clock: on a machine
 * others are loading, that measures the codec rather than the scheduler
 * (it counts GC helper threads too, so it errs low).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import {
  decodeMessage,
  encodeMessage,
  FlowStats,
  MultipartReply,
  OFP_NO_BUFFER,
  OFPMP,
  OFPR,
  OFPT,
  OfpMessage,
  PacketIn,
} from '../libs/openflow/src/index.js';

const FIXTURES = new URL('../test/fixtures/ryu-of13/codec/packets/', import.meta.url);
const ROUND_MS = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`${name}.packet`, FIXTURES));
}

/** Milliseconds, by the chosen clock. */
function now(): number {
  if (CPU_CLOCK) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Keeps results observable so the JIT cannot drop the work. */
let sink = 0;

/** Calls `op` in batches until ≥ ROUND_MS has passed; returns ops/s for that round. */
function round(op: () => number, batch: number): number {
  let n = 0;
  const t0 = now();
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) sink += op();
    n += batch;
    elapsed = now() - t0;
  } while (elapsed < ROUND_MS);
  return (n * 1000) / elapsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(op: () => number): number {
  // Size batches so the clock is read about every millisecond.
  const t0 = now();
  let probe = 0;
  while (now() - t0 < 20) {
    sink += op();
    probe++;
  }
  const batch = Math.max(1, Math.round(probe / 20));
  round(op, batch); // warm-up: let the JIT settle
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(round(op, batch));
  return median(rates);
}

interface Case {
  name: string;
  wire: Buffer;
  decodeRef: string;
  encodeRef: string;
  /** Minimum messages per second, where the project sets one. */
  target?: number;
}

/** A PACKET_IN carrying a whole 1500-byte frame, as a table miss sends it. */
function packetIn(): Buffer {
  const frame = Buffer.alloc(1500);
  for (let i = 0; i < frame.length; i++) frame[i] = (i * 7) & 0xff;
  const m: PacketIn = {
    type: OFPT.PACKET_IN,
    xid: 0x1234,
    bufferId: OFP_NO_BUFFER,
    totalLen: frame.length,
    reason: OFPR.NO_MATCH,
    tableId: 0,
    cookie: 0n,
    match: [{ field: 'in_port', value: 1 }],
    data: frame,
  };
  return encodeMessage(m);
}

/**
 * A flow-stats reply with 1000 entries, each an in_port match and no
 * instructions (64 bytes): 64016 bytes, near the 65535-byte message limit.
 */
function flowStatsReply(): Buffer {
  const entries: FlowStats[] = Array.from({ length: 1000 }, (_, i) => ({
    tableId: i % 4,
    durationSec: 1000 + i,
    durationNsec: 500_000 * i,
    priority: 100 + (i % 50),
    idleTimeout: 60,
    hardTimeout: 0,
    flags: 1,
    cookie: BigInt(i) << 32n,
    packetCount: BigInt(i * 1000),
    byteCount: BigInt(i * 1_500_000),
    match: [{ field: 'in_port', value: 1 + (i % 48) }],
    instructions: [],
  }));
  const m: MultipartReply = { type: OFPT.MULTIPART_REPLY, xid: 7, flags: 0, body: { mpType: OFPMP.FLOW, entries } };
  return encodeMessage(m);
}

const cases: Case[] = [
  {
    name: '4-3-ofp_flow_mod',
    wire: fixture('4-3-ofp_flow_mod'),
    target: 1_000_000,
    decodeRef: 'Ryu ≈ 40000, naive binary-parser ≈ 500000',
    encodeRef: 'Ryu ≈ 76000',
  },
  {
    name: '4-2-ofp_flow_mod',
    wire: fixture('4-2-ofp_flow_mod'),
    decodeRef: 'naive binary-parser ≈ 130000',
    encodeRef: 'no reference',
  },
  { name: 'packet_in-1500B', wire: packetIn(), decodeRef: 'no reference', encodeRef: 'no reference' },
  { name: 'multipart_reply-flow_stats-1000', wire: flowStatsReply(), decodeRef: 'no reference', encodeRef: 'no reference' },
];

interface Op {
  label: string;
  run: () => number;
  ref: string;
}

function ops(c: Case): Op[] {
  const msg: OfpMessage = decodeMessage(c.wire);
  if (!encodeMessage(msg).equals(c.wire)) throw new Error(`${c.name}: round trip is not byte-identical`);
  const target = c.target === undefined ? '' : `target ≥ ${c.target}; `;
  return [
    { label: `decode ${c.name}`, run: () => decodeMessage(c.wire).xid, ref: target + c.decodeRef },
    { label: `encode ${c.name}`, run: () => encodeMessage(msg).length, ref: target + c.encodeRef },
  ];
}

const all = cases.flatMap(ops);
// Run every operation a little first, so each is measured with the call sites
// as polymorphic as a controller that handles all of them would make them.
for (const op of all) for (let i = 0; i < 2000; i++) sink += op.run();
const clock = CPU_CLOCK ? 'CPU time' : 'wall clock';
for (const op of all) console.log(`${op.label}: ${Math.round(measure(op.run))} msgs/s (${op.ref}; median of ${ROUNDS} rounds, ${clock})`);
// Figures taken while others load the machine are low; say how loaded it was.
console.log(`load average (1 min): ${loadavg()[0].toFixed(2)} (${availableParallelism()} cores)`);
if (sink === 0.5) console.log('');
