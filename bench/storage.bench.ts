/**
 * Storage throughput, one core: shadow and audit writes through the Store's
 * queue, flushed every BATCH operations (as the controller flushes at each
 * barrier), into a WAL database file in a temporary directory (and, for
 * comparison, ':memory:'). Records are built beforehand with the project's
 * codec so the figures are the store's; building them is timed on its own.
 * Flows are rows with ids the instance's FlowRowIds hands out, as the
 * controller's shadow gets them: new flows are appends, whatever their match.
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
import { DB_FILE, shadowFlowOf, Store } from '../libs/storage/src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_FLOWS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu';

/** The i-th flow: 4 tables x 7 priorities x 16 in_ports x IPv4 destinations. */
function flowModFor(i: number): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid: i,
    cookie: BigInt(i),
    cookieMask: 0n,
    tableId: 1 + (i % 4),
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100 + (i % 7),
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [
      { field: 'in_port', value: 1 + (i % 16) },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}` },
    ],
    instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] }],
  };
}

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
function round(path: string, mods: FlowMod[]): Record<string, number> {
  const store = Store.open(path, { maxPending: Number.MAX_SAFE_INTEGER });
  store.instances.create({
    vnf: 'fw1',
    tenant: 'acme',
    nic: 'embedded',
    datapathId: '0000000000000001',
    ports: [1, 2],
    tables: { operator: [0], tenant: [1, 2, 3, 4], virtual: true },
    quotas: {},
    channel: { mode: 'listen' },
    request: {},
  });
  const ids = store.shadow.flowRowIds('fw1')!;
  const flows = mods.map((m) => shadowFlowOf('fw1', ids.take(), 'acme', m));
  const out: Record<string, number> = {};
  const putAll = () => {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      store.shadow.putFlow(f.id, f.owner, f.flowMod);
      if ((i + 1) % BATCH === 0) store.flush();
    }
    store.flush();
  };
  out.insert = flows.length / seconds(putAll);
  out.replace = flows.length / seconds(putAll);
  out.enqueue = flows.length / seconds(() => {
    for (let i = 0; i < flows.length; i++) store.shadow.putFlow(flows[i].id, flows[i].owner, flows[i].flowMod);
  });
  store.discardPending();
  let read = 0;
  out.read = flows.length / seconds(() => {
    read = store.shadow.flowsOf('fw1').length;
  });
  if (read !== flows.length) throw new Error(`read ${read} flows, wrote ${flows.length}`);
  out.remove = flows.length / seconds(() => {
    for (let i = 0; i < flows.length; i++) {
      store.shadow.removeFlow(flows[i].id);
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
  const mods = Array.from({ length: N }, (_, i) => flowModFor(i));
  const build = median(Array.from({ length: 3 }, () => N / seconds(() => mods.forEach((m, i) => shadowFlowOf('fw1', i + 1, 'acme', m)))));
  const results: Record<string, number[]> = {};
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-bench-'));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, path] of [
        ['file', join(dir, `${r}-${DB_FILE}`)],
        ['memory', ':memory:'],
      ] as const) {
        for (const [k, v] of Object.entries(round(path, mods))) (results[`${name}.${k}`] ??= []).push(v);
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
  for (const where of ['file', 'memory']) {
    const tag = where === 'file' ? 'WAL file' : 'memory';
    print(`shadow put, new flows (${tag})`, m(`${where}.insert`), 'ops/s');
    print(`shadow put, replacing existing (${tag})`, m(`${where}.replace`), 'ops/s');
    print(`shadow remove (${tag})`, m(`${where}.remove`), 'ops/s');
    print(`shadow read, flowsOf (${tag})`, m(`${where}.read`), 'flows/s');
  }
  print('audit append (WAL file)', m('file.audit'), 'ops/s');
  print('audit append (memory)', m('memory.audit'), 'ops/s');
  print('shadow put, enqueue only (no flush)', m('file.enqueue'), 'ops/s');
  print('shadowFlowOf (canonical match + encode ADD)', build, 'ops/s');
}

main();
