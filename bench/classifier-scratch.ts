/**
 * Scratch measurement of the emulated NIC's flow table (not a test):
 * insert rate, lookups/s and bytes per flow, for 1k / 100k / 1M flows over
 * 3 and 8 distinct mask templates, priorities uniform in [0, 1000).
 *
 *   node --expose-gc --import ./bin/register.js bench/classifier-scratch.ts [flows...]
 *
 * Flows go in through FlowTable.apply (compile, validate, intern the
 * instructions, insert), each with its own freshly built match and
 * instruction objects, as decoded flow-mods would be. Bytes per flow is
 * (heapUsed + external) after GC, minus the same before, over the flows.
 * Lookups use keys built from installed flows (hits) and random keys (mostly
 * misses), interleaved 3:1, through FlowTable.lookup (counters included).
 */
import { Match, OFPAT, OFPFC, OFPG, OFPIT, OFPP } from '../libs/openflow/src/index.js';
import { ManualClock } from '../libs/softswitch/src/clock.js';
import { FlowTable } from '../libs/softswitch/src/flow-table.js';
import { compileMatch } from '../libs/softswitch/src/classifier.js';
import { KEY_WORDS } from '../libs/softswitch/src/key.js';

/**
 * The machine is shared (other jobs run on its two cores), so rates are
 * per second of this process's CPU time (user + system), not wall time.
 */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run node with --expose-gc');

let seed = 0x12345678;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

const ip = (x: number) => `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
const mac = (x: number) => `02:00:${[24, 16, 8, 0].map((s) => ((x >>> s) & 255).toString(16).padStart(2, '0')).join(':')}`;
const hex = (x: number) => (x & 0xffff).toString(16);

/** Mask templates: flow i of a template gets distinct values from i. */
const TEMPLATES: ((i: number) => Match)[] = [
  (i) => [
    { field: 'eth_type', value: 0x800 },
    { field: 'ip_proto', value: 6 },
    { field: 'ipv4_src', value: ip(0x0a000000 + i) },
    { field: 'ipv4_dst', value: ip(0xc0a80000 + (i >>> 16)) },
    { field: 'tcp_src', value: i & 0xffff },
    { field: 'tcp_dst', value: 80 },
  ],
  (i) => [
    { field: 'eth_type', value: 0x800 },
    { field: 'ipv4_dst', value: ip((0x0b000000 + i * 256) >>> 0), mask: '255.255.255.0' },
  ],
  (i) => [
    { field: 'in_port', value: 1 + (i & 63) },
    { field: 'eth_dst', value: mac(i) },
  ],
  (i) => [
    { field: 'eth_type', value: 0x800 },
    { field: 'ipv4_dst', value: ip(0x0c000000 + i) },
  ],
  (i) => [
    { field: 'eth_type', value: 0x800 },
    { field: 'ipv4_src', value: ip((0x0d000000 + i * 65536) >>> 0), mask: '255.255.0.0' },
    { field: 'ipv4_dst', value: ip(0x0e000000 + (i & 0xff) * 65536), mask: '255.255.0.0' },
  ],
  (i) => [
    { field: 'in_port', value: 1 + (i >>> 12) },
    { field: 'vlan_vid', value: 0x1000 | (i & 0xfff) },
  ],
  (i) => [
    { field: 'metadata', value: BigInt(i & 0xff) << 32n, mask: 0xff00000000n },
    { field: 'eth_type', value: 0x86dd },
    { field: 'ipv6_dst', value: `2001:db8:${hex(i >>> 16)}:${hex(i)}::1` },
  ],
  (i) => [
    { field: 'eth_type', value: 0x800 },
    { field: 'ip_proto', value: 17 },
    { field: 'ipv4_dst', value: ip(0x0f000000 + (i >>> 16)) },
    { field: 'udp_dst', value: i & 0xffff },
  ],
];

function mem(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function build(flows: number, masks: number, clock: ManualClock): { table: FlowTable; insertRate: number; bytesPerFlow: number } {
  const before = mem();
  const table = new FlowTable(clock);
  const t0 = cpuSeconds();
  for (let i = 0; i < flows; i++) {
    const t = i % masks;
    table.apply({
      command: OFPFC.ADD,
      cookie: BigInt(i),
      cookieMask: 0n,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: rnd() % 1000,
      outPort: OFPP.ANY,
      outGroup: OFPG.ANY,
      flags: 0,
      match: TEMPLATES[t]((i - t) / masks),
      instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 1 + (i & 15), maxLen: 0 }] }],
    });
  }
  const secs = cpuSeconds() - t0;
  const bytesPerFlow = (mem() - before) / flows;
  return { table, insertRate: flows / secs, bytesPerFlow };
}

/** n keys, as views into one buffer (as a parser refilling keys would keep them warm, not scattered). */
function keys(flows: number, masks: number, n: number): Uint32Array[] {
  const buf = new Uint32Array(n * KEY_WORDS);
  const out: Uint32Array[] = [];
  for (let k = 0; k < n; k++) {
    const key = buf.subarray(k * KEY_WORDS, (k + 1) * KEY_WORDS);
    if (k % 4 === 3) {
      for (let w = 0; w < KEY_WORDS; w++) key[w] = rnd() & 0xff;
      key[5] = rnd() & 1 ? 0x800 : 0x86dd;
    } else {
      const i = rnd() % flows;
      const t = i % masks;
      key.set(compileMatch(TEMPLATES[t]((i - t) / masks)).value);
    }
    out.push(key);
  }
  return out;
}

function lookups(table: FlowTable, ks: Uint32Array[]): { rate: number; hitRatio: number } {
  let hits = 0;
  const pass = () => {
    for (let i = 0; i < ks.length; i++) if (table.lookup(ks[i], 64, 0) !== undefined) hits++;
  };
  pass(); // warm-up
  hits = 0;
  let n = 0;
  const t0 = cpuSeconds();
  let el = 0;
  do {
    pass();
    n += ks.length;
    el = cpuSeconds() - t0;
  } while (el < 1);
  return { rate: n / el, hitRatio: hits / n };
}

const sizes = process.argv.slice(2).map(Number);
const FLOWS = sizes.length > 0 ? sizes : [1_000, 100_000, 1_000_000];
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);

console.log('flows      masks  insert/s   lookup/s   hit%   bytes/flow');
for (const flows of FLOWS) {
  for (const masks of [3, 8]) {
    const clock = new ManualClock();
    const { table, insertRate, bytesPerFlow } = build(flows, masks, clock);
    const ks = keys(flows, masks, 65536);
    const { rate, hitRatio } = lookups(table, ks);
    console.log(
      `${String(flows).padEnd(10)} ${String(table.maskCount).padEnd(6)} ${fmt(insertRate).padEnd(10)} ${fmt(rate).padEnd(10)} ${(hitRatio * 100)
        .toFixed(0)
        .padEnd(6)} ${bytesPerFlow.toFixed(0)}`,
    );
    table.clear();
  }
}
