/**
 * Crash and restart for real: the standalone emulator and the controller as
 * processes (the controller's NIC is the emulator, NICVISOR_NIC=tcp:…), three
 * instances of two tenants (listen-mode vNFs driven by the codec client, a
 * connect-mode vNF whose controller is an OfServer of this test), flows
 * installed, then SIGKILL in the middle of barrier-confirmed bursts.
 *
 * While the controller is down, a stand-in controller on its NIC port reads
 * the emulator's instances directly (they redial it) and changes them behind
 * nicvisor's back: an acknowledged flow deleted, another modified, stray
 * flows added. The restarted controller (same data directory, same NIC port)
 * must bring back instances, ownership and quotas, reconcile each instance
 * (reinstall, restore, remove), reopen listen endpoints on the same ports and
 * redial the connect-mode vNF's controller. At the end, with the controller
 * stopped, the emulator is read directly once more and compared with the
 * shadow the controller persisted: they must be the same flows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, OFPET, OFPFC, OFPFMFC, OFPIT, OFPT, type FlowMod, type FlowStats, type Match } from '@nicvisor/openflow';
import { Store } from '@nicvisor/storage';
import { flowMod, output, sleep, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { startController, type Controller } from '../interop/harness.js';
import { call, dumpFlows, flowKey, OfServer, portOf, startSmartnic, until, type Smartnic } from './helpers.js';

const BATCH = 25;
const WINDOW = 4;
const MAX_BATCHES = 60;

interface Batch {
  barrierXid: number;
  priorities: number[];
}

/** The flow a burst installs at `priority` (one flow per priority). */
function burstFlow(tableId: number, priority: number, port: number): FlowMod {
  return flowMod({
    tableId,
    priority,
    match: [
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: `10.9.${priority >> 8}.${priority & 0xff}` },
    ],
    actions: [output(port)],
  });
}

/**
 * Flow-mods in batches of BATCH, each batch followed by a barrier, at most
 * WINDOW batches unanswered, until the connection drops or MAX_BATCHES;
 * `onStep` runs before each batch and while waiting for the window.
 */
function burst(c: VnfClient, tableId: number, firstPriority: number, port: number, onStep: () => void) {
  const batches: Batch[] = [];
  const answered = (): Set<number> => new Set(c.got.filter((m) => m.type === OFPT.BARRIER_REPLY).map((m) => m.xid));
  const acked = (): Batch[] => {
    const a = answered();
    return batches.filter((b) => a.has(b.barrierXid));
  };
  const done = (async () => {
    let priority = firstPriority;
    while (!c.closed && batches.length < MAX_BATCHES) {
      onStep();
      if (batches.length - acked().length >= WINDOW) {
        await sleep(1);
        continue;
      }
      const priorities: number[] = [];
      for (let i = 0; i < BATCH; i++, priority++) {
        c.send({ ...burstFlow(tableId, priority, port), xid: c.xid() });
        priorities.push(priority);
      }
      const barrierXid = c.xid();
      c.send({ type: OFPT.BARRIER_REQUEST, xid: barrierXid });
      batches.push({ barrierXid, priorities });
    }
  })();
  return { tableId, batches, acked, done };
}

type Burst = ReturnType<typeof burst>;

const ownedKey = (f: { tableId: number; priority: number }): string => `${f.tableId}/${f.priority}`;

/** flowKey with the match in field order (the NIC and the shadow may order OXM fields differently). */
function fullKey(f: { tableId: number; priority: number; match: Match; instructions: unknown; cookie?: bigint }): string {
  return flowKey({ ...f, match: [...f.match].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)) });
}

/** An OfServer on the controller's NIC port, once the controller has let go of it. */
async function listenOn(port: number): Promise<OfServer> {
  let server: OfServer | undefined;
  await until(
    async () => {
      server = await OfServer.listen(port).catch(() => undefined);
      return server !== undefined;
    },
    `port ${port} free again`,
    10_000,
  );
  return server!;
}

function strict(f: FlowStats, command: number, instructions: FlowMod['instructions'] = []): FlowMod {
  return { ...flowMod({ tableId: f.tableId, priority: f.priority, match: f.match, instructions }), command, cookie: f.cookie };
}

describe('controller SIGKILL in the middle of flow-mod bursts, restart on the same data directory', () => {
  let dir: string;
  let nic: Smartnic | undefined;
  let ctl: Controller | undefined;
  let vnfController: OfServer | undefined;
  let standIn: OfServer | undefined;
  const clients: VnfClient[] = [];

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-crash-'))));
  afterAll(async () => {
    for (const c of clients) c.close();
    await standIn?.close();
    await ctl?.stop();
    await vnfController?.close();
    await nic?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged flow, reconciles the NIC, restores endpoints and redials connect-mode vNFs', async () => {
    nic = await startSmartnic();
    vnfController = await OfServer.listen();
    // startController gives it the test tokens; `call` sends the admin one.
    const env = { NICVISOR_NIC: nic.target };
    ctl = await startController({ dataDir: dir, env });
    const ofPort = Number(/NIC listener\s+tcp:127\.0\.0\.1:(\d+)/.exec(ctl.output())![1]);
    const api = (method: string, path: string, body?: unknown) => call(ctl!.url, method, path, body);

    // ---- instances: two tenants, listen and connect mode, quotas ----
    const created = [
      await api('POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2], quotas: { maxFlows: 2000, maxGroups: 8, maxMeters: 4, packetInsPerSecond: 100 } }),
      await api('POST', '/v1/instances', {
        vnf: 'lb1',
        tenant: 'globex',
        ports: [3, 4],
        tables: { count: 8 },
        quotas: { maxFlows: 1600 },
        channel: { mode: 'connect', target: `tcp:127.0.0.1:${vnfController.port}` },
      }),
      await api('POST', '/v1/instances', { vnf: 'fw2', tenant: 'acme', ports: [5], quotas: { maxFlows: 3 } }),
    ];
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);
    const [fw1, lb1, fw2] = created.map((r) => r.body);
    const dpid = (inst: { datapathId: string }): bigint => BigInt(`0x${inst.datapathId}`);
    /** vNF table → physical table (the views are virtual). */
    const phys = (inst: { tables: { tenant: number[] } }, t: number): number => inst.tables.tenant[t]!;

    // ---- flows from the vNFs, then the bursts ----
    const c1 = await VnfClient.open(portOf(fw1.channel.endpoint));
    const c2 = (await vnfController.session(dpid(lb1))).client;
    const c3 = await VnfClient.open(portOf(fw2.channel.endpoint));
    clients.push(c1, c2, c3);
    c1.send({ ...flowMod({ tableId: 0, priority: 100, match: [{ field: 'in_port', value: 1 }], goto: 1 }), xid: c1.xid() });
    c2.send({ ...flowMod({ tableId: 0, priority: 100, match: [{ field: 'in_port', value: 3 }], goto: 2 }), xid: c2.xid() });
    for (let i = 0; i < 3; i++) c3.send({ ...flowMod({ tableId: 0, priority: 10 + i, match: [{ field: 'in_port', value: 5 }], actions: [output(5)] }), xid: c3.xid() });
    await Promise.all([c1.barrier(), c2.barrier(), c3.barrier()]);
    for (const c of clients) expect(c.errors()).toEqual([]);
    const instancesBefore = (await api('GET', '/v1/instances')).body as Array<Record<string, unknown>>;
    const tenantsBefore = (await api('GET', '/v1/tenants')).body;
    expect(instancesBefore.map((i) => [i.vnf, i.connected]).sort()).toEqual([
      ['fw1', true],
      ['fw2', true],
      ['lb1', true],
    ]);

    // The kill comes from inside the bursts, the moment enough batches were answered: both still have batches in flight.
    const killer = ctl;
    const bursts = new Map<string, Burst>();
    const answered = (vnf: string): number => bursts.get(vnf)?.acked().length ?? 0;
    const killWhenAcked = (): void => {
      if (!killer.child.killed && answered('fw1') >= 8 && answered('lb1') >= 4) killer.child.kill('SIGKILL');
    };
    bursts.set('fw1', burst(c1, 1, 1000, 2, killWhenAcked));
    bursts.set('lb1', burst(c2, 2, 1000, 4, killWhenAcked));
    const ended = Promise.all([...bursts.values()].map((x) => x.done));
    await Promise.race([killer.exited, ended]);
    if (!killer.child.killed) throw new Error(`the bursts ended before the kill: ${[...bursts].map(([v, x]) => `${v} ${x.batches.length} sent, ${x.acked().length} answered`).join('; ')}`);
    await Promise.all([killer.exited, ended]);
    expect(killer.child.signalCode).toBe('SIGKILL');
    for (const c of clients) expect(c.errors()).toEqual([]);
    const insts = new Map<string, { datapathId: string; tables: { tenant: number[] } }>([
      ['fw1', fw1],
      ['lb1', lb1],
      ['fw2', fw2],
    ]);
    /** Per vNF, the physical (table/priority) of every flow whose barrier was answered. */
    const ackedKeys = new Map<string, string[]>();
    const unackedKeys = new Map<string, string[]>();
    for (const [vnf, b] of bursts) {
      const inst = insts.get(vnf)!;
      const acked = new Set(b.acked());
      const keys = (bs: Batch[]): string[] => bs.flatMap((x) => x.priorities.map((p) => `${phys(inst, b.tableId)}/${p}`));
      ackedKeys.set(vnf, keys([...acked]));
      unackedKeys.set(vnf, keys(b.batches.filter((x) => !acked.has(x))));
    }
    ackedKeys.get('fw1')!.push(`${phys(fw1, 0)}/100`);
    ackedKeys.get('lb1')!.push(`${phys(lb1, 0)}/100`);
    ackedKeys.set('fw2', [10, 11, 12].map((p) => `${phys(fw2, 0)}/${p}`));
    expect(unackedKeys.get('fw1')!.length + unackedKeys.get('lb1')!.length).toBeGreaterThan(0);

    // ---- controller down: a stand-in on its NIC port reads and changes the emulator directly ----
    standIn = await listenOn(ofPort);
    const atKill = new Map<string, FlowStats[]>();
    for (const [vnf, inst] of insts) atKill.set(vnf, await dumpFlows((await standIn.session(dpid(inst))).client));
    for (const [vnf, keys] of ackedKeys) {
      const onNic = new Set(atKill.get(vnf)!.map(ownedKey));
      expect(keys.filter((k) => !onNic.has(k))).toEqual([]);
    }
    const unackedOnNicAtKill = [...unackedKeys].reduce((n, [vnf, keys]) => n + keys.filter((k) => atKill.get(vnf)!.some((f) => ownedKey(f) === k)).length, 0);

    const fw1Nic = (await standIn.session(dpid(fw1))).client;
    const lb1Nic = (await standIn.session(dpid(lb1))).client;
    const byKey = (vnf: string, key: string): FlowStats => atKill.get(vnf)!.find((f) => ownedKey(f) === key)!;
    const deleted = byKey('fw1', ackedKeys.get('fw1')![0]!);
    const modified = byKey('fw1', ackedKeys.get('fw1')![1]!);
    const strayFw1 = flowMod({ tableId: phys(fw1, 3), priority: 4321, match: [{ field: 'in_port', value: 2 }], actions: [output(1)] });
    const strayLb1 = flowMod({ tableId: 0, priority: 999, match: [{ field: 'in_port', value: 4 }], actions: [output(3)] });
    fw1Nic.send({ ...strict(deleted, OFPFC.DELETE_STRICT), xid: fw1Nic.xid() });
    fw1Nic.send({ ...strict(modified, OFPFC.MODIFY_STRICT, [{ type: OFPIT.APPLY_ACTIONS, actions: [output(1)] }]), xid: fw1Nic.xid() });
    fw1Nic.send({ ...strayFw1, cookie: 0xbadn, xid: fw1Nic.xid() });
    lb1Nic.send({ ...strayLb1, cookie: 0xbadn, xid: lb1Nic.xid() });
    await Promise.all([fw1Nic.barrier(), lb1Nic.barrier()]);
    expect([...fw1Nic.errors(), ...lb1Nic.errors()]).toEqual([]);
    const tampered = await dumpFlows(fw1Nic);
    expect(tampered.some((f) => ownedKey(f) === ownedKey(deleted))).toBe(false);
    expect(tampered.find((f) => ownedKey(f) === ownedKey(modified))!.instructions).not.toEqual(modified.instructions);
    await standIn.close();
    standIn = undefined;

    // ---- restart: the same data directory and configuration, the NIC port as bound before ----
    const connectsBefore = vnfController.sessions.filter((s) => s.datapathId === dpid(lb1)).length;
    ctl = await startController({ dataDir: dir, env: { ...env, NICVISOR_OF_PORT: String(ofPort) } });

    // Instances, ownership layout and quotas are back, and connected.
    await until(async () => ((await api('GET', '/v1/instances')).body as Array<{ connected: boolean }>).every((i) => i.connected), 'every instance connected', 30_000);
    expect((await api('GET', '/v1/instances')).body).toEqual(instancesBefore);
    expect((await api('GET', '/v1/tenants')).body).toEqual(tenantsBefore);

    // Reconciled: read through the controller's live NIC sessions.
    type Owned = { owner: string | null; flow: FlowStats };
    const physical = async (vnf: string): Promise<Owned[]> => (await api('GET', `/v1/instances/${vnf}/flows`)).body as Owned[];
    const after = new Map<string, Owned[]>();
    for (const vnf of insts.keys()) after.set(vnf, await physical(vnf));
    for (const [vnf, keys] of ackedKeys) {
      const present = new Set(after.get(vnf)!.map((f) => ownedKey(f.flow)));
      expect(keys.filter((k) => !present.has(k))).toEqual([]);
      expect(after.get(vnf)!.filter((f) => f.owner === null)).toEqual([]);
    }
    const fw1After = after.get('fw1')!;
    expect(fw1After.some((f) => f.flow.priority === strayFw1.priority)).toBe(false);
    expect(after.get('lb1')!.some((f) => f.flow.priority === strayLb1.priority)).toBe(false);
    const unackedPresentAfter = [...unackedKeys].reduce((n, [vnf, keys]) => n + keys.filter((k) => after.get(vnf)!.some((f) => ownedKey(f.flow) === k)).length, 0);

    // The listen-mode vNF reconnects on the same port and sees its flows in its own view.
    const again = await VnfClient.open(portOf(fw1.channel.endpoint));
    clients.push(again);
    const view = await dumpFlows(again);
    const priorities = (fs: Array<{ tableId: number; priority: number }>, t: number): number[] => fs.filter((f) => f.tableId === t).map((f) => f.priority).sort();
    expect(priorities(view, 1)).toEqual(priorities(fw1After.map((f) => f.flow), phys(fw1, 1)));
    again.send({ ...flowMod({ tableId: 2, priority: 60, actions: [output(1)] }), xid: again.xid() });
    await again.barrier();
    expect(again.errors()).toEqual([]);

    // The connect-mode vNF's controller was redialled: a new HELLO and FEATURES exchange.
    await until(() => vnfController!.sessions.filter((s) => s.datapathId === dpid(lb1)).length > connectsBefore, 'lb1 redialled', 30_000);
    const redialled = (await vnfController.session(dpid(lb1))).client;
    expect(redialled).not.toBe(c2);
    redialled.send({ ...flowMod({ tableId: 3, priority: 60, actions: [output(3)] }), xid: redialled.xid() });
    await redialled.barrier();
    expect(redialled.errors()).toEqual([]);

    // The quota counts what was restored: fw2 is at its 3 flows.
    const c3again = await VnfClient.open(portOf(fw2.channel.endpoint));
    clients.push(c3again);
    const refused = await c3again.request(flowMod({ tableId: 0, priority: 20, match: [{ field: 'in_port', value: 5 }], actions: [output(5)] }));
    expect(refused).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.TABLE_FULL });

    const finalView = new Map<string, string[]>();
    for (const vnf of insts.keys()) finalView.set(vnf, (await physical(vnf)).map((f) => ownedKey(f.flow)).sort());
    for (const c of clients.splice(0)) c.close();
    await ctl.stop();
    ctl = undefined;

    // ---- the emulator, read directly once more, and the shadow the controller persisted: the same flows ----
    standIn = await listenOn(ofPort);
    const store = Store.openDataDir(dir);
    try {
      for (const [vnf, inst] of insts) {
        const flows = await dumpFlows((await standIn.session(dpid(inst))).client);
        const shadow = store.shadow.flowsOf(vnf).map((f) => fullKey(decodeMessage(f.flowMod) as FlowMod)).sort();
        expect(flows.map(fullKey).sort()).toEqual(shadow);
        expect(flows.map(ownedKey).sort()).toEqual(finalView.get(vnf));
        expect(ackedKeys.get(vnf)!.filter((k) => !flows.some((f) => ownedKey(f) === k))).toEqual([]);
        if (vnf === 'fw1') expect(flows.find((f) => ownedKey(f) === ownedKey(modified))!.instructions).toEqual(modified.instructions);
      }
    } finally {
      store.close();
    }

    const ackedTotal = [...ackedKeys.values()].reduce((n, k) => n + k.length, 0);
    const unackedTotal = [...unackedKeys.values()].reduce((n, k) => n + k.length, 0);
    console.log(
      `crash: ${ackedTotal} flows acknowledged before SIGKILL, ${ackedTotal} present after restart; ` +
        `${unackedTotal} sent unacknowledged: ${unackedOnNicAtKill} on the NIC at the kill, ${unackedPresentAfter} kept (in the shadow), ` +
        `${unackedOnNicAtKill - unackedPresentAfter} removed by reconciliation with the 2 stray flows; 1 deleted flow reinstalled, 1 modified flow restored`,
    );
  }, 180_000);
});
