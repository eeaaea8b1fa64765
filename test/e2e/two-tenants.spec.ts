/**
 * Two tenants, three vNFs on one embedded emulated NIC, everything through
 * the public surfaces: instances created over REST; each vNF programs its
 * instance through its own delegated channel with the project's codec as an
 * unmodified OpenFlow client; the emulator read directly to see what is
 * really installed.
 *
 *   acme:   fw1 (NIC ports 1,2), fw2 (ports 3,4) — default layout, virtual tables
 *   globex: lb1 (ports 5,6) — operator tables 0 and 7, tenant 1..6, physical ids
 *
 * Allowed operations land in the emulator and show in the API; each forbidden
 * one gets its exact error (with the vNF's xid and bytes) and changes nothing
 * of anyone (every instance, operator tables included, compared before and
 * after); a channel killed mid-stream leaks nothing; packet-ins reach only the
 * owning vNF. Last, where Debian's python3-os-ken is installed, an unmodified
 * os-ken app in connect mode writes table 0 of its view (physical table 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodeMessage,
  OFPAT,
  OFPBAC,
  OFPBIC,
  OFPET,
  OFPFC,
  OFPFMFC,
  OFPGC,
  OFPGMFC,
  OFPGT,
  OFPP,
  OFPT,
  OFPTT,
  type GroupMod,
  type Match,
  type OfpMessage,
} from '@nicvisor/openflow';
import type { ControllerApp } from '../../apps/controller/src/app.module.js';
import { flowMod, output, sleep, udpFrame, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { DEBIAN_PYTHON as PYTHON, freePort, osKenManager, peerMissing } from '../interop/harness.js';
import { call, embeddedNic, emulatorFlows, flowKey, portOf, runtimeOf, startApp, until } from './helpers.js';

interface Vnf {
  vnf: string;
  datapathId: string;
  port: number;
  client: VnfClient;
}

let dir: string;
let app: ControllerApp;
const vnfs: Record<'fw1' | 'fw2' | 'lb1', Vnf> = {} as never;
const extraClients: VnfClient[] = [];

const ipv4To = (dst: string): Match => [
  { field: 'eth_type', value: 0x0800 },
  { field: 'ipv4_dst', value: dst },
];

/** Every instance's flows in the emulator and groups in the API: what "anyone's state" means here. */
async function everything(): Promise<Record<string, { flows: string[]; groups: unknown[] }>> {
  const out: Record<string, { flows: string[]; groups: unknown[] }> = {};
  for (const v of Object.values(vnfs)) {
    out[v.vnf] = {
      flows: emulatorFlows(app, v.datapathId).map(flowKey).sort(),
      groups: (await call(app, 'GET', `/v1/instances/${v.vnf}/groups`)).body,
    };
  }
  return out;
}

function group(groupId: number, port: number): GroupMod {
  return { type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.ADD, groupType: OFPGT.ALL, groupId, buckets: [{ weight: 0, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions: [output(port)] }] };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-tenants-'));
  app = await startApp(dir);
  const bodies = {
    fw1: { vnf: 'fw1', tenant: 'acme', ports: [1, 2] },
    fw2: { vnf: 'fw2', tenant: 'acme', ports: [3, 4] },
    lb1: { vnf: 'lb1', tenant: 'globex', ports: [5, 6], tables: { operator: [0, 7], tenant: [1, 2, 3, 4, 5, 6], virtual: false } },
  };
  for (const [name, body] of Object.entries(bodies) as Array<[keyof typeof vnfs, (typeof bodies)[keyof typeof bodies]]>) {
    const r = await call(app, 'POST', '/v1/instances', body);
    if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    const port = portOf(r.body.channel.endpoint);
    vnfs[name] = { vnf: name, datapathId: r.body.datapathId, port, client: await VnfClient.open(port) };
  }
});

afterAll(async () => {
  for (const v of Object.values(vnfs)) v.client.close();
  for (const c of extraClients) c.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('two tenants, three vNFs on one NIC', () => {
  it('the instances: one datapath each, the operator\'s steering flows in physical table 0', async () => {
    expect(new Set(Object.values(vnfs).map((v) => v.datapathId)).size).toBe(3);
    const tenants = (await call(app, 'GET', '/v1/tenants')).body;
    expect(tenants).toEqual([expect.objectContaining({ tenant: 'acme', vnfs: ['fw1', 'fw2'] }), expect.objectContaining({ tenant: 'globex', vnfs: ['lb1'] })]);
    for (const v of Object.values(vnfs)) {
      const flows = emulatorFlows(app, v.datapathId);
      expect(flows.map((f) => [f.tableId, f.priority])).toEqual([
        [0, 1],
        [0, 1],
      ]);
    }
  });

  it('allowed operations work, land in the emulator and show in the API, each in its own instance only', async () => {
    const { fw1, fw2, lb1 } = vnfs;
    // fw1 (virtual tables): table 0 of its view is physical table 1; goto 1 → physical 2.
    fw1.client.send({ ...flowMod({ tableId: 0, priority: 100, match: ipv4To('10.0.0.1'), goto: 1 }), xid: fw1.client.xid() });
    fw1.client.send({ ...flowMod({ tableId: 1, priority: 10, actions: [output(2)] }), xid: fw1.client.xid() });
    // fw2: a group of its own, used by a flow (the NIC would refuse the flow without the group).
    fw2.client.send({ ...group(1, 4), xid: fw2.client.xid() });
    fw2.client.send({ ...flowMod({ tableId: 0, priority: 20, match: [{ field: 'in_port', value: 3 }], actions: [{ type: OFPAT.GROUP, groupId: 1 }] }), xid: fw2.client.xid() });
    // lb1 (physical ids): its first table is 1.
    lb1.client.send({ ...flowMod({ tableId: 1, priority: 30, match: [{ field: 'in_port', value: 5 }], actions: [output(6)] }), xid: lb1.client.xid() });
    await Promise.all(Object.values(vnfs).map((v) => v.client.barrier()));
    for (const v of Object.values(vnfs)) expect(v.client.errors()).toEqual([]);

    const phys = (v: Vnf) => emulatorFlows(app, v.datapathId).filter((f) => f.tableId > 0).map((f) => [f.tableId, f.priority]).sort();
    expect(phys(fw1)).toEqual([
      [1, 100],
      [2, 10],
    ]);
    expect(emulatorFlows(app, fw1.datapathId).find((f) => f.priority === 100)!.instructions).toEqual([{ type: 1, tableId: 2 }]);
    expect(phys(fw2)).toEqual([[1, 20]]);
    expect(phys(lb1)).toEqual([[1, 30]]);

    const api = await call(app, 'GET', '/v1/instances/fw1/flows');
    expect(api.body.filter((f: { owner: string }) => f.owner === 'tenant:acme').map((f: { flow: { tableId: number } }) => f.flow.tableId).sort()).toEqual([1, 2]);
    expect(api.body.filter((f: { owner: string }) => f.owner === 'operator')).toHaveLength(2);
    const view = await call(app, 'GET', '/v1/instances/fw1/flows?view=vnf');
    expect(view.body.map((f: { flow: { tableId: number } }) => f.flow.tableId).sort()).toEqual([0, 1]);
    const groups = await call(app, 'GET', '/v1/instances/fw2/groups');
    expect(groups.body).toEqual([expect.objectContaining({ owner: 'tenant:acme', groupId: 1 })]);
    expect((await call(app, 'GET', '/v1/instances/lb1/flows')).body.filter((f: { owner: string }) => f.owner === 'tenant:globex')).toHaveLength(1);
  });

  const forbidden: Array<{ name: string; who: keyof typeof vnfs; msg: () => OfpMessage; errorType: number; code: number }> = [
    { name: "output to another vNF's port (same tenant) → OFPBAC_BAD_OUT_PORT", who: 'fw1', msg: () => flowMod({ tableId: 0, priority: 7, actions: [output(3)] }), errorType: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT },
    { name: "output to another tenant's port → OFPBAC_BAD_OUT_PORT", who: 'lb1', msg: () => flowMod({ tableId: 1, priority: 7, actions: [output(1)] }), errorType: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT },
    { name: 'a table outside the view (virtual 63 of 0..62) → OFPFMFC_BAD_TABLE_ID', who: 'fw2', msg: () => flowMod({ tableId: 63, priority: 7, actions: [output(4)] }), errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID },
    { name: 'a table outside the view (physical 8 of 0..7) → OFPFMFC_BAD_TABLE_ID', who: 'lb1', msg: () => flowMod({ tableId: 8, priority: 7, actions: [output(6)] }), errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID },
    { name: "a visible table it does not own (the operator's table 0) → OFPFMFC_EPERM", who: 'lb1', msg: () => flowMod({ tableId: 0, priority: 7, actions: [output(6)] }), errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.EPERM },
    { name: "goto into the operator's table 7 → OFPBIC_BAD_TABLE_ID", who: 'lb1', msg: () => flowMod({ tableId: 1, priority: 7, goto: 7 }), errorType: OFPET.BAD_INSTRUCTION, code: OFPBIC.BAD_TABLE_ID },
    { name: 'a group id in the operator range → OFPGMFC_EPERM', who: 'fw2', msg: () => group(0xf0000001, 4), errorType: OFPET.GROUP_MOD_FAILED, code: OFPGMFC.EPERM },
  ];

  it.each(forbidden)('$name, and nobody\'s state changes', async ({ who, msg, errorType, code }) => {
    const c = vnfs[who].client;
    const before = await everything();
    const m = { ...msg(), xid: c.xid() } as OfpMessage;
    c.send(m);
    const e = await c.waitFor((r) => r.type === OFPT.ERROR && r.xid === m.xid);
    expect(e).toMatchObject({ errorType, code });
    expect((e as { data: Buffer }).data).toEqual(encodeMessage(m).subarray(0, 64));
    await c.barrier();
    expect(await everything()).toEqual(before);
    // The channel stays up.
    expect(await c.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
  });

  it('denied mutations are in the audit log, by vNF and tenant', async () => {
    const audit = (await call(app, 'GET', '/v1/audit?tenant=globex')).body as Array<{ vnf: string; action: string; result: string; actor: string }>;
    const denied = audit.filter((a) => a.result === 'denied');
    expect(denied.map((a) => [a.vnf, a.action, a.actor])).toEqual(Array.from({ length: 4 }, () => ['lb1', 'openflow.flow-mod', 'openflow lb1']));
    const fw2 = (await call(app, 'GET', '/v1/audit?vnf=fw2')).body as Array<{ action: string; result: string }>;
    expect(fw2.filter((a) => a.result === 'denied').map((a) => a.action).sort()).toEqual(['openflow.flow-mod', 'openflow.group-mod']);
    expect(fw2.some((a) => a.action === 'openflow.group-mod' && a.result === 'ok')).toBe(true);
  });

  it('an OFPTT_ALL delete is narrowed to the tenant\'s tables: the operator\'s table 0 and the other vNFs are untouched', async () => {
    const { fw1 } = vnfs;
    const before = await everything();
    const errorsBefore = fw1.client.errors().length;
    fw1.client.send({ ...flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE }), xid: fw1.client.xid() });
    await fw1.client.barrier();
    expect(fw1.client.errors()).toHaveLength(errorsBefore);
    const after = await everything();
    expect(emulatorFlows(app, fw1.datapathId).map((f) => [f.tableId, f.priority])).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(after.fw1.flows).toEqual(before.fw1.flows.filter((k) => JSON.parse(k).t === 0));
    expect(after.fw2).toEqual(before.fw2);
    expect(after.lb1).toEqual(before.lb1);
  });

  it('a vNF channel killed mid-stream leaks nothing; the other vNFs carry on', async () => {
    const { fw1, fw2, lb1 } = vnfs;
    const core = runtimeOf(app).core;
    const ch = core.channel('fw2')!;
    const connectionsBefore = ch.connections.size;
    const othersBefore = await everything();
    const dpid = BigInt(`0x${fw2.datapathId}`);

    const k = await VnfClient.open(fw2.port);
    await until(() => ch.connections.size === connectionsBefore + 1, 'the new connection');
    const burst: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      burst.push(encodeMessage({ ...flowMod({ tableId: 2, priority: 40, match: [{ field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: `10.7.${i >> 8}.${i & 255}` }], actions: [output(4)] }), xid: i + 1 }));
    }
    const half = encodeMessage(flowMod({ tableId: 2, priority: 41, actions: [output(4)] }));
    k.socket.write(Buffer.concat([...burst, half.subarray(0, 30)]));
    k.socket.destroy();

    await until(() => ch.connections.size === connectionsBefore, 'the killed connection to be released');
    // Whatever of the burst reached the NIC is in the shadow, and nothing else: the two agree once settled.
    await fw2.client.barrier();
    await until(() => emulatorFlows(app, fw2.datapathId).length === core.shadow.flows(dpid).length, 'the shadow and the emulator to agree');
    const onNic = emulatorFlows(app, fw2.datapathId).map(flowKey).sort();
    expect(core.shadow.flows(dpid).map((f) => flowKey(f)).sort()).toEqual(onNic);
    expect(emulatorFlows(app, fw2.datapathId).some((f) => f.priority === 41)).toBe(false);

    // The others: untouched, and still working.
    const after = await everything();
    expect(after.fw1).toEqual(othersBefore.fw1);
    expect(after.lb1).toEqual(othersBefore.lb1);
    for (const v of [fw1, lb1, fw2]) {
      expect(await v.client.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
    }
    // What the killed connection installed is the vNF's, not a leak: it deletes it through another connection.
    const errorsBefore = fw2.client.errors().length;
    fw2.client.send({ ...flowMod({ tableId: 2, command: OFPFC.DELETE }), xid: fw2.client.xid() });
    await fw2.client.barrier();
    expect(fw2.client.errors()).toHaveLength(errorsBefore);
    expect(emulatorFlows(app, fw2.datapathId).some((f) => f.priority === 40)).toBe(false);
    expect(core.shadow.flows(dpid).some((f) => f.priority === 40)).toBe(false);
  });

  it('packet-ins reach only the owning vNF', async () => {
    const { fw1, fw2, lb1 } = vnfs;
    const count = (c: VnfClient) => c.got.filter((m) => m.type === OFPT.PACKET_IN).length;
    const before = { fw1: count(fw1.client), fw2: count(fw2.client), lb1: count(lb1.client) };
    fw1.client.send({ ...flowMod({ tableId: 0, priority: 500, match: [{ field: 'in_port', value: 1 }], actions: [output(OFPP.CONTROLLER)] }), xid: fw1.client.xid() });
    lb1.client.send({ ...flowMod({ tableId: 1, priority: 500, match: [{ field: 'in_port', value: 5 }], actions: [output(OFPP.CONTROLLER)] }), xid: lb1.client.xid() });
    await Promise.all([fw1.client.barrier(), lb1.client.barrier()]);

    const nic = embeddedNic(app).nic;
    nic.inject(1, udpFrame('10.1.1.1'));
    await until(() => count(fw1.client) === before.fw1 + 1, 'fw1\'s packet-in');
    const pi1 = fw1.client.got.filter((m) => m.type === OFPT.PACKET_IN).at(-1)!;
    expect(pi1).toMatchObject({ tableId: 0, reason: 1 }); // its view's table 0

    nic.inject(5, udpFrame('10.1.1.2'));
    await until(() => count(lb1.client) === before.lb1 + 1, 'lb1\'s packet-in');
    expect(lb1.client.got.filter((m) => m.type === OFPT.PACKET_IN).at(-1)).toMatchObject({ tableId: 1 }); // physical ids

    // fw2's port 3 has no flow to the controller: nothing for anyone.
    nic.inject(3, udpFrame('10.1.1.3'));
    await sleep(100);
    expect({ fw1: count(fw1.client), fw2: count(fw2.client), lb1: count(lb1.client) }).toEqual({ fw1: before.fw1 + 1, fw2: before.fw2, lb1: before.lb1 + 1 });
  });
});

// ---------------------------------------------------------------------------
// An unmodified os-ken app (Debian's python3-os-ken) in connect mode.

describe('an unmodified os-ken app in connect mode', () => {
  const manager = osKenManager();
  if (manager === undefined) {
    peerMissing(`python3-os-ken (${PYTHON} -c 'import os_ken', osken-manager)`, 'apt-get install -y python3-os-ken');
    return;
  }

  let osken: ChildProcess | undefined;
  let log = '';
  afterAll(async () => {
    if (osken?.pid !== undefined && osken.exitCode === null && osken.signalCode === null) {
      const exited = new Promise((r) => osken!.once('exit', r));
      process.kill(osken.pid, 'SIGTERM');
      const t = setTimeout(() => osken?.pid !== undefined && process.kill(osken.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  });

  it('writes table 0 of its view; the flow lands in physical table 1 of its instance', async () => {
    const port = await freePort();
    const appFile = fileURLToPath(new URL('./osken_table0_app.py', import.meta.url));
    osken = spawn(manager, ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), appFile], {
      env: { ...process.env, NICVISOR_OUT_PORT: '7', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    osken.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    osken.stderr!.on('data', (c: Buffer) => (log += c.toString()));

    // nicvisor dials it (with backoff, so os-ken may come up after the instance).
    const r = await call(app, 'POST', '/v1/instances', { vnf: 'ids1', tenant: 'globex', ports: [7], channel: { mode: 'connect', target: `tcp:127.0.0.1:${port}` } });
    expect(r.status).toBe(201);
    expect(r.body.channel).toEqual({ mode: 'connect', endpoint: `tcp:127.0.0.1:${port}` });

    const landed = () => emulatorFlows(app, r.body.datapathId).filter((f) => f.tableId === 1 && f.priority === 10);
    try {
      await until(() => landed().length === 1, 'the os-ken app\'s flow in physical table 1', 20_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; os-ken said:\n${log}`);
    }
    const f = landed()[0]!;
    expect(f.match).toEqual(expect.arrayContaining([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.1' }]));
    expect(f.instructions).toEqual([{ type: 4, actions: [expect.objectContaining({ type: 0, port: 7 })] }]);
    const view = await call(app, 'GET', '/v1/instances/ids1/flows?view=vnf');
    expect(view.body.map((x: { owner: string; flow: { tableId: number; priority: number } }) => [x.owner, x.flow.tableId, x.flow.priority])).toEqual([['tenant:globex', 0, 10]]);
    // The other instances saw nothing of it.
    for (const v of Object.values(vnfs)) expect(emulatorFlows(app, v.datapathId).some((x) => x.priority === 10 && x.match.length === 2)).toBe(false);
    await until(() => /barrier reply/.test(log), 'os-ken to get its barrier reply', 5000);
  }, 40_000);
});
