/**
 * Storage throughput, one core: shadow and audit writes through the Store's
 * queue, flushed every BATCH operations (as the controller flushes at each
 * barrier), into a WAL database file in a temporary directory (and, for
 * comparison, ':memory:'). Records are built beforehand with the project's
 * codec so the figures are the store's; building them is timed on its own.
 *
 * Each figure is the median of BENCH_ROUNDS rounds (default 3), each on a
 * fresh database. Prints `name: value unit` lines.
 *
 * BENCH_FLOWS sets the flows per round (default 200,000); BENCH_BATCH the
 * batch size (default 1000). BENCH_CLOCK=cpu times by the process's CPU time
 * instead of the wall clock: on a machine others are loading, that measures
 * the store rather than the scheduler (SQLite's file writes count as system
 * time; the kernel's write-back does not).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowMod, OFP_NO_BUFFER, OFPAT, OFPFC, OFPG, OFPIT, OFPP, OFPT } from '../libs/openflow/src/index.js';
import { DB_FILE, shadowFlowOf, ShadowFlow, Store } from '../libs/storage/src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_FLOWS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu';

/**
 * The i-th flow of a pattern. 'sequential': one table, one priority, the
 * match's IPv4 destination counting up (a vNF bulk-installing host routes),
 * so each batch lands on a few neighbouring B-tree pages. 'spread': 4 tables
 * x 7 priorities x 16 in_ports, so each batch of 1000 touches ~450 places.
 */
function flowModFor(i: number, pattern: Pattern): FlowMod {
  const spread = pattern === 'spread';
  return {
    type: OFPT.FLOW_MOD,
    xid: i,
    cookie: BigInt(i),
    cookieMask: 0n,
    tableId: spread ? 1 + (i % 4) : 1,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: spread ? 100 + (i % 7) : 100,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [
      { field: 'in_port', value: spread ? 1 + (i % 16) : 1 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}` },
    ],
    instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] }],
  };
}

type Pattern = 'sequential' | 'spread';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Seconds, by the chosen clock. */
function clock(): number {
  if (CPU_CLOCK) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  return Number(process.hrtime.bigint()) / 1e9;
}

function seconds(fn: () => void): number {
  const t0 = clock();
  fn();
  return clock() - t0;
}

function print(name: string, value: number, unit: string): void {
  const v = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${name}: ${v} ${unit}`);
}

/** Runs every measurement on a fresh store at `path`; returns ops/s per measurement. */
function round(path: string, flows: ShadowFlow[]): Record<string, number> {
  const store = Store.open(path, { maxPending: Number.MAX_SAFE_INTEGER });
  const out: Record<string, number> = {};
  const upsertAll = () => {
    for (let i = 0; i < flows.length; i++) {
      store.shadow.upsertFlow(flows[i]);
      if ((i + 1) % BATCH === 0) store.flush();
    }
    store.flush();
  };
  out.insert = flows.length / seconds(upsertAll);
  out.replace = flows.length / seconds(upsertAll);
  out.enqueue = flows.length / seconds(() => {
    for (let i = 0; i < flows.length; i++) store.shadow.upsertFlow(flows[i]);
  });
  store.discardPending();
  let read = 0;
  out.read = flows.length / seconds(() => {
    read = store.shadow.flowsOf('fw1').length;
  });
  if (read !== flows.length) throw new Error(`read ${read} flows, wrote ${flows.length}`);
  out.remove = flows.length / seconds(() => {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      store.shadow.removeFlow(f.vnf, f.tableId, f.priority, f.match);
      if ((i + 1) % BATCH === 0) store.flush();
    }
    store.flush();
  });
  if (store.shadow.countsOf('fw1').flows !== 0) throw new Error('flows left after removing all');
  out.audit = flows.length / seconds(() => {
    for (let i = 0; i < flows.length; i++) {
      store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', detail: { table: 1, priority: 100 }, result: 'ok' });
      if ((i + 1) % BATCH === 0) store.flush();
    }
    store.flush();
  });
  store.close();
  return out;
}

function main(): void {
  const flowsOf: Record<Pattern, ShadowFlow[]> = { sequential: [], spread: [] };
  let build = 0;
  for (const pattern of ['sequential', 'spread'] as const) {
    const mods = Array.from({ length: N }, (_, i) => flowModFor(i, pattern));
    let flows: ShadowFlow[] = [];
    const rate = median(
      Array.from({ length: 3 }, () => N / seconds(() => (flows = mods.map((m) => shadowFlowOf('fw1', 'acme', m))))),
    );
    if (pattern === 'spread') build = rate;
    if (new Set(flows.map((f) => `${f.tableId}/${f.priority}/${f.match.toString('hex')}`)).size !== N) throw new Error('keys not distinct');
    flowsOf[pattern] = flows;
  }

  const results: Record<string, number[]> = {};
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-bench-'));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const runs = [
        ['file.sequential', join(dir, `${r}-seq-${DB_FILE}`), flowsOf.sequential],
        ['file.spread', join(dir, `${r}-spread-${DB_FILE}`), flowsOf.spread],
        ['memory.spread', ':memory:', flowsOf.spread],
      ] as const;
      for (const [name, path, flows] of runs) {
        for (const [k, v] of Object.entries(round(path, flows))) (results[`${name}.${k}`] ??= []).push(v);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (k: string) => median(results[k]);
  console.log(
    `# ${N} flows per round, batches of ${BATCH}, median of ${ROUNDS} rounds, ${CPU_CLOCK ? 'CPU' : 'wall'} clock, ` +
      `WAL file in ${tmpdir()}, load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
  );
  for (const run of ['file.sequential', 'file.spread', 'memory.spread']) {
    const [where, pattern] = run.split('.');
    const tag = `${pattern} keys, ${where === 'file' ? 'WAL file' : 'memory'}`;
    print(`shadow upsert, new flows (${tag})`, m(`${run}.insert`), 'ops/s');
    print(`shadow upsert, replacing existing (${tag})`, m(`${run}.replace`), 'ops/s');
    print(`shadow remove (${tag})`, m(`${run}.remove`), 'ops/s');
    print(`shadow read, flowsOf (${tag})`, m(`${run}.read`), 'flows/s');
  }
  print('audit append (WAL file)', m('file.sequential.audit'), 'ops/s');
  print('audit append (memory)', m('memory.spread.audit'), 'ops/s');
  print('shadow upsert, enqueue only (no flush)', m('file.spread.enqueue'), 'ops/s');
  print('shadowFlowOf (canonical match + encode ADD)', build, 'ops/s');
}

main();
