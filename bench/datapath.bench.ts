/**
 * Datapath benchmark of the emulated NIC, one core (`npm run bench:datapath`,
 * which runs node with --expose-gc):
 *
 * - packets/s through one SwitchInstance across a 3-table pipeline
 *     table 0: exact eth_dst -> goto 1                         (10% of the flows)
 *     table 1: IPv4 ACL, 5 distinct masks + catch-all -> goto 2 (45%)
 *     table 2: ipv4_dst prefixes (/16, /24, /32, default) -> output (45%)
 *   with 1k, 100k and 1M installed flows, traffic drawn uniformly from
 *   10k distinct 5-tuples that all reach an output port; each size is
 *   measured with the instance's megaflow cache off (every table looked up
 *   for every packet) and on (flow-cache.ts), on the same installed flows;
 * - flow-mod install rate: encoded FLOW_MODs through an agent session
 *   (framing, decoding, validation, insertion), and FlowTable.apply direct;
 * - bytes per installed flow at 1M flows: heapUsed + external after a
 *   forced GC, before and after installing, divided by the flow count.
 *
 * Rates are given by wall clock and, in brackets, per second of this
 * process's CPU time (process.cpuUsage, user + system) over the same
 * window: on a shared machine the second is the steadier figure. Each is
 * the median of BENCH_RUNS timed runs (the runs' range follows it).
 *
 * Env: BENCH_SIZES (default "1000,100000,1000000"), BENCH_PPS_MS (timed
 * window per run, default 1000), BENCH_RUNS (default 3), BENCH_FLOWMODS (default 100000),
 * BENCH_PARTS (default "pps,flowmods,memory": which parts to run),
 * BENCH_CACHE (default "off,on": the flow cache settings measured).
 */
import {
  decodeMessage,
  encodeMessage,
  errorCodeName,
  errorTypeName,
  FlowMod,
  Framer,
  Instruction,
  Match,
  OFPT,
  ourHello,
} from '../libs/openflow/src/index.js';
import { ManualClock } from '../libs/softswitch/src/clock.js';
import { FlowModRequest, FlowTable } from '../libs/softswitch/src/flow-table.js';
import { SwitchInstance } from '../libs/softswitch/src/instance.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const PPS_MS = Number(process.env.BENCH_PPS_MS ?? 1000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const N_FLOWMODS = Number(process.env.BENCH_FLOWMODS ?? 100_000);
const N_TUPLES = 10_000;
const PARTS = new Set((process.env.BENCH_PARTS ?? 'pps,flowmods,memory').split(','));
const CACHE = new Set((process.env.BENCH_CACHE ?? 'off,on').split(','));

const TARGET_PPS = 1_000_000;
const TARGET_FLOWMODS = 500_000;
const TARGET_BYTES = 400;
const OVS = 'Open vSwitch 3.1 here: 100k flows via ovs-ofctl --bundle in 1.0–1.4 s ≈ 70–100k flow-mods/s, ~1 KB per flow';

const gc = (globalThis as { gc?: () => void }).gc;

/** A rate by wall clock and by CPU time over one window. */
interface Rate {
  wall: number;
  cpu: number;
}

/** Several runs of one figure: the median of each rate, and the runs. */
interface Rates extends Rate {
  runs: Rate[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarize(runs: Rate[]): Rates {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), runs };
}

/** Starts a window; the returned function gives `count`'s rate over it. */
function stopwatch(): (count: number) => Rate {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return (count) => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    return { wall: count / wall, cpu: count / Math.max(cpu, 1e-6) };
  };
}

// ---------------------------------------------------------------------------
// Deterministic randomness

let seed = 0x9e3779b9;
function rand32(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const randInt = (n: number) => rand32() % n;

const ip = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
const mac = (i: number) => `02:${[(i / 2 ** 32) & 255, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
const prefixMask = (len: number) => ip(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

// ---------------------------------------------------------------------------
// The flow layout

const IPV4: Match[number] = { field: 'eth_type', value: 0x0800 };
const goto = (t: number): Instruction[] => [{ type: 1, tableId: t }];
const output = (p: number): Instruction[] => [{ type: 4, actions: [{ type: 0, port: p, maxLen: 0 }] }];

interface FlowSpec {
  tableId: number;
  priority: number;
  match: Match;
  instructions: Instruction[];
}

/** Table-2 /24 routes, one per index: 10.0.0.0/24 upwards (10.x to 16.x for 450k routes). */
const route24 = (i: number) => (((10 + (i >>> 16)) << 24) | ((i & 0xffff) << 8)) >>> 0;
/** Table-2 /16 routes, one per index k: 64.0.0.0/16 upwards. */
const route16 = (k: number) => (((64 + (k >>> 8)) << 24) | ((k & 0xff) << 16)) >>> 0;

/** Flow number `i` of an `n`-flow layout. Cheap to call: layouts are generated, never stored. */
function layout(n: number): { n0: number; n1: number; n2: number; spec: (i: number) => FlowSpec } {
  const n0 = Math.max(1, Math.round(n * 0.1));
  const n1 = Math.max(2, Math.round(n * 0.45));
  const n2 = Math.max(2, n - n0 - n1);
  const spec = (i: number): FlowSpec => {
    if (i < n0) return { tableId: 0, priority: 100, match: [{ field: 'eth_dst', value: mac(i) }], instructions: goto(1) };
    i -= n0;
    if (i < n1) {
      if (i === 0) return { tableId: 1, priority: 0, match: [], instructions: goto(2) };
      const shape = i % 5;
      const v = Math.imul(i, 2654435761) >>> 0;
      // ACL values live outside the traffic's 10.0.0.0/8 destinations often enough that most packets fall to the catch-all.
      switch (shape) {
        case 0:
          return { tableId: 1, priority: 1000, match: [IPV4, { field: 'ipv4_src', value: ip(v & 0xffff0000), mask: prefixMask(16) }, { field: 'ipv4_dst', value: ip((v << 16) >>> 0), mask: prefixMask(16) }], instructions: goto(2) };
        case 1:
          return { tableId: 1, priority: 2000, match: [IPV4, { field: 'ipv4_src', value: ip((v & 0xffffff00) >>> 0), mask: prefixMask(24) }], instructions: goto(2) };
        case 2:
          return { tableId: 1, priority: 3000, match: [IPV4, { field: 'ipv4_dst', value: ip((v & 0xffffff00) >>> 0), mask: prefixMask(24) }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: i & 0xffff }], instructions: goto(2) };
        case 3:
          return { tableId: 1, priority: 4000, match: [IPV4, { field: 'ipv4_src', value: ip(v) }, { field: 'ipv4_dst', value: ip(Math.imul(v, 31) >>> 0) }], instructions: goto(2) };
        default:
          return { tableId: 1, priority: 5000, match: [IPV4, { field: 'ipv4_src', value: ip((v & 0xff000000) >>> 0), mask: prefixMask(8) }, { field: 'ip_proto', value: 6 }, { field: 'tcp_src', value: i & 0xffff }], instructions: goto(2) };
      }
    }
    i -= n1;
    if (i === 0) return { tableId: 2, priority: 0, match: [], instructions: output(3) };
    const port = 2 + (i & 1);
    // Mostly /24 routes, with /16 and /32 ones mixed in: three prefix lengths, LPM by priority.
    if (i % 10 === 1) return { tableId: 2, priority: 16, match: [IPV4, { field: 'ipv4_dst', value: ip(route16(Math.floor(i / 10))), mask: prefixMask(16) }], instructions: output(port) };
    if (i % 10 === 2) return { tableId: 2, priority: 32, match: [IPV4, { field: 'ipv4_dst', value: ip((12 << 24) + i) }], instructions: output(port) };
    return { tableId: 2, priority: 24, match: [IPV4, { field: 'ipv4_dst', value: ip(route24(i)), mask: prefixMask(24) }], instructions: output(port) };
  };
  return { n0, n1, n2, spec };
}

function flowMod(s: FlowSpec, xid = 0): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid,
    cookie: 0n,
    cookieMask: 0n,
    tableId: s.tableId,
    command: 0,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: s.priority,
    bufferId: 0xffffffff,
    outPort: 0xffffffff,
    outGroup: 0xffffffff,
    flags: 0,
    match: s.match,
    instructions: s.instructions,
  };
}

// ---------------------------------------------------------------------------
// A switch and its controller session

interface Rig {
  instance: SwitchInstance;
  send(raw: Buffer): void;
  errors: number;
  firstError: string;
  barrier(): void;
  transmitted: number;
}

function rig(flowCache = false): Rig {
  const instance = new SwitchInstance({ datapathId: 1n, ports: [1, 2, 3].map((portNo) => ({ portNo })), nTables: 3, clock: new ManualClock(), flowCache });
  const framer = new Framer();
  let barrierSeen = false;
  const r: Rig = {
    instance,
    errors: 0,
    firstError: '',
    transmitted: 0,
    send: (raw) => session.receive(raw),
    barrier() {
      barrierSeen = false;
      session.receive(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 0xbeef }));
      if (!barrierSeen) throw new Error('the session answered no barrier synchronously');
    },
  };
  const session = instance.openSession((raw) => {
    for (const m of framer.push(Buffer.from(raw))) {
      if (m[1] === OFPT.ERROR) {
        if (r.errors++ === 0) {
          const e = decodeMessage(m);
          if (e.type === OFPT.ERROR && 'code' in e) r.firstError = `${errorTypeName(e.errorType)}/${errorCodeName(e.errorType, e.code)}`;
        }
      }
      if (m[1] === OFPT.BARRIER_REPLY) barrierSeen = true;
    }
  });
  session.receive(encodeMessage(ourHello(1)));
  instance.onTransmit(() => {
    r.transmitted++;
  });
  return r;
}

/** Installs an n-flow layout through the session, encoding as it goes (nothing retained). */
function install(r: Rig, n: number): void {
  const { spec } = layout(n);
  for (let i = 0; i < n; i++) r.send(encodeMessage(flowMod(spec(i))));
  r.barrier();
  if (r.errors > 0) throw new Error(`${r.errors} flow-mods were refused, the first with ${r.firstError}`);
}

// ---------------------------------------------------------------------------
// Traffic

function tcpFrame(dstMac: string, src: number, dst: number, sport: number, dport: number): Buffer {
  const f = Buffer.alloc(64);
  Buffer.from(dstMac.replace(/:/g, ''), 'hex').copy(f, 0);
  Buffer.from('020000000001', 'hex').copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(50, 16);
  f[22] = 64;
  f[23] = 6;
  f.writeUInt32BE(src >>> 0, 26);
  f.writeUInt32BE(dst >>> 0, 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f[46] = 0x50;
  f[47] = 0x02;
  return f;
}

/** 10k distinct 5-tuples whose eth_dst is in table 0 and whose ipv4_dst is routed by table 2. */
function traffic(n: number): Buffer[] {
  const { n0, n2 } = layout(n);
  const frames: Buffer[] = [];
  const seen = new Set<string>();
  while (frames.length < N_TUPLES) {
    const src = (10 << 24) | (rand32() & 0xffffff);
    // A /24 route index of table 2 (i % 10 not 1 or 2, i ≥ 3), or the default route when there are few.
    let r = 3 + randInt(Math.max(1, n2 - 3));
    while (r % 10 === 1 || r % 10 === 2) r++;
    const dst = r < n2 ? (route24(r) | (1 + randInt(254))) >>> 0 : ((10 << 24) | rand32()) >>> 0;
    const sport = 1024 + randInt(60000);
    const dport = 1 + randInt(1023);
    const key = `${src},${dst},${sport},${dport}`;
    if (seen.has(key)) continue;
    seen.add(key);
    frames.push(tcpFrame(mac(randInt(n0)), src, dst, sport, dport));
  }
  return frames;
}

function packetsPerSecond(r: Rig, frames: Buffer[]): Rates {
  const order = new Uint16Array(1 << 20);
  for (let i = 0; i < order.length; i++) order[i] = randInt(frames.length);
  const mask = order.length - 1;
  const run = (ms: number): Rate => {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const watch = stopwatch();
    let elapsed = 0;
    do {
      for (let i = 0; i < 4096; i++) r.instance.receiveFrame(1, frames[order[(n + i) & mask]]);
      n += 4096;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    } while (elapsed < ms);
    return watch(n);
  };
  run(Math.min(500, PPS_MS / 2)); // warm-up
  const before = r.transmitted;
  const runs = Array.from({ length: RUNS }, () => run(PPS_MS));
  if (r.transmitted === before) throw new Error('no packet reached an output port: the layout is broken');
  return summarize(runs);
}

// ---------------------------------------------------------------------------
// Flow-mod rates

/** What a TCP socket typically hands over at once: the session gets framed messages chunk by chunk, as from the channel. */
const CHUNK = 65536;

function flowModsViaSession(): Rates {
  const rates: Rate[] = [];
  for (let round = 0; round < RUNS; round++) {
    const r = rig();
    const { spec, n0, n1 } = layout(N_FLOWMODS * 3);
    // Table-2 routes: the bulk of any real install.
    const wire = Buffer.concat(Array.from({ length: N_FLOWMODS }, (_, i) => encodeMessage(flowMod(spec(n0 + n1 + 1 + i)))));
    const watch = stopwatch();
    const framer = new Framer();
    for (let off = 0; off < wire.length; off += CHUNK) for (const raw of framer.push(wire.subarray(off, off + CHUNK))) r.send(raw);
    r.barrier();
    rates.push(watch(N_FLOWMODS));
    if (r.errors > 0) throw new Error(`${r.errors} flow-mods refused, the first with ${r.firstError}`);
    if (r.instance.tableStats(2).activeCount !== N_FLOWMODS) throw new Error(`table 2 holds ${r.instance.tableStats(2).activeCount} flows`);
  }
  return summarize(rates);
}

function flowModsDirect(): Rates {
  const { spec, n0, n1 } = layout(N_FLOWMODS * 3);
  const reqs: FlowModRequest[] = Array.from({ length: N_FLOWMODS }, (_, i) => flowMod(spec(n0 + n1 + 1 + i)));
  const rates: Rate[] = [];
  for (let round = 0; round < RUNS; round++) {
    const table = new FlowTable(new ManualClock(), { tableId: 2 });
    const watch = stopwatch();
    for (const fm of reqs) table.apply(fm);
    rates.push(watch(N_FLOWMODS));
    if (table.size !== N_FLOWMODS) throw new Error(`table holds ${table.size}`);
  }
  return summarize(rates);
}

// ---------------------------------------------------------------------------

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const fmtRate = (r: Rates) =>
  `${fmt(r.wall)} [${fmt(r.cpu)} per CPU second] (median of ${r.runs.length}; range ${range(r.runs.map((x) => x.wall))} [${range(r.runs.map((x) => x.cpu))}])`;
function line(name: string, value: string, unit: string, target: string): void {
  process.stdout.write(`${name}: ${value} ${unit} (target ${target}; ${OVS})\n`);
}

function memory(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function main(): void {
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:datapath does)');
  process.stdout.write(`datapath bench, node ${process.version}, one core; traffic: ${N_TUPLES} distinct TCP 5-tuples, 64-byte frames, uniform\n`);
  let bytesPerFlow: number | undefined;
  for (const n of PARTS.has('pps') || PARTS.has('memory') ? SIZES : []) {
    const frames = traffic(n);
    const base = PARTS.has('memory') && n === Math.max(...SIZES) ? memory() : 0;
    const t0 = process.hrtime.bigint();
    let r: Rig | undefined = rig();
    install(r, n);
    const installS = Number(process.hrtime.bigint() - t0) / 1e9;
    const { n0, n1, n2 } = layout(n);
    const active = [0, 1, 2].map((t) => r!.instance.tableStats(t).activeCount);
    if (base > 0) bytesPerFlow = (memory() - base) / (active[0] + active[1] + active[2]);
    process.stdout.write(`  ${fmt(n)} flows installed in ${installS.toFixed(2)} s through a session (tables 0/1/2: ${active.join(' / ')}; planned ${n0} / ${n1} / ${n2})\n`);
    if (!PARTS.has('pps')) continue;
    const target = n === 100_000 ? `≥ ${fmt(TARGET_PPS)} at 100k flows` : `≥ ${fmt(TARGET_PPS)} at 100k flows; this size is for comparison`;
    if (CACHE.has('off')) {
      r.instance.setFlowCache(false);
      const plain = packetsPerSecond(r, frames);
      line(`packets/s at ${fmt(n)} flows, flow cache off`, fmtRate(plain), 'packets/s', target);
    }
    if (!CACHE.has('on')) continue;
    r.instance.setFlowCache(true);
    const cached = packetsPerSecond(r, frames);
    const cs = r.instance.flowCacheStats()!;
    line(
      `packets/s at ${fmt(n)} flows, megaflow cache on (${fmt(cs.entries)} megaflows, ${cs.masks} masks, ${((100 * cs.hits) / Math.max(1, cs.hits + cs.misses)).toFixed(1)}% hits)`,
      fmtRate(cached),
      'packets/s',
      target,
    );
    r = undefined;
  }
  if (PARTS.has('flowmods')) {
    line(`flow-mods/s through a session (${fmt(N_FLOWMODS)} encoded FLOW_MODs in 64 KiB chunks: framed, decoded, validated, inserted)`, fmtRate(flowModsViaSession()), 'flow-mods/s', `≥ ${fmt(TARGET_FLOWMODS)}`);
    line(`flow-mods/s direct (FlowTable.apply, ${fmt(N_FLOWMODS)} decoded FLOW_MODs)`, fmtRate(flowModsDirect()), 'flow-mods/s', `≥ ${fmt(TARGET_FLOWMODS)}`);
  }
  if (bytesPerFlow !== undefined) line(`bytes per installed flow at ${fmt(Math.max(...SIZES))} flows`, fmt(bytesPerFlow), 'bytes', `≤ ${TARGET_BYTES}`);
}

main();
