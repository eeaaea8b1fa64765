/**
 * Delegated-channel benchmark (`npm run bench:channel`), persistence (SQLite
 * shadow) and audit on:
 *
 * (a) flow-mods/s from one vNF through nicvisor into the emulated NIC,
 *     pipelined and confirmed by a final barrier, with the policy and
 *     without it, beside the same flow-mods sent straight to an emulator
 *     instance's own OpenFlow listener;
 * (b) barrier round-trip latency p50/p99, through nicvisor and direct
 *     (sequential barriers, the two paths taking turns), alone and each
 *     behind a flow-mod (so through nicvisor it goes to the NIC and waits
 *     for the store's commit);
 * (c) 100 vNFs at once, aggregate flow-mods/s;
 * (d) with `--tls`: (a) and (b) again for a vNF on a mutual-TLS channel
 *     (certificates of nicvisor's CA), beside plain TCP in the same rounds.
 * Every run checks that nothing was lost (flows on the NIC = flow-mods sent,
 * asked of the NIC over OpenFlow) and that no error came back.
 *
 * The emulated NIC runs in its own process (the standalone emulator,
 * apps/smartnic, driven by the controller's remote NIC driver), as a real
 * NIC is hardware beside the controller: this process holds nicvisor and the
 * benchmark's clients. The machine is shared, so besides wall-clock rates
 * every figure comes with CPU time: this process's (process.cpuUsage:
 * nicvisor plus the clients, which only write prepared bytes) and the
 * emulator's (/proc), per flow-mod. One warm-up round is run and discarded,
 * then BENCH_REPS rounds, each measuring every path of (a) and (b) back to
 * back (so a busy moment hits all alike; which path goes first turns from
 * round to round); each figure is the median over the
 * rounds, with its range. Each blast's flows are deleted (untimed) right
 * after it, so every blast fills the same empty table and starts with an
 * empty shadow.
 *
 * A path is a `ChannelPath` (how the client reaches its switch, what it
 * sends, how its flows are counted on the NIC); `measureBlast` and
 * `measureBarriers` take any path.
 *
 * Env: BENCH_FLOWMODS (default 100000), BENCH_BARRIERS (default 2000),
 * BENCH_VNFS (default 100), BENCH_VNF_FLOWMODS (per vNF, default 2000),
 * BENCH_REPS (default 5).
 */
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { OFPMP, OFPP, OFPT } from '../libs/openflow/src/index.js';
import { Store } from '../libs/storage/src/store.js';
import { createOwnership, Ownership } from '../libs/tenancy/src/index.js';
import { RemoteNicDriver } from '../apps/controller/src/nic/remote-driver.js';
import { OpenflowCore } from '../apps/controller/src/openflow/core.js';
import { StoreShadowSink } from '../apps/controller/src/openflow/store-sink.js';
import { CertificateAuthority } from '../apps/controller/src/pki/ca.js';
import { NIC_PATTERNS } from '../apps/smartnic/src/smartnic.constants.js';
import type { InstanceView } from '../apps/smartnic/src/smartnic.dto.js';
import { flowMods } from './flow-mods.js';
import { aggregateAll, Client, dialTls, TlsCredentials } from './of-client.js';

const N = Number(process.env.BENCH_FLOWMODS ?? 100_000);
const N_BARRIERS = Number(process.env.BENCH_BARRIERS ?? 2000);
const N_VNFS = Number(process.env.BENCH_VNFS ?? 100);
const PER_VNF = Number(process.env.BENCH_VNF_FLOWMODS ?? 2000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5));
const TARGET = `≥ ${(200_000).toLocaleString('en-US')}`;
const TARGET_ADDED_P50_US = 50;
/** `npm run bench:channel -- --tls`: also measure a TLS channel. */
const TLS = process.argv.includes('--tls');

/** CPU seconds (user + system) of a process or thread from /proc (Linux; clock ticks of 10 ms); NaN where it is missing. */
function procCpuSecs(statPath: string): number {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** This process's main thread (the event loop: nicvisor's hot path), without its writer and helper threads. */
const mainThreadCpuSecs = () => procCpuSecs(`/proc/self/task/${process.pid}/stat`);

/** The standalone emulator in a child process; its CPU time read from /proc (Linux). */
class EmulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** Its management API, `tcp:127.0.0.1:PORT`. */
    readonly target: string,
  ) {}

  static start(nicPorts: number): Promise<EmulatorProcess> {
    const child = spawn(process.execPath, ['--import', './bin/register.js', 'apps/smartnic/src/main.ts'], {
      env: { ...process.env, NICVISOR_SMARTNIC_RPC_PORT: '0', NICVISOR_SMARTNIC_PORTS: String(nicPorts) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Never left running when the benchmark ends early.
    process.once('exit', () => child.kill('SIGTERM'));
    return new Promise<EmulatorProcess>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening: ${out}`)));
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /smartnic: listening on ([\d.]+):(\d+)/.exec(out);
        if (m !== null) {
          child.removeAllListeners('exit');
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
          resolve(new EmulatorProcess(child, `tcp:${m[1]}:${m[2]}`));
        }
      });
    });
  }

  /** CPU seconds (user + system) the emulator has used; NaN where /proc is missing. */
  cpuSecs(): number {
    return procCpuSecs(`/proc/${this.child.pid}/stat`);
  }

  stop(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** One way of getting flow-mods to the emulated NIC, measured by `measureBlast` and `measureBarriers`. */
interface ChannelPath {
  label: string;
  client: Client;
  /** Where the client connects, and with what credentials if over mutual TLS (the barrier client dials it too). */
  port: number;
  tls?: TlsCredentials;
  /** N flow-mods in the client's terms. */
  mods: Buffer;
  /** The client's table the flow-mods go to (cleared between rounds). */
  table: number;
  /** Flows the path's instance holds on the NIC beyond the blast's (the operator's steering flows). */
  baseline: number;
  /** Flows on the NIC now, asked of the NIC over OpenFlow. */
  flowsOnNic(): Promise<number>;
}

interface BlastSample {
  rate: number;
  /** CPU-µs per flow-mod: this process (nicvisor and the client), its main thread, the emulator process. */
  usHere: number;
  usMain: number;
  usNic: number;
  lost: number;
}

/** Sends `path.mods` pipelined, confirmed by a barrier; counts the flows on the NIC; deletes them (untimed). */
async function measureBlast(path: ChannelPath, emu: EmulatorProcess): Promise<BlastSample> {
  const n = path.mods.length / path.mods.readUInt16BE(2);
  const c0 = process.cpuUsage();
  const e0 = emu.cpuSecs();
  const m0 = mainThreadCpuSecs();
  const t0 = process.hrtime.bigint();
  await path.client.blast(path.mods);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const nicSecs = emu.cpuSecs() - e0;
  const mainSecs = mainThreadCpuSecs() - m0;
  const onNic = (await path.flowsOnNic()) - path.baseline;
  await path.client.clear(path.table);
  const left = (await path.flowsOnNic()) - path.baseline;
  if (left !== 0) throw new Error(`${path.label}: ${left} flows left after clearing`);
  return { rate: n / secs, usHere: (cpu.user + cpu.system) / n, usMain: (mainSecs * 1e6) / n, usNic: (nicSecs * 1e6) / n, lost: n - onNic };
}

/**
 * N_BARRIERS sequential barriers on each path, the paths taking turns (so a
 * busy moment of the shared machine hits them alike), from a client process
 * of its own (bench/barrier-client.ts), as a vNF's controller is one; with
 * `behindFlowMod`, each barrier is written right after the path's first
 * flow-mod (the same flow each time: an ADD that replaces it). Each path's
 * round-trip times sorted, in µs.
 */
async function measureBarriers(paths: ChannelPath[], behindFlowMod = false): Promise<number[][]> {
  const job = {
    n: N_BARRIERS,
    paths: paths.map((p) => ({ port: p.port, tls: p.tls, ...(behindFlowMod ? { lead: p.mods.subarray(0, p.mods.readUInt16BE(2)).toString('hex') } : {}) })),
  };
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './bin/register.js', 'bench/barrier-client.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`the barrier client exited with ${code}`))));
  });
  const { rtts, errors } = JSON.parse(out) as { rtts: number[][]; errors: number };
  if (errors > 0) throw new Error(`the barrier client got ${errors} errors`);
  return rtts.map((xs) => xs.sort((x, y) => x - y));
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

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  process.stdout.write(`load average at start: ${load()}\n`);
  const emu = await EmulatorProcess.start(16);
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-bench-'));
  // As the controller opens it (app.module.ts): SQLite's writes on the store's writer thread.
  const store = Store.openDataDir(dir, { writerThread: true, flushIntervalMs: 50 });
  const auditCount = { n: 0 };
  const ca = TLS ? await CertificateAuthority.open(join(dir, 'pki')) : undefined;
  const core = new OpenflowCore({
    listener: { port: 0 },
    ...(ca === undefined ? {} : { tls: ca.channelTls() }),
    shadowSink: new StoreShadowSink(store),
    audit: (e) => {
      auditCount.n++;
      store.audit.append({ actor: e.tenant, tenant: e.tenant, vnf: e.vnf, action: `${e.message.toLowerCase()}`, result: e.result === 'accepted' ? 'ok' : e.result === 'denied' ? 'denied' : 'error', detail: { count: e.count, ...(e.detail ? { reason: e.detail } : {}) } });
    },
  });
  await core.start();
  const driver = new RemoteNicDriver({ target: emu.target, controllerTarget: () => core.nicTarget });
  let nextDpid = 0x1000n;

  async function vnf(name: string, ports: number[], tls = false): Promise<{ own: Ownership; dpid: bigint; port: number }> {
    const dpid = nextDpid++;
    const r = createOwnership({ vnf: name, tenant: `t-${name}`, ports, tableCount: 64, quotas: { maxFlows: 10_000_000 } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    store.tenants.ensure(`t-${name}`);
    store.instances.create({
      vnf: name,
      tenant: `t-${name}`,
      nic: emu.target,
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
    const ch = await core.openChannel(r.ownership, dpid, { mode: 'listen', port: 0, ...(tls ? { tls } : {}) });
    return { own: r.ownership, dpid, port: Number(ch.endpoint.split(':')[2]) };
  }

  /** Flows of a nicvisor-managed instance, asked of the NIC on nicvisor's own session with it. */
  async function nicFlows(dpid: bigint): Promise<number> {
    const parts = await core.readySession(dpid)!.multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: aggregateAll() });
    const b = parts[0].body;
    if (b.mpType !== OFPMP.AGGREGATE) throw new Error('aggregate stats expected');
    return b.flowCount;
  }

  // The direct path: an emulator instance with its own OpenFlow listener (the same emulator process, no nicvisor).
  const rpc = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: Number(emu.target.split(':')[2]) } });
  const directView = await firstValueFrom(rpc.send<InstanceView>(NIC_PATTERNS.INSTANCE_CREATE, { datapathId: '0xd1', ports: [15, 16], nTables: 64, listen: { port: 0 } }));

  const fail: string[] = [];
  const check = (what: string, ok: boolean) => {
    if (!ok) fail.push(what);
  };

  // (a) and (b): one vNF with the policy, one without, and the emulator instance direct; one connection each, kept across rounds.
  const a = await vnf('bench-a', [1, 2]);
  const b = await vnf('bench-b', [3, 4]);
  core.channel('bench-b')!.enforce = false;
  const cd = await Client.open(directView.channel.listen!.port);
  // The policy translates the vNF's table 0 to physical 1; without it, the vNF's ids reach the NIC untranslated, so physical 1.
  const paths: ChannelPath[] = [
    { label: 'policy on', client: await Client.open(a.port), port: a.port, mods: flowMods(N, 0, 2), table: 0, baseline: 2, flowsOnNic: () => nicFlows(a.dpid) },
    { label: 'policy off', client: await Client.open(b.port), port: b.port, mods: flowMods(N, 1, 4), table: 1, baseline: 2, flowsOnNic: () => nicFlows(b.dpid) },
    { label: 'direct', client: cd, port: directView.channel.listen!.port, mods: flowMods(N, 1, 16), table: 1, baseline: 0, flowsOnNic: () => cd.flowCount() },
  ];
  const [on, off, direct] = paths;
  let viaTls: ChannelPath | undefined;
  if (ca !== undefined) {
    const t = await vnf('bench-tls', [5, 6], true);
    const { key, cert, ca: caCert } = await ca.issue('vnf', 'bench-tls');
    const tls = { key, cert, ca: caCert };
    viaTls = { label: 'policy on, TLS', client: await Client.open(t.port, dialTls(tls)), port: t.port, tls, mods: flowMods(N, 0, 6), table: 0, baseline: 2, flowsOnNic: () => nicFlows(t.dpid) };
    paths.push(viaTls);
  }
  const samples = new Map<ChannelPath, BlastSample[]>(paths.map((p) => [p, []]));
  const rtt = {
    viaP50: [] as number[],
    viaP99: [] as number[],
    directP50: [] as number[],
    directP99: [] as number[],
    added: [] as number[],
    behindVia: [] as number[],
    behindDirect: [] as number[],
    behindAdded: [] as number[],
  };
  const tlsRtt = { p50: [] as number[], added: [] as number[] };
  let lost = 0;
  for (let round = 0; round <= REPS; round++) {
    const keep = round > 0; // round 0 warms up (JIT, socket buffers, SQLite cache) and is not counted
    // The paths take turns going first: the first blast of a round pays for the garbage the round before left.
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(k + round) % paths.length];
      const s = await measureBlast(p, emu);
      lost += s.lost;
      check(`round ${round}: ${p.label}: ${s.lost} lost`, s.lost === 0);
      if (keep) samples.get(p)!.push(s);
    }
    const [via, dir, overTls] = await measureBarriers(viaTls === undefined ? [on, direct] : [on, direct, viaTls]);
    const [viaBehind, dirBehind] = await measureBarriers([on, direct], true);
    for (const p of [on, direct]) await p.client.clear(p.table);
    if (keep && overTls !== undefined) {
      tlsRtt.p50.push(pct(overTls, 50));
      tlsRtt.added.push(pct(overTls, 50) - pct(via, 50));
    }
    if (keep) {
      rtt.viaP50.push(pct(via, 50));
      rtt.viaP99.push(pct(via, 99));
      rtt.directP50.push(pct(dir, 50));
      rtt.directP99.push(pct(dir, 99));
      rtt.added.push(pct(via, 50) - pct(dir, 50));
      rtt.behindVia.push(pct(viaBehind, 50));
      rtt.behindDirect.push(pct(dirBehind, 50));
      rtt.behindAdded.push(pct(viaBehind, 50) - pct(dirBehind, 50));
    }
  }
  for (const p of paths) check(`${p.label}: ${p.client.errors} errors`, p.client.errors === 0);
  const of = (p: ChannelPath, k: keyof BlastSample) => samples.get(p)!.map((s) => s[k]);
  const cpu = (p: ChannelPath) =>
    `CPU-µs per flow-mod: nicvisor's process ${median(of(p, 'usHere')).toFixed(2)} (range ${Math.min(...of(p, 'usHere')).toFixed(2)}–${Math.max(...of(p, 'usHere')).toFixed(2)}), of which its main thread ${median(of(p, 'usMain')).toFixed(2)}; emulator ${median(of(p, 'usNic')).toFixed(2)}`;
  const directRef = `straight to the emulator ${fmt(median(of(direct, 'rate')))} flow-mods/s`;
  line('(a) flow-mods/s, one vNF through nicvisor, policy on (barrier-confirmed)', of(on, 'rate'), 'flow-mods/s', TARGET, `${directRef}; ${N} per round, ${lost} lost, ${on.client.errors} errors; ${cpu(on)}`);
  line('(a) flow-mods/s, one vNF through nicvisor, policy off', of(off, 'rate'), 'flow-mods/s', TARGET, `${directRef}; the policy's cost is the difference; ${off.client.errors} errors; ${cpu(off)}`);
  line('(a) flow-mods/s, straight to the emulator instance', of(direct, 'rate'), 'flow-mods/s', 'none: the ceiling of (a)', `no nicvisor; ${direct.client.errors} errors; ${cpu(direct)} (the client only)`);
  line('(a) CPU-time rate, one vNF through nicvisor, policy on, main thread', of(on, 'usMain').map((us) => 1e6 / us), 'flow-mods per CPU-second', TARGET, "flow-mods per CPU-second of nicvisor's event-loop thread (framing, policy, relay, shadow; SQLite runs on the store's writer thread): its rate with a core of its own; steadier than wall clock on a loaded machine");
  line('(a) CPU-time rate, one vNF through nicvisor, policy on, whole process', of(on, 'usHere').map((us) => 1e6 / us), 'flow-mods per CPU-second', 'none', "every thread of nicvisor's process (SQLite writer and the client included) on one core");
  line('(b) barrier RTT p50 through nicvisor', rtt.viaP50, 'µs', `direct + < ${TARGET_ADDED_P50_US}`, `direct ${fmt(median(rtt.directP50))} µs; ${N_BARRIERS} sequential barriers per round on each path, the paths taking turns`);
  line('(b) barrier RTT p99 through nicvisor', rtt.viaP99, 'µs', 'none', `direct ${fmt(median(rtt.directP99))} µs`);
  line('(b) barrier RTT p50 direct', rtt.directP50, 'µs', 'none', 'emulator instance over loopback TCP');
  line('(b) barrier RTT p99 direct', rtt.directP99, 'µs', 'none', 'emulator instance over loopback TCP');
  line('(b) barrier RTT added by nicvisor, p50', rtt.added, 'µs', `< ${TARGET_ADDED_P50_US}`, 'through nicvisor minus direct, per round; nothing of the vNF unconfirmed at the NIC, so nicvisor answers it');
  line('(b) barrier RTT p50 behind a flow-mod, through nicvisor', rtt.behindVia, 'µs', 'none', `direct ${fmt(median(rtt.behindDirect))} µs; each barrier written with a flow-mod before it, so it goes to the NIC and its reply waits for the store's commit`);
  line('(b) barrier RTT added by nicvisor behind a flow-mod, p50', rtt.behindAdded, 'µs', 'none', 'through nicvisor minus direct, per round');
  if (viaTls !== undefined) {
    const onRates = of(on, 'rate');
    line('(d) flow-mods/s, one vNF through nicvisor over mutual TLS, policy on', of(viaTls, 'rate'), 'flow-mods/s', `≥ 75% of plain TCP`, `plain TCP ${fmt(median(onRates))} in the same rounds; ${viaTls.client.errors} errors; ${cpu(viaTls)}`);
    line('(d) TLS rate as % of plain TCP, per round', of(viaTls, 'rate').map((r, i) => (100 * r) / onRates[i]!), '%', '≥ 75', 'same rounds, back to back');
    line('(d) barrier RTT p50 over TLS', tlsRtt.p50, 'µs', 'none', `plain TCP ${fmt(median(rtt.viaP50))} µs`);
    line('(d) barrier RTT added by TLS, p50', tlsRtt.added, 'µs', 'none', 'TLS minus plain TCP through nicvisor, per round');
  }
  for (const p of paths) p.client.close();

  // (c) many vNFs at once (instances without ports: the flows output to CONTROLLER).
  const many: Array<{ port: number; dpid: bigint }> = [];
  for (let i = 0; i < N_VNFS; i++) many.push(await vnf(`bench-m${i}`, []));
  const clients = await Promise.all(many.map((v) => Client.open(v.port)));
  const rates: number[] = [];
  const usMany: number[] = [];
  const roundsC = Math.min(REPS, 3);
  for (let round = 0; round <= roundsC; round++) {
    const payloads = many.map((_, i) => flowMods(PER_VNF, 0, OFPP.CONTROLLER, i));
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(clients.map((c, i) => c.blast(payloads[i])));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    const counts = await Promise.all(many.map((v) => nicFlows(v.dpid)));
    const onNic = counts.reduce((x, y) => x + y, 0);
    check(`many, round ${round}: ${N_VNFS * PER_VNF - onNic} lost`, onNic === N_VNFS * PER_VNF);
    if (round > 0) {
      rates.push((N_VNFS * PER_VNF) / secs);
      usMany.push((cu.user + cu.system) / (N_VNFS * PER_VNF));
    }
    await Promise.all(clients.map((c) => c.clear(0)));
  }
  const errors = clients.reduce((n, c) => n + c.errors, 0);
  check('many: errors', errors === 0);
  line(
    `(c) aggregate flow-mods/s, ${N_VNFS} vNFs at once`,
    rates,
    'flow-mods/s',
    TARGET,
    `${N_VNFS} × ${PER_VNF} per round, ${errors} errors; ${median(usMany).toFixed(2)} CPU-µs per flow-mod in nicvisor's process (${fmt(1e6 / median(usMany))} per CPU-second); ${directRef} (one instance)`,
  );
  for (const c of clients) c.close();

  // Persistence check: one more round for bench-a, left in place, must be in SQLite.
  {
    const c = await Client.open(a.port);
    await c.blast(on.mods);
    c.close();
  }
  await core.shadow.flush();
  const counts = store.shadow.countsOf('bench-a');
  check(`persisted: ${counts.flows} shadow rows for bench-a`, counts.flows === N + 2);
  process.stdout.write(`shadow rows persisted for bench-a: ${counts.flows} flows (target ${N + 2}; reference SQLite in ${dir}, ${auditCount.n} audit records, accepted mutations aggregated per barrier)\n`);
  process.stdout.write(`load average at end: ${load()}\n`);

  await core.stop();
  await driver.close();
  await rpc.close();
  await emu.stop();
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
