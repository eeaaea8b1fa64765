/**
 * Delegated-channel benchmark (`npm run bench:channel`), persistence (SQLite
 * shadow) and audit on:
 *
 * (a) flow-mods/s from one vNF through nicvisor into the embedded emulated
 *     NIC, pipelined and confirmed by a final barrier, with the policy and
 *     without it, beside the same flow-mods sent straight to an emulator
 *     instance's own OpenFlow listener;
 * (b) barrier round-trip latency p50/p99, through nicvisor and direct;
 * (c) 100 vNFs at once, aggregate flow-mods/s.
 * Every run checks that nothing was lost (flows on the NIC = flow-mods sent)
 * and that no error came back.
 *
 * The machine is shared and everything (client, nicvisor, emulated NIC)
 * runs in this one process: one warm-up round is run and discarded, then
 * BENCH_REPS rounds, each measuring (a) policy on, policy off and direct and
 * (b) through nicvisor and direct back to back (so a busy moment hits all
 * alike); every figure is the median over the rounds, with its range. Each
 * blast's flows are deleted (untimed) right after it, so every blast fills
 * the same empty table and starts with an empty shadow.
 *
 * Env: BENCH_FLOWMODS (default 100000), BENCH_BARRIERS (default 2000),
 * BENCH_VNFS (default 100), BENCH_VNF_FLOWMODS (per vNF, default 2000),
 * BENCH_REPS (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, FlowMod, Framer, OFPFC, OFPG, OFPIT, OFPMP, OFPP, OFPT, OFPTT, ourHello } from '../libs/openflow/src/index.js';
import { listen } from '../libs/softswitch/src/channel.js';
import { SmartNic } from '../libs/softswitch/src/nic.js';
import { Store } from '../libs/storage/src/store.js';
import { createOwnership, Ownership } from '../libs/tenancy/src/index.js';
import { EmbeddedNicDriver } from '../apps/controller/src/nic/embedded-driver.js';
import { OpenflowCore } from '../apps/controller/src/openflow/core.js';
import { StoreShadowSink } from '../apps/controller/src/openflow/store-sink.js';

const N = Number(process.env.BENCH_FLOWMODS ?? 100_000);
const N_BARRIERS = Number(process.env.BENCH_BARRIERS ?? 2000);
const N_VNFS = Number(process.env.BENCH_VNFS ?? 100);
const PER_VNF = Number(process.env.BENCH_VNF_FLOWMODS ?? 2000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const TARGET = `≥ ${(200_000).toLocaleString('en-US')}`;
const TARGET_ADDED_P50_US = 50;

/** n distinct flow-mods for view table `table`: ip, nw_dst=10.x.y.z → output:port. */
function flowMods(n: number, table: number, port: number, salt = 0): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => flowMod(i, table, port, salt)));
}

/** Deletes every flow of view table `table` (as the vNF would), with a barrier: between rounds, untimed. */
function deleteAll(table: number): Buffer {
  return encodeMessage({
    type: OFPT.FLOW_MOD,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: table,
    command: OFPFC.DELETE,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
  });
}

function flowMod(i: number, table: number, port: number, salt: number): Buffer {
  {
    const fm: FlowMod = {
      type: OFPT.FLOW_MOD,
      xid: i + 1,
      cookie: 0n,
      cookieMask: 0n,
      tableId: table,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 100,
      bufferId: 0xffffffff,
      outPort: OFPP.ANY,
      outGroup: OFPG.ANY,
      flags: 0,
      match: [
        { field: 'eth_type', value: 0x0800 },
        { field: 'ipv4_dst', value: `10.${salt & 255}.${(i >> 8) & 255}.${i & 255}` },
        { field: 'ip_proto', value: 6 },
        { field: 'tcp_dst', value: 1 + ((i >> 16) & 0xfff) },
      ],
      instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port, maxLen: 0 }] }],
    };
    return encodeMessage(fm);
  }
}

/** An OpenFlow client that counts errors and resolves barriers by xid. */
class Client {
  errors = 0;
  private readonly framer = new Framer();
  private readonly waiting = new Map<number, () => void>();
  private helloSeen!: () => void;
  readonly hello = new Promise<void>((r) => (this.helloSeen = r));

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c)) {
        const type = raw[1];
        if (type === OFPT.HELLO) this.helloSeen();
        else if (type === OFPT.ERROR) this.errors++;
        else if (type === OFPT.BARRIER_REPLY) {
          const xid = raw.readUInt32BE(4);
          const w = this.waiting.get(xid);
          this.waiting.delete(xid);
          w?.();
        }
      }
    });
    socket.write(encodeMessage(ourHello(1)));
  }

  static async open(port: number): Promise<Client> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({ host: '127.0.0.1', port }, () => resolve(sock));
      sock.once('error', reject);
    });
    const c = new Client(s);
    await c.hello;
    return c;
  }

  barrier(xid: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.set(xid, resolve);
      this.socket.write(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid }));
    });
  }

  /** CPU share of the last blast (process CPU time / wall time; 1 core = 100%). */
  static lastCpu = 0;
  /** Process CPU seconds of the last blast (client, nicvisor and emulator alike: one process). */
  static lastCpuSecs = 0;

  /** Writes the flow-mods in 64 KiB slices as the socket drains, then a barrier; resolves (with the seconds taken) when it is answered. */
  async blast(mods: Buffer): Promise<number> {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const slice = 1 << 16;
    for (let off = 0; off < mods.length; off += slice) {
      const ok = this.socket.write(mods.subarray(off, Math.min(mods.length, off + slice)));
      if (!ok) await new Promise<void>((r) => this.socket.once('drain', () => r()));
    }
    await this.barrier(0xfffffff0);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    Client.lastCpuSecs = (cpu.user + cpu.system) / 1e6;
    Client.lastCpu = Client.lastCpuSecs / secs;
    return secs;
  }

  /** Deletes the flows of a table, untimed. */
  async clear(table: number): Promise<void> {
    this.socket.write(deleteAll(table));
    await this.barrier(0xfffffff1);
  }

  async barrierRtts(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await this.barrier(0x10000000 + i);
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >>> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/** `name: value unit (target …; reference …)`, the value a median over the rounds, with its range. */
function line(name: string, xs: number[], unit: string, target: string, reference: string): void {
  const range = xs.length > 1 ? `; median of ${xs.length} rounds, range ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}` : '';
  process.stdout.write(`${name}: ${fmt(median(xs))} ${unit} (target ${target}; reference ${reference}${range})\n`);
}

function flowCount(nic: SmartNic, dpid: bigint): number {
  return nic
    .getInstance(dpid)
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] }).length;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-bench-'));
  const store = Store.openDataDir(dir);
  const auditCount = { n: 0 };
  const core = new OpenflowCore({
    listener: { port: 0 },
    shadowSink: new StoreShadowSink(store),
    audit: (e) => {
      auditCount.n++;
      store.audit.append({ actor: e.tenant, tenant: e.tenant, vnf: e.vnf, action: `${e.message.toLowerCase()}`, result: e.result === 'accepted' ? 'ok' : e.result === 'denied' ? 'denied' : 'error', detail: { count: e.count, ...(e.detail ? { reason: e.detail } : {}) } });
    },
  });
  await core.start();
  const driver = new EmbeddedNicDriver({ controllerTarget: () => core.nicTarget, tickIntervalMs: 0, ports: 16 });
  let nextDpid = 0x1000n;

  async function vnf(name: string, ports: number[]): Promise<{ own: Ownership; dpid: bigint; port: number }> {
    const dpid = nextDpid++;
    const r = createOwnership({ vnf: name, tenant: `t-${name}`, ports, tableCount: 64, quotas: { maxFlows: 10_000_000 } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    store.tenants.ensure(`t-${name}`);
    store.instances.create({
      vnf: name,
      tenant: `t-${name}`,
      nic: 'embedded',
      datapathId: dpid.toString(16).padStart(16, '0'),
      ports,
      tables: r.ownership.tables,
      quotas: {},
      channel: { mode: 'listen' },
      request: {},
    });
    await driver.createInstance({ vnf: name, datapathId: dpid, ports, nTables: 64 });
    await core.waitReady(dpid);
    await core.installOperatorFlows(r.ownership, dpid);
    const ch = await core.openChannel(r.ownership, dpid, { mode: 'listen', port: 0 });
    return { own: r.ownership, dpid, port: Number(ch.endpoint.split(':')[2]) };
  }

  // The direct path: an emulator instance with its own OpenFlow listener (same NIC code, no nicvisor).
  const directNic = new SmartNic({ ports: 2 });
  const direct = directNic.createInstance({ datapathId: 0xd1n, ports: [1, 2], nTables: 64 });
  const directListener = await listen(direct, { port: 0 });

  const fail: string[] = [];
  const check = (what: string, ok: boolean) => {
    if (!ok) fail.push(what);
  };

  // (a) and (b): one vNF with the policy, one without, and the emulator instance direct; one connection each, kept across rounds.
  const a = await vnf('bench-a', [1, 2]);
  const b = await vnf('bench-b', [3, 4]);
  core.channel('bench-b')!.enforce = false;
  const ca = await Client.open(a.port);
  const cb = await Client.open(b.port);
  const cd = await Client.open(directListener.port);
  // The policy translates the vNF's table 0 to physical 1; without it, the vNF's ids reach the NIC untranslated, so physical 1.
  const modsA = flowMods(N, 0, 2);
  const modsB = flowMods(N, 1, 4);
  const modsD = flowMods(N, 1, 2);
  const r = { on: [] as number[], off: [] as number[], direct: [] as number[], cpuOn: [] as number[], cpuOff: [] as number[], cpuDirect: [] as number[], usOn: [] as number[], usOff: [] as number[], usDirect: [] as number[] };
  const rtt = { viaP50: [] as number[], viaP99: [] as number[], directP50: [] as number[], directP99: [] as number[], added: [] as number[] };
  let lost = 0;
  for (let round = 0; round <= REPS; round++) {
    const keep = round > 0; // round 0 warms up (JIT, socket buffers, SQLite cache) and is not counted
    // Each blast starts from empty tables and an empty shadow (the previous one's flows deleted, untimed), so one
    // party's state does not weigh on the next one's figure (they share the heap and the event loop).
    const s1 = await ca.blast(modsA);
    const cpu1 = Client.lastCpu;
    const us1 = (Client.lastCpuSecs * 1e6) / N;
    const onNicA = flowCount(driver.nic, a.dpid) - 2;
    await ca.clear(0);
    const s2 = await cb.blast(modsB);
    const cpu2 = Client.lastCpu;
    const us2 = (Client.lastCpuSecs * 1e6) / N;
    const onNicB = flowCount(driver.nic, b.dpid) - 2;
    await cb.clear(1);
    const s3 = await cd.blast(modsD);
    const cpu3 = Client.lastCpu;
    const us3 = (Client.lastCpuSecs * 1e6) / N;
    const onNicD = flowCount(directNic, 0xd1n);
    await cd.clear(1);
    lost += N - onNicA + (N - onNicB) + (N - onNicD);
    check(`round ${round}: policy on: ${N - onNicA} lost`, onNicA === N);
    check(`round ${round}: policy off: ${N - onNicB} lost`, onNicB === N);
    check(`round ${round}: direct: ${N - onNicD} lost`, onNicD === N);
    // The operator's table-0 flows stay.
    check(`round ${round}: tables emptied`, flowCount(driver.nic, a.dpid) === 2 && flowCount(driver.nic, b.dpid) === 2 && flowCount(directNic, 0xd1n) === 0);
    const via = (await ca.barrierRtts(N_BARRIERS)).sort((x, y) => x - y);
    const dir = (await cd.barrierRtts(N_BARRIERS)).sort((x, y) => x - y);
    if (keep) {
      r.on.push(N / s1);
      r.off.push(N / s2);
      r.direct.push(N / s3);
      r.cpuOn.push(cpu1 * 100);
      r.cpuOff.push(cpu2 * 100);
      r.cpuDirect.push(cpu3 * 100);
      r.usOn.push(us1);
      r.usOff.push(us2);
      r.usDirect.push(us3);
      rtt.viaP50.push(pct(via, 50));
      rtt.viaP99.push(pct(via, 99));
      rtt.directP50.push(pct(dir, 50));
      rtt.directP99.push(pct(dir, 99));
      rtt.added.push(pct(via, 50) - pct(dir, 50));
    }
  }
  const errorsA = ca.errors;
  const errorsB = cb.errors;
  const errorsD = cd.errors;
  check('policy on: errors', errorsA === 0);
  check('policy off: errors', errorsB === 0);
  check('direct: errors', errorsD === 0);
  const directRef = `straight to the emulator ${fmt(median(r.direct))} flow-mods/s`;
  line('(a) flow-mods/s, one vNF through nicvisor, policy on (barrier-confirmed)', r.on, 'flow-mods/s', TARGET, `${directRef}; ${N} per round, ${lost} lost, ${errorsA} errors; CPU ${fmt(median(r.cpuOn))}% of one core, ${median(r.usOn).toFixed(1)} CPU-µs per flow-mod (all three parties)`);
  line('(a) flow-mods/s, one vNF through nicvisor, policy off', r.off, 'flow-mods/s', TARGET, `${directRef}; the policy's cost is the difference; ${errorsB} errors; CPU ${fmt(median(r.cpuOff))}%, ${median(r.usOff).toFixed(1)} CPU-µs per flow-mod`);
  line('(a) flow-mods/s, straight to the emulator instance', r.direct, 'flow-mods/s', 'none: the ceiling of (a), same process', `no nicvisor; ${errorsD} errors; CPU ${fmt(median(r.cpuDirect))}%, ${median(r.usDirect).toFixed(1)} CPU-µs per flow-mod`);
  line('(b) barrier RTT p50 through nicvisor', rtt.viaP50, 'µs', `direct + < ${TARGET_ADDED_P50_US}`, `direct ${fmt(median(rtt.directP50))} µs; ${N_BARRIERS} sequential barriers per round`);
  line('(b) barrier RTT p99 through nicvisor', rtt.viaP99, 'µs', 'none', `direct ${fmt(median(rtt.directP99))} µs`);
  line('(b) barrier RTT p50 direct', rtt.directP50, 'µs', 'none', 'emulator instance over loopback TCP');
  line('(b) barrier RTT p99 direct', rtt.directP99, 'µs', 'none', 'emulator instance over loopback TCP');
  line('(b) barrier RTT added by nicvisor, p50', rtt.added, 'µs', `< ${TARGET_ADDED_P50_US}`, 'through nicvisor minus direct, per round');
  ca.close();
  cb.close();
  cd.close();

  // (c) many vNFs at once (instances without ports: the flows output to CONTROLLER).
  const many: Array<{ port: number; dpid: bigint }> = [];
  for (let i = 0; i < N_VNFS; i++) many.push(await vnf(`bench-m${i}`, []));
  const clients = await Promise.all(many.map((v) => Client.open(v.port)));
  const rates: number[] = [];
  const roundsC = Math.min(REPS, 3);
  for (let round = 0; round <= roundsC; round++) {
    const payloads = many.map((_, i) => flowMods(PER_VNF, 0, OFPP.CONTROLLER, i));
    const t0 = process.hrtime.bigint();
    await Promise.all(clients.map((c, i) => c.blast(payloads[i])));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const onNic = many.reduce((n, v) => n + flowCount(driver.nic, v.dpid), 0);
    check(`many, round ${round}: ${N_VNFS * PER_VNF - onNic} lost`, onNic === N_VNFS * PER_VNF);
    if (round > 0) rates.push((N_VNFS * PER_VNF) / secs);
    await Promise.all(clients.map((c) => c.clear(0)));
  }
  const errors = clients.reduce((n, c) => n + c.errors, 0);
  check('many: errors', errors === 0);
  line(`(c) aggregate flow-mods/s, ${N_VNFS} vNFs at once`, rates, 'flow-mods/s', TARGET, `${N_VNFS} × ${PER_VNF} per round, ${errors} errors; ${directRef} (one instance)`);
  for (const c of clients) c.close();

  // Persistence check: one more round for bench-a, left in place, must be in SQLite.
  {
    const c = await Client.open(a.port);
    await c.blast(modsA);
    c.close();
  }
  await core.shadow.flush();
  const counts = store.shadow.countsOf('bench-a');
  check(`persisted: ${counts.flows} shadow rows for bench-a`, counts.flows === N + 2);
  process.stdout.write(`shadow rows persisted for bench-a: ${counts.flows} flows (target ${N + 2}; reference SQLite in ${dir}, ${auditCount.n} audit records, accepted mutations aggregated per barrier)\n`);

  await core.stop();
  await driver.close();
  await directListener.close();
  directNic.shutdown();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  if (fail.length > 0) {
    process.stdout.write(`FAILED checks: ${fail.join(', ')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('messages lost: 0 (every run checked against the NIC)\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
