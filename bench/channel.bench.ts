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
 * Env: BENCH_FLOWMODS (default 100000), BENCH_BARRIERS (default 2000),
 * BENCH_VNFS (default 100), BENCH_VNF_FLOWMODS (per vNF, default 2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, FlowMod, Framer, OFPG, OFPIT, OFPMP, OFPP, OFPT, OFPTT, ourHello } from '../libs/openflow/src/index.js';
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
const TARGET_RATE = 200_000;
const TARGET_ADDED_P50_US = 50;

/** n distinct flow-mods for view table `table`: ip, nw_dst=10.x.y.z → output:port. */
function flowMods(n: number, table: number, port: number, salt = 0): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
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
    parts.push(encodeMessage(fm));
  }
  return Buffer.concat(parts);
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

  /** Writes the flow-mods in 64 KiB slices as the socket drains, then a barrier; resolves when it is answered. */
  /** CPU share of the last blast (process CPU time / wall time; 1 core = 100%). */
  static lastCpu = 0;

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
    Client.lastCpu = (cpu.user + cpu.system) / 1e6 / secs;
    return secs;
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

function line(name: string, value: number, unit: string, reference: string): void {
  const v = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
  process.stdout.write(`${name}: ${v} ${unit} (reference ${reference})\n`);
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

  // (a) one vNF, with and without the policy, and direct.
  const a = await vnf('bench-a', [1, 2]);
  const mods = flowMods(N, 0, 2);
  {
    const c = await Client.open(a.port);
    const s = await c.blast(mods);
    check('policy: errors', c.errors === 0);
    check('policy: lost', flowCount(driver.nic, a.dpid) === N + 2);
    line('flow-mods/s, one vNF through nicvisor (policy on, barrier-confirmed)', N / s, 'flow-mods/s', `target ≥ ${TARGET_RATE.toLocaleString('en-US')}; ${N} sent, ${flowCount(driver.nic, a.dpid) - 2} on the NIC, ${c.errors} errors; CPU ${(Client.lastCpu * 100).toFixed(0)}% of one core`);
    // (b) barrier RTT through nicvisor, on the same connection.
    const rtt = (await c.barrierRtts(N_BARRIERS)).sort((x, y) => x - y);
    line('barrier RTT p50 through nicvisor', pct(rtt, 50), 'µs', `direct below; added target < ${TARGET_ADDED_P50_US} µs`);
    line('barrier RTT p99 through nicvisor', pct(rtt, 99), 'µs', `${N_BARRIERS} sequential barriers`);
    (globalThis as { __rtt?: number[] }).__rtt = rtt;
    c.close();
  }
  const b = await vnf('bench-b', [3, 4]);
  core.channel('bench-b')!.enforce = false;
  {
    // Without the policy the vNF's table ids go to the NIC untranslated: use physical table 1.
    const c = await Client.open(b.port);
    const s = await c.blast(flowMods(N, 1, 4));
    check('no policy: errors', c.errors === 0);
    check('no policy: lost', flowCount(driver.nic, b.dpid) === N + 2);
    line('flow-mods/s, one vNF through nicvisor (policy off)', N / s, 'flow-mods/s', `the policy's cost is the difference; ${c.errors} errors; CPU ${(Client.lastCpu * 100).toFixed(0)}%`);
    c.close();
  }
  {
    const c = await Client.open(directListener.port);
    const s = await c.blast(flowMods(N, 1, 2));
    check('direct: errors', c.errors === 0);
    check('direct: lost', flowCount(directNic, 0xd1n) === N);
    line('flow-mods/s, straight to the emulator instance', N / s, 'flow-mods/s', `no nicvisor: the ceiling (same process); CPU ${(Client.lastCpu * 100).toFixed(0)}%`);
    const rtt = (await c.barrierRtts(N_BARRIERS)).sort((x, y) => x - y);
    const via = (globalThis as { __rtt?: number[] }).__rtt!;
    line('barrier RTT p50 direct', pct(rtt, 50), 'µs', 'emulator instance over loopback TCP');
    line('barrier RTT p99 direct', pct(rtt, 99), 'µs', `${N_BARRIERS} sequential barriers`);
    line('barrier RTT added by nicvisor, p50', pct(via, 50) - pct(rtt, 50), 'µs', `target < ${TARGET_ADDED_P50_US} µs`);
    c.close();
  }

  // (c) many vNFs at once (instances without ports: the flows output to CONTROLLER).
  const many: Array<{ port: number; dpid: bigint }> = [];
  for (let i = 0; i < N_VNFS; i++) many.push(await vnf(`bench-m${i}`, []));
  const clients = await Promise.all(many.map((v) => Client.open(v.port)));
  const payloads = many.map((_, i) => flowMods(PER_VNF, 0, OFPP.CONTROLLER, i));
  const t0 = process.hrtime.bigint();
  await Promise.all(clients.map((c, i) => c.blast(payloads[i])));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const errors = clients.reduce((n, c) => n + c.errors, 0);
  const onNic = many.reduce((n, v) => n + flowCount(driver.nic, v.dpid), 0);
  check('many: errors', errors === 0);
  check('many: lost', onNic === N_VNFS * PER_VNF);
  line(`aggregate flow-mods/s, ${N_VNFS} vNFs at once`, (N_VNFS * PER_VNF) / secs, 'flow-mods/s', `${N_VNFS} × ${PER_VNF}, ${onNic} on the NIC, ${errors} errors`);
  for (const c of clients) c.close();

  await core.shadow.flush();
  const counts = store.shadow.countsOf('bench-a');
  line('shadow rows persisted for bench-a', counts.flows, 'flows', `SQLite in ${dir}; ${auditCount.n} audit records (accepted mutations aggregated per barrier)`);

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
