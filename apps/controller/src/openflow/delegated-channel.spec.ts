/**
 * End to end over real TCP on ephemeral ports: the controller core with the
 * embedded SmartNic (its instances dial the core's NIC listener), and vNF
 * clients built from the project's codec on the delegated channels.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createServer, Server, Socket } from 'node:net';
import { promisify } from 'node:util';
import {
  encodeMessage,
  FlowStats,
  MultipartReply,
  OFPBAC,
  OFPBIC,
  OFPBMC,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPFC,
  OFPFF,
  OFPFMFC,
  OFPG,
  OFPIT,
  OFPMP,
  OFPP,
  OFPPMFC,
  OFPPR,
  OFPPS,
  OFPRR,
  OFPT,
  OFPTFFC,
  OFPTMFC,
  OFPTT,
  ourHello,
} from '@nicvisor/openflow';
import { createOwnership, Ownership } from '@nicvisor/tenancy';
import { EmbeddedNicDriver } from '../nic/embedded-driver.js';
import { OpenflowCore, OPERATOR_STEERING_COOKIE } from './core.js';
import { VnfChannel } from './delegated-channel.js';
import { flowMod, output, sleep, udpFrame, VnfClient } from './spec-helpers.js';

const run = promisify(execFile);
const N_TABLES = 8;

interface Vnf {
  own: Ownership;
  dpid: bigint;
  ch: VnfChannel;
  port: number;
}

let core: OpenflowCore;
let driver: EmbeddedNicDriver;
const clients: VnfClient[] = [];

async function client(v: Vnf): Promise<VnfClient> {
  const c = await VnfClient.open(v.port);
  clients.push(c);
  return c;
}

async function allocate(vnf: string, tenant: string, dpid: bigint, ports: number[], extra: Partial<Parameters<typeof createOwnership>[0]> = {}): Promise<Vnf> {
  await driver.createInstance({ vnf, datapathId: dpid, ports, nTables: N_TABLES });
  const r = createOwnership({ vnf, tenant, ports, tableCount: N_TABLES, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  await core.waitReady(dpid);
  await core.installOperatorFlows(r.ownership, dpid);
  const ch = await core.openChannel(r.ownership, dpid, { mode: 'listen', port: 0 });
  return { own: r.ownership, dpid, ch, port: Number(ch.endpoint.split(':')[2]) };
}

function nicFlows(dpid: bigint): FlowStats[] {
  return driver.nic
    .getInstance(dpid)
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
}

let fw1: Vnf;
let fw2: Vnf;
let lb1: Vnf;

beforeAll(async () => {
  core = new OpenflowCore({ listener: { port: 0 } });
  await core.start();
  driver = new EmbeddedNicDriver({ controllerTarget: () => core.nicTarget, tickIntervalMs: 0 });
  fw1 = await allocate('fw1', 'acme', 0x101n, [1, 2]);
  fw2 = await allocate('fw2', 'acme', 0x102n, [3, 4]);
  lb1 = await allocate('lb1', 'globex', 0x201n, [5, 6], { quotas: { maxFlows: 5 } });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await core.stop();
  await driver.close();
});

describe('operator steering flows', () => {
  it('table 0 holds priority=1,in_port=P,goto_table:1 per port with the operator cookie, and nothing else', () => {
    const t0 = nicFlows(fw1.dpid).filter((f) => f.tableId === 0);
    expect(t0).toHaveLength(2);
    for (const f of t0) {
      expect(f.priority).toBe(1);
      expect(f.cookie).toBe(OPERATOR_STEERING_COOKIE);
      expect(f.instructions).toEqual([{ type: OFPIT.GOTO_TABLE, tableId: 1 }]);
    }
    expect(t0.map((f) => f.match).sort((a, b) => Number((a[0] as { value: number }).value) - Number((b[0] as { value: number }).value))).toEqual([
      [{ field: 'in_port', value: 1 }],
      [{ field: 'in_port', value: 2 }],
    ]);
    expect(core.shadow.flowCount(fw1.dpid, 'operator')).toBe(2);
  });
});

describe('delegated channel: the vNF sees its own switch', () => {
  it('FEATURES: its datapath id, n_tables of its view; PORT_DESC: only its ports; GET_CONFIG per connection', async () => {
    const c = await client(fw1);
    const f = await c.request({ type: OFPT.FEATURES_REQUEST, xid: 0 });
    expect(f).toMatchObject({ type: OFPT.FEATURES_REPLY, datapathId: 0x101n, nTables: N_TABLES - 1, nBuffers: 0 });
    const pd = (await c.request({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.PORT_DESC } })) as MultipartReply;
    expect(pd.body.mpType).toBe(OFPMP.PORT_DESC);
    expect((pd.body as { entries: Array<{ portNo: number }> }).entries.map((p) => p.portNo)).toEqual([1, 2]);
    c.send({ type: OFPT.SET_CONFIG, xid: c.xid(), flags: 0, missSendLen: 200 });
    expect(await c.request({ type: OFPT.GET_CONFIG_REQUEST, xid: 0 })).toMatchObject({ missSendLen: 200 });
    const other = await client(fw1);
    expect(await other.request({ type: OFPT.GET_CONFIG_REQUEST, xid: 0 })).toMatchObject({ missSendLen: 128 });
    const echo = await c.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.from('hi') });
    expect(echo).toMatchObject({ type: OFPT.ECHO_REPLY, data: Buffer.from('hi') });
  });

  it('TABLE_FEATURES: only owned tables, renumbered, each with the 8 required properties, NEXT_TABLES narrowed', async () => {
    const c = await client(fw1);
    const xid = c.xid();
    c.send({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body: { mpType: OFPMP.TABLE_FEATURES, entries: [] } });
    const parts = (await c.replies(xid)) as MultipartReply[];
    const entries = parts.flatMap((p) => (p.body as { entries: Array<{ tableId: number; properties: Array<{ type: number; nextTableIds?: number[] }> }> }).entries);
    expect(entries.map((e) => e.tableId)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const e of entries) {
      expect(new Set(e.properties.map((p) => p.type))).toEqual(new Set([0, 2, 4, 6, 8, 10, 12, 14]));
      const next = e.properties.find((p) => p.type === 2)!.nextTableIds!;
      expect(next.every((t) => t > e.tableId && t < N_TABLES - 1)).toBe(true);
    }
    // Setting features is the operator's.
    const set = await c.request({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.TABLE_FEATURES, entries: [{ tableId: 0, name: 'x', metadataMatch: 0n, metadataWrite: 0n, config: 0, maxEntries: 1, properties: [] }] } });
    expect(set).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.TABLE_FEATURES_FAILED, code: OFPTFFC.EPERM });
  });

  it('a flow-mod to table 0 of the view lands in physical table 1; goto is translated; flow stats come back in view terms', async () => {
    const c = await client(fw1);
    c.send({ ...flowMod({ tableId: 0, priority: 100, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.9' }], goto: 2 }), xid: c.xid() });
    c.send({ ...flowMod({ tableId: 2, priority: 5, actions: [output(2)] }), xid: c.xid() });
    await c.barrier();
    expect(c.errors()).toEqual([]);
    const phys = nicFlows(fw1.dpid).filter((f) => f.priority === 100);
    expect(phys).toHaveLength(1);
    expect(phys[0].tableId).toBe(1);
    expect(phys[0].instructions).toEqual([{ type: OFPIT.GOTO_TABLE, tableId: 3 }]);
    expect(nicFlows(fw1.dpid).some((f) => f.tableId === 3 && f.priority === 5)).toBe(true);
    // The shadow recorded them as the vNF's.
    expect(core.shadow.flows(fw1.dpid).filter((f) => f.owner === 'fw1')).toHaveLength(2);
    // Flow stats in view terms, the operator's table 0 hidden.
    const xid = c.xid();
    c.send({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body: { mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] } });
    const parts = (await c.replies(xid)) as MultipartReply[];
    const seen = parts.flatMap((p) => (p.body as { entries: FlowStats[] }).entries);
    expect(seen.map((f) => [f.tableId, f.priority]).sort()).toEqual([
      [0, 100],
      [2, 5],
    ]);
    expect(seen.find((f) => f.priority === 100)!.instructions).toEqual([{ type: OFPIT.GOTO_TABLE, tableId: 2 }]);
  });

  it('an output to a port that is not the instance\'s → OFPBAC_BAD_OUT_PORT with the vNF\'s xid and bytes; nothing changes', async () => {
    const c = await client(fw1);
    const before = nicFlows(fw1.dpid).length;
    const before2 = nicFlows(fw2.dpid).length;
    const fm = { ...flowMod({ tableId: 0, priority: 7, actions: [output(3)] }), xid: 4242 };
    c.send(fm);
    const e = await c.waitFor((m) => m.type === OFPT.ERROR && m.xid === 4242);
    expect(e).toMatchObject({ errorType: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT });
    expect((e as { data: Buffer }).data).toEqual(encodeMessage(fm).subarray(0, 64));
    await c.barrier();
    expect(nicFlows(fw1.dpid).length).toBe(before);
    expect(nicFlows(fw2.dpid).length).toBe(before2);
    // The channel stays up.
    expect(await c.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
  });

  it('a table outside the view → OFPFMFC_BAD_TABLE_ID; goto outside → OFPBIC_BAD_TABLE_ID', async () => {
    const c = await client(fw1);
    const r = await c.request(flowMod({ tableId: N_TABLES - 1, actions: [output(1)] }));
    expect(r).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID });
    const g = await c.request(flowMod({ tableId: 1, goto: N_TABLES - 1 }));
    expect(g).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.BAD_INSTRUCTION, code: OFPBIC.BAD_TABLE_ID });
  });

  it('an error from the NIC comes back with the vNF\'s xid and bytes', async () => {
    const c = await client(fw1);
    // ipv4_dst without eth_type: the policy lets it through, the NIC refuses the prerequisite.
    const fm = { ...flowMod({ tableId: 1, match: [{ field: 'ipv4_dst', value: '10.1.1.1' }], actions: [output(1)] }), xid: 777 };
    c.send(fm);
    const e = await c.waitFor((m) => m.type === OFPT.ERROR && m.xid === 777);
    expect(e).toMatchObject({ errorType: OFPET.BAD_MATCH, code: OFPBMC.BAD_PREREQ });
    expect((e as { data: Buffer }).data).toEqual(encodeMessage(fm).subarray(0, 64));
    await c.barrier();
    expect(core.shadow.flows(fw1.dpid).some((f) => f.match.some((m) => 'field' in m && m.field === 'ipv4_dst' && m.value === '10.1.1.1'))).toBe(false);
  });

  it('experimenter messages → OFPBRC_BAD_EXPERIMENTER; replies keep their xids unchanged', async () => {
    const c = await client(fw1);
    const r = await c.request({ type: OFPT.EXPERIMENTER, xid: 0, experimenter: 0x2320, expType: 10, data: Buffer.alloc(4) });
    expect(r).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_EXPERIMENTER });
    const x = 0xfffffff0;
    c.send({ type: OFPT.MULTIPART_REQUEST, xid: x, flags: 0, body: { mpType: OFPMP.DESC } });
    expect(await c.waitFor((m) => m.xid === x)).toMatchObject({ type: OFPT.MULTIPART_REPLY });
  });

  it('barrier: with nothing of the connection unconfirmed at the NIC, answered without asking it, still after earlier replies', async () => {
    const c = await client(fw2);
    await c.barrier(); // the HELLO exchange and anything earlier settled
    const session = core.readySession(fw2.dpid)!;
    // Counts the barriers nicvisor sends the NIC on this session.
    let asked = 0;
    const barrierThen = session.barrierThen.bind(session);
    session.barrierThen = (done, failed) => {
      asked++;
      barrierThen(done, failed);
    };
    try {
      // Nothing in flight: answered here.
      await c.barrier();
      expect(asked).toBe(0);
      // A request in flight at the NIC: the barrier is answered here too, but its reply waits for the request's.
      const statsXid = c.xid();
      c.send({ type: OFPT.MULTIPART_REQUEST, xid: statsXid, flags: 0, body: { mpType: OFPMP.DESC } });
      const bxid = c.xid();
      c.send({ type: OFPT.BARRIER_REQUEST, xid: bxid });
      await c.waitFor((m) => m.xid === bxid && m.type === OFPT.BARRIER_REPLY);
      expect(c.got.findIndex((m) => m.xid === statsXid)).toBeLessThan(c.got.findIndex((m) => m.xid === bxid));
      expect(asked).toBe(0);
      // A flow-mod right before it: the barrier goes to the NIC, and by its reply the flow is there and in the shadow.
      const before = core.shadow.flowCount(fw2.dpid, 'fw2');
      c.send(flowMod({ tableId: 0, priority: 21, match: [{ field: 'in_port', value: 3 }], actions: [output(4)] }));
      await c.barrier();
      expect(asked).toBe(1);
      expect(nicFlows(fw2.dpid).filter((f) => f.tableId === 1 && f.priority === 21)).toHaveLength(1);
      expect(core.shadow.flowCount(fw2.dpid, 'fw2')).toBe(before + 1);
      c.send(flowMod({ command: OFPFC.DELETE_STRICT, tableId: 0, priority: 21, match: [{ field: 'in_port', value: 3 }] }));
      await c.barrier();
      expect(core.shadow.flowCount(fw2.dpid, 'fw2')).toBe(before);
      expect(c.errors()).toEqual([]);
    } finally {
      session.barrierThen = barrierThen;
    }
  });

  it('barrier: replied only once everything before it is done on the NIC, in order with other replies', async () => {
    const c = await client(fw2);
    const n = 500;
    const xids: number[] = [];
    for (let i = 0; i < n; i++) {
      const xid = c.xid();
      xids.push(xid);
      c.send({ ...flowMod({ tableId: 0, priority: 20, match: [{ field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: `10.9.${i >> 8}.${i & 255}` }], actions: [output(4)] }), xid });
    }
    const statsXid = c.xid();
    c.send({ type: OFPT.MULTIPART_REQUEST, xid: statsXid, flags: 0, body: { mpType: OFPMP.AGGREGATE, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] } });
    const bxid = c.xid();
    c.send({ type: OFPT.BARRIER_REQUEST, xid: bxid });
    await c.waitFor((m) => m.xid === bxid && m.type === OFPT.BARRIER_REPLY);
    // By the barrier reply, every flow is on the NIC and in the shadow.
    expect(nicFlows(fw2.dpid).filter((f) => f.tableId === 1 && f.priority === 20)).toHaveLength(n);
    expect(core.shadow.flowCount(fw2.dpid, 'fw2')).toBe(n);
    // The aggregate reply (fanned out per owned table and merged) came before the barrier reply.
    const iAgg = c.got.findIndex((m) => m.xid === statsXid);
    const iBar = c.got.findIndex((m) => m.xid === bxid);
    expect(iAgg).toBeGreaterThanOrEqual(0);
    expect(iAgg).toBeLessThan(iBar);
    expect((c.got[iAgg] as MultipartReply).body).toMatchObject({ mpType: OFPMP.AGGREGATE, flowCount: n });
    expect(c.errors()).toEqual([]);
  });

  it('quota: flows beyond maxFlows → OFPFMFC_TABLE_FULL, counted on what is installed', async () => {
    const c = await client(lb1);
    for (let i = 0; i < 5; i++) c.send({ ...flowMod({ tableId: 0, priority: 30 + i, actions: [output(5)] }), xid: c.xid() });
    await c.barrier();
    expect(c.errors()).toEqual([]);
    const r = await c.request(flowMod({ tableId: 0, priority: 99, actions: [output(5)] }));
    expect(r).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.TABLE_FULL });
    // Deleting one frees a slot.
    c.send({ ...flowMod({ tableId: 0, priority: 30, command: 4 }), xid: c.xid() });
    await c.barrier();
    expect(core.shadow.flowCount(lb1.dpid, 'lb1')).toBe(4);
    c.send({ ...flowMod({ tableId: 0, priority: 99, actions: [output(5)] }), xid: c.xid() });
    await c.barrier();
    expect(c.errors().filter((e) => e.code === OFPFMFC.TABLE_FULL)).toHaveLength(1);
    expect(core.shadow.flowCount(lb1.dpid, 'lb1')).toBe(5);
  });

  it('a DELETE of OFPTT_ALL is narrowed to the vNF\'s tables: the operator\'s steering flows stay', async () => {
    const c = await client(lb1);
    c.send({ ...flowMod({ tableId: OFPTT.ALL, command: 3 }), xid: c.xid() });
    await c.barrier();
    expect(nicFlows(lb1.dpid).map((f) => f.tableId)).toEqual([0, 0]);
    expect(core.shadow.flowCount(lb1.dpid, 'lb1')).toBe(0);
    expect(core.shadow.flowCount(lb1.dpid, 'operator')).toBe(2);
  });
});

describe('flow expiry and the shadow', () => {
  // The NIC removes an expired flow on its own; nicvisor asks it to say so, whatever the vNF asked.
  const expiring = (priority: number, flags: number) => ({ ...flowMod({ tableId: 1, priority, match: [{ field: 'eth_type', value: 0x0800 }], actions: [output(2)] }), hardTimeout: 1, flags });

  it('a flow that times out leaves the shadow; its FLOW_REMOVED reaches the vNF only if it asked, in its view', async () => {
    const a = await client(fw1);
    const b = await client(fw2);
    const before = core.shadow.flowCount(fw1.dpid, 'fw1');
    a.send({ ...expiring(901, 0), xid: a.xid() });
    a.send({ ...expiring(902, OFPFF.SEND_FLOW_REM), xid: a.xid() });
    await a.barrier();
    expect(a.errors()).toEqual([]);
    expect(core.shadow.flowCount(fw1.dpid, 'fw1')).toBe(before + 2);
    // The NIC was asked for both removals; the shadow keeps the flags the vNF gave.
    const onNic = nicFlows(fw1.dpid).filter((f) => f.priority === 901 || f.priority === 902);
    expect(onNic.map((f) => f.flags & OFPFF.SEND_FLOW_REM)).toEqual([OFPFF.SEND_FLOW_REM, OFPFF.SEND_FLOW_REM]);
    expect(core.shadow.flows(fw1.dpid).filter((f) => f.priority === 901).map((f) => f.flags)).toEqual([0]);
    // The vNF's flow stats show the flags it gave.
    const xid = a.xid();
    a.send({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body: { mpType: OFPMP.FLOW, tableId: 1, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] } });
    const seen = ((await a.replies(xid)) as MultipartReply[]).flatMap((p) => (p.body as { entries: FlowStats[] }).entries);
    expect(seen.filter((f) => f.priority >= 901).map((f) => [f.priority, f.flags])).toEqual([
      [901, 0],
      [902, OFPFF.SEND_FLOW_REM],
    ]);
    await sleep(1100);
    driver.nic.tick();
    const fr = await a.waitFor((m) => m.type === OFPT.FLOW_REMOVED);
    expect(fr).toMatchObject({ priority: 902, tableId: 1, reason: OFPRR.HARD_TIMEOUT });
    await sleep(50);
    expect(a.got.filter((m) => m.type === OFPT.FLOW_REMOVED)).toHaveLength(1);
    expect(b.got.some((m) => m.type === OFPT.FLOW_REMOVED)).toBe(false);
    // Both are gone from the shadow, so neither counts against the quota nor comes back in a resync.
    expect(core.shadow.flowCount(fw1.dpid, 'fw1')).toBe(before);
    expect(core.shadow.flows(fw1.dpid).some((f) => f.priority === 901 || f.priority === 902)).toBe(false);
  });
});

describe('outputs stay within the instance', () => {
  it('FLOOD and ALL from a vNF\'s flow leave by its own ports only, never another instance\'s', async () => {
    const c = await client(fw2);
    const tx = () =>
      new Map(
        [fw1, fw2, lb1].flatMap((v) =>
          driver.nic
            .getInstance(v.dpid)
            .portStats(OFPP.ANY)
            .map((p): [number, bigint] => [p.portNo, p.txPackets]),
        ),
      );
    for (const reserved of [OFPP.FLOOD, OFPP.ALL]) {
      const fm = flowMod({ tableId: 0, priority: 600, match: [{ field: 'in_port', value: 3 }], actions: [output(reserved)] });
      c.send({ ...fm, xid: c.xid() });
      await c.barrier();
      expect(c.errors()).toEqual([]);
      const before = tx();
      driver.nic.inject(3, udpFrame());
      await sleep(20);
      const after = tx();
      // FLOOD and ALL both exclude the ingress port (§4.5): of fw2's ports 3 and 4, only 4 sends.
      for (const [port, n] of after) expect([port, n - before.get(port)!]).toEqual([port, port === 4 ? 1n : 0n]);
      c.send({ ...fm, command: OFPFC.DELETE_STRICT, instructions: [], xid: c.xid() });
      await c.barrier();
    }
  });
});

describe('denials through the channel', () => {
  it('a cookie in the operator\'s namespace → OFPFMFC_EPERM (the bytes fast path declines, the policy answers)', async () => {
    const c = await client(fw1);
    const fm = { ...flowMod({ tableId: 0, priority: 77, actions: [output(2)] }), cookie: OPERATOR_STEERING_COOKIE, xid: 7001 };
    const before = nicFlows(fw1.dpid).length;
    c.send(fm);
    const e = await c.waitFor((m) => m.type === OFPT.ERROR && m.xid === 7001);
    expect(e).toMatchObject({ type: OFPT.ERROR, xid: 7001, errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.EPERM });
    expect((e as { data: Buffer }).data).toEqual(encodeMessage(fm).subarray(0, 64));
    expect(nicFlows(fw1.dpid)).toHaveLength(before);
  });

  it('table-mod of a table it does not own → OFPTMFC_EPERM; port-mod of another vNF\'s port → OFPPMFC_EPERM', async () => {
    const c = await client(fw1);
    // With physical ids exposed, table 0 is visible and the operator's.
    const phys = await allocate('fw3', 'acme', 0x103n, [12], { tables: { virtual: false } });
    const p = await client(phys);
    expect(await p.request({ type: OFPT.TABLE_MOD, xid: 0, tableId: 0, config: 0 })).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.TABLE_MOD_FAILED, code: OFPTMFC.EPERM });
    expect(await c.request({ type: OFPT.PORT_MOD, xid: 0, portNo: 3, hwAddr: '00:00:00:00:00:03', config: 0, mask: 0, advertise: 0 })).toMatchObject({
      type: OFPT.ERROR,
      errorType: OFPET.PORT_MOD_FAILED,
      code: OFPPMFC.EPERM,
    });
    // The channel stays up.
    expect(await c.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
  });
});

describe('packet-in routing and roles', () => {
  it('a packet-in goes to the owning vNF with its virtual table id, to every non-slave connection, not to another vNF', async () => {
    const a1 = await client(fw1);
    const a2 = await client(fw1);
    const a3 = await client(fw1);
    const b = await client(fw2);
    // a1 master, then a2 master (a1 becomes slave), a3 stays equal.
    expect(await a1.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 10n })).toMatchObject({ type: OFPT.ROLE_REPLY, role: OFPCR_ROLE.MASTER });
    expect(await a2.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 11n })).toMatchObject({ role: OFPCR_ROLE.MASTER, generationId: 11n });
    expect(await a1.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.NOCHANGE, generationId: 0n })).toMatchObject({ role: OFPCR_ROLE.SLAVE });
    // A stale generation id is refused.
    expect(await a1.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 5n })).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.ROLE_REQUEST_FAILED });
    // A slave may not modify.
    expect(await a1.request(flowMod({ tableId: 0, actions: [output(1)] }))).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.BAD_REQUEST, code: OFPBRC.IS_SLAVE });
    // The master sends table-0 (view) traffic from port 1 to the controller.
    a2.send({ ...flowMod({ tableId: 0, priority: 500, match: [{ field: 'in_port', value: 1 }], actions: [output(OFPP.CONTROLLER)] }), xid: a2.xid() });
    await a2.barrier();
    expect(a2.errors()).toEqual([]);
    driver.nic.inject(1, udpFrame());
    const pi = await a2.waitFor((m) => m.type === OFPT.PACKET_IN);
    expect(pi).toMatchObject({ tableId: 0, reason: 1 });
    await a3.waitFor((m) => m.type === OFPT.PACKET_IN);
    await sleep(50);
    expect(a1.got.some((m) => m.type === OFPT.PACKET_IN)).toBe(false);
    expect(b.got.some((m) => m.type === OFPT.PACKET_IN)).toBe(false);
  });

  it('a port\'s status change reaches the vNF that has the port, and no other', async () => {
    const a = await client(fw1);
    const b = await client(fw2);
    driver.nic.setLinkDown(2, true);
    const ps = await a.waitFor((m) => m.type === OFPT.PORT_STATUS);
    expect(ps).toMatchObject({ reason: OFPPR.MODIFY, desc: { portNo: 2, state: OFPPS.LINK_DOWN } });
    driver.nic.setLinkDown(2, false);
    await a.waitFor((m) => m.type === OFPT.PORT_STATUS && (m.desc.state & OFPPS.LINK_DOWN) === 0);
    await sleep(50);
    expect(b.got.some((m) => m.type === OFPT.PORT_STATUS)).toBe(false);
  });

  it('a packet that no steering flow matches produces nothing (no table-miss in the operator table)', async () => {
    const c = await client(fw2);
    driver.nic.inject(4, udpFrame('10.9.9.9'));
    await sleep(50);
    expect(c.got.some((m) => m.type === OFPT.PACKET_IN)).toBe(false);
  });
});

describe('robustness', () => {
  it('garbage bytes close only that connection', async () => {
    const bad = await client(fw1);
    const good = await client(fw1);
    bad.socket.write(Buffer.from([0x04, 0x0e, 0x00, 0x02, 0, 0, 0, 1])); // length 2 < 8: unframeable
    for (let i = 0; i < 100 && !bad.closed; i++) await sleep(10);
    expect(bad.closed).toBe(true);
    expect(await good.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
    // A malformed but framed message is an error, and the connection stays.
    const m = encodeMessage(flowMod({ tableId: 1, actions: [output(1)] }));
    m.writeUInt16BE(0xffff, 48 + 2); // corrupt the match length
    good.socket.write(m);
    await good.waitFor((x) => x.type === OFPT.ERROR);
    expect(await good.request({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.alloc(0) })).toMatchObject({ type: OFPT.ECHO_REPLY });
  });
});

describe('resync on reconnect', () => {
  it('reinstalls what the NIC lost and removes what nobody owns, without the vNF noticing', async () => {
    const c = await client(fw2);
    const inst = driver.nic.getInstance(fw2.dpid);
    const before = nicFlows(fw2.dpid).length;
    // Behind nicvisor's back: one flow lost, one stray flow added.
    inst.flowMod({ ...flowMod({ tableId: 1, priority: 20, command: 4, match: [{ field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.9.0.0' }] }) });
    inst.flowMod(flowMod({ tableId: 5, priority: 1, actions: [output(3)] }));
    expect(nicFlows(fw2.dpid).length).toBe(before);
    await driver.reconnect(fw2.dpid);
    // The vNF keeps sending while the NIC is away; nothing is lost.
    c.send({ ...flowMod({ tableId: 3, priority: 77, actions: [output(4)] }), xid: c.xid() });
    await c.barrier(10_000);
    expect(c.errors()).toEqual([]);
    const after = nicFlows(fw2.dpid);
    expect(after.some((f) => f.tableId === 5 && f.priority === 1)).toBe(false);
    expect(after.some((f) => f.tableId === 4 && f.priority === 77)).toBe(true);
    expect(after.length).toBe(before + 1);
    expect(core.lastResync.get(fw2.dpid)).toMatchObject({ flowsAdded: 1, flowsRemoved: 1 });
  });
});

describe('connect mode', () => {
  let server: Server;
  afterAll(() => server?.close());

  it('dials the vNF\'s controller like a switch, and redials after the connection drops', async () => {
    const accepted: Socket[] = [];
    server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await driver.createInstance({ vnf: 'ids1', datapathId: 0x301n, ports: [7], nTables: N_TABLES });
    const own = createOwnership({ vnf: 'ids1', tenant: 'globex', ports: [7], tableCount: N_TABLES });
    if (!own.ok) throw new Error('ownership');
    await core.waitReady(0x301n);
    await core.installOperatorFlows(own.ownership, 0x301n);
    const ch = await core.openChannel(own.ownership, 0x301n, { mode: 'connect', target: `tcp:127.0.0.1:${port}` });
    expect(ch.endpoint).toBe(`tcp:127.0.0.1:${port}`);
    for (let i = 0; i < 200 && accepted.length === 0; i++) await sleep(10);
    const c = VnfClient.fromSocket(accepted[0]);
    clients.push(c);
    c.send(ourHello(1));
    await c.waitFor((m) => m.type === OFPT.HELLO);
    expect(await c.request({ type: OFPT.FEATURES_REQUEST, xid: 0 })).toMatchObject({ datapathId: 0x301n });
    c.send({ ...flowMod({ tableId: 0, actions: [output(7)] }), xid: c.xid() });
    await c.barrier();
    expect(nicFlows(0x301n).some((f) => f.tableId === 1)).toBe(true);
    c.close();
    for (let i = 0; i < 300 && accepted.length < 2; i++) await sleep(10);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    await core.closeChannel('ids1');
    for (const s of accepted) s.destroy();
  });
});

describe('ovs-ofctl through a listen endpoint', () => {
  const haveOfctl = (() => {
    try {
      execFileSync('which', ['ovs-ofctl'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!haveOfctl && process.env.CI !== 'true') {
    it.skip('ovs-ofctl is not installed: skipped (CI=true makes this fail instead)', () => undefined);
    return;
  }

  it('add-flow and dump-flows work, in the vNF\'s view', async () => {
    if (!haveOfctl) throw new Error('CI=true but ovs-ofctl is not installed');
    const target = `tcp:127.0.0.1:${fw1.port}`;
    await run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', target, 'table=0,priority=10,ip,nw_dst=10.0.0.1,actions=output:2']);
    const phys = nicFlows(fw1.dpid).filter((f) => f.tableId === 1 && f.priority === 10);
    expect(phys).toHaveLength(1);
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', target]);
    expect(stdout).toMatch(/priority=10,ip,nw_dst=10\.0\.0\.1 actions=output:2/);
    expect(stdout).not.toMatch(/cookie=0x6e76/); // the operator's steering flows are not the vNF's to see
    // A forbidden port is refused with the spec's error, which ovs-ofctl prints.
    await expect(run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', target, 'table=0,priority=11,ip,actions=output:3'])).rejects.toThrow(/OFPBAC_BAD_OUT_PORT/);
  });
});

