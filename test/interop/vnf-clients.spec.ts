/**
 * Real vNF-side clients against the controller (a process, as `npm start`
 * runs it) with its embedded emulated NIC: two tenants, two vNFs, disjoint
 * NIC ports.
 *
 *   vA (acme, ports 1,2, listen):    ovs-ofctl 3.1 through its delegated channel
 *   vB (globex, ports 3,4, connect): an os-ken app (Debian python3-os-ken),
 *                                    test/interop/osken_reactive_app.py
 *
 * ovs-ofctl: add-flow with and without --no-names (without it, ovs-ofctl first
 * reads table features and port descriptions), dump-flows, dump-tables,
 * add-group, dump-group-stats, add-meter, dump-meters, packet-out (the frame
 * leaves NIC port 2: the port's counters) and monitor (packet-ins of a
 * packet-out to CONTROLLER and of a table-miss); each sees only vA's own
 * state, and vB's view is the same afterwards. Every command runs with its
 * OpenFlow conversation logged (-vvconn:dbg): any Nicira/ONF extension it
 * sends must be refused with OFPBRC_BAD_EXPERIMENTER (OVS calls it
 * OFPBRC_BAD_VENDOR), and the command still succeeds.
 *
 * os-ken (connect mode, nicvisor dials it): the app installs a table-miss to
 * CONTROLLER, a meter and a flood group; the first frame injected into NIC
 * port 3 (POST /v1/instances/:vnf/ports/:port/inject) reaches the app as a
 * packet-in of that table-miss, the app's packet-out sends it out of port 4
 * and its flow-mod makes the NIC forward the next frames by itself: the
 * flow's packet counter grows, the app gets no further packet-in.
 *
 * A missing peer is a skipped test saying so; with CI=true it fails.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Controller,
  DEBIAN_PYTHON,
  flowLines,
  have,
  injectFrame,
  type OfctlMessage,
  type OsKen,
  osKenManager,
  ovsMonitor,
  ovsOfctlTraced,
  peerMissing,
  startController,
  startOsKen,
  type TracedRun,
} from './harness.js';
import { call } from '../../apps/controller/src/spec-app.js';

const OFCTL = have('ovs-ofctl');
const OSKEN = osKenManager();

/** An Ethernet frame (EtherType 0x88b5, local experimental) carrying `tag`, padded to 60 bytes. */
function frame(src: string, dst: string, tag: string): Buffer {
  const f = Buffer.alloc(60);
  Buffer.from(dst.replace(/:/g, ''), 'hex').copy(f, 0);
  Buffer.from(src.replace(/:/g, ''), 'hex').copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  Buffer.from(tag, 'ascii').copy(f, 14);
  return f;
}

const MAC_X = '0a:00:00:00:00:0a';
const MAC_Y = '0a:00:00:00:00:0b';

/** Polls `get` until `ok` holds of its value; returns that value. */
async function poll<T>(get: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`);
    await new Promise((r) => setTimeout(r, 25));
    v = await get();
  }
  return v;
}

let ctl: Controller;
let osken: OsKen | undefined;
let endpointA: string;
let datapathB: string;
const oskenLog = join(tmpdir(), `nicvisor-osken-${process.pid}.jsonl`);

/** What a vNF sees of its own state (REST `?view=vnf`), counters and ages left out. */
async function vnfView(vnf: string): Promise<{ flows: unknown[]; groups: unknown[]; meters: unknown[] }> {
  const [flows, groups, meters] = await Promise.all(['flows', 'groups', 'meters'].map((k) => call(ctl.url, 'GET', `/v1/instances/${vnf}/${k}?view=vnf`)));
  const counters = new Set(['durationSec', 'durationNsec', 'packetCount', 'byteCount']);
  const stable = (f: { flow: Record<string, unknown> }): unknown => Object.fromEntries(Object.entries(f.flow).filter(([k]) => !counters.has(k)));
  return { flows: (flows!.body as Array<{ flow: Record<string, unknown> }>).map(stable), groups: groups!.body, meters: meters!.body };
}

/** txPackets per port of a vNF's instance (the NIC's port counters). */
async function txPackets(vnf: string): Promise<Record<number, number>> {
  const r = await call(ctl.url, 'GET', `/v1/instances/${vnf}/ports`);
  return Object.fromEntries((r.body as Array<{ portNo: number; txPackets: string }>).map((p) => [p.portNo, Number(p.txPackets)]));
}

interface OskenEvent {
  event: string;
  datapath?: string;
  table_id?: number;
  reason?: number;
  in_port?: number;
  eth_src?: string;
  eth_dst?: string;
}

function oskenEvents(): OskenEvent[] {
  let text = '';
  try {
    text = readFileSync(oskenLog, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as OskenEvent);
}

if (OFCTL || OSKEN !== undefined) {
  beforeAll(async () => {
    ctl = await startController();
    writeFileSync(oskenLog, '');
    if (OSKEN !== undefined) osken = await startOsKen(OSKEN, fileURLToPath(new URL('./osken_reactive_app.py', import.meta.url)), { NICVISOR_OSKEN_LOG: oskenLog });
    const a = await call(ctl.url, 'POST', '/v1/instances', { vnf: 'vA', tenant: 'acme', ports: [1, 2] });
    expect(a.status).toBe(201);
    endpointA = a.body.channel.endpoint;
    const b = await call(ctl.url, 'POST', '/v1/instances', { vnf: 'vB', tenant: 'globex', ports: [3, 4], ...(osken ? { channel: { mode: 'connect', target: osken.target } } : {}) });
    expect(b.status).toBe(201);
    datapathB = b.body.datapathId;
    if (osken !== undefined) {
      try {
        await poll(oskenEvents, (ev) => ev.some((e) => e.event === 'ready' && e.datapath === datapathB), "the os-ken app's set-up (its barrier reply)", 60_000);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nos-ken said:\n${osken.output()}`);
      }
    } else {
      // No os-ken: vB gets some state of its own through its channel, for the isolation checks.
      const endpointB = b.body.channel.endpoint as string;
      for (const args of [
        ['add-meter', endpointB, 'meter=1,kbps,band=type=drop,rate=10000000'],
        ['add-group', endpointB, 'group_id=1,type=all,bucket=output:3,bucket=output:4'],
        ['--no-names', 'add-flow', endpointB, 'table=0,priority=0,actions=CONTROLLER:65535'],
      ]) {
        expect(ovsOfctlTraced(args)).toMatchObject({ code: 0 });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await osken?.stop();
    await ctl?.stop();
    rmSync(oskenLog, { force: true });
  });
}

// ---------------------------------------------------------------------------
// ovs-ofctl as vA

/** ovs-ofctl's names of Nicira / ONF extension messages (requests and stats). */
const EXTENSION = /^(NXT|NXST|ONFT|ONFST)_/;

/**
 * The command succeeded; every extension message it sent was refused with
 * OFPBRC_BAD_EXPERIMENTER (OFPBRC_BAD_VENDOR in OVS's names) and nothing
 * else it sent drew an error. Returns the extensions it tried.
 */
function expectFine(r: TracedRun): string[] {
  // Its own complaints, apart from the debug log: "ovs-ofctl: …", "Error …", warnings and errors of any module.
  const complaints = r.stderr.split('\n').filter((l) => /^ovs-ofctl: |^Error |\|(WARN|ERR|EMER)\|/.test(l));
  expect({ code: r.code, complaints }).toEqual({ code: 0, complaints: [] });
  return checkConversation(r.messages);
}

function checkConversation(messages: OfctlMessage[]): string[] {
  const sent = new Map(messages.filter((m) => m.dir === 'sent').map((m) => [m.xid, m]));
  const errors = messages.filter((m) => m.dir === 'received' && m.name === 'OFPT_ERROR');
  const tried = [...sent.values()].filter((m) => EXTENSION.test(m.name));
  for (const t of tried) expect({ request: t.name, errors: errors.filter((e) => e.xid === t.xid).map((e) => e.detail) }).toEqual({ request: t.name, errors: ['OFPBRC_BAD_VENDOR'] });
  expect(errors.filter((e) => !EXTENSION.test(sent.get(e.xid)?.name ?? '')).map((e) => `${sent.get(e.xid)?.name}: ${e.detail}`)).toEqual([]);
  return tried.map((t) => t.name);
}

const sentNames = (r: TracedRun): string[] => r.messages.filter((m) => m.dir === 'sent').map((m) => m.name);

describe('ovs-ofctl 3.1 as a vNF through the delegated channel', () => {
  if (!OFCTL) {
    peerMissing('ovs-ofctl', 'apt-get install -y openvswitch-common');
    return;
  }

  let bBefore: Awaited<ReturnType<typeof vnfView>>;
  let bTxBefore: Record<number, number>;
  let names: Record<number, string>;
  const extensionsTried: string[] = [];
  const ofctl = (...args: string[]): TracedRun => {
    const r = ovsOfctlTraced(args);
    extensionsTried.push(...expectFine(r));
    return r;
  };

  beforeAll(async () => {
    bBefore = await vnfView('vB');
    bTxBefore = await txPackets('vB');
    const ports = await call(ctl.url, 'GET', '/v1/instances/vA/ports');
    names = Object.fromEntries((ports.body as Array<{ portNo: number; name: string }>).map((p) => [p.portNo, p.name]));
  });

  it('add-flow without --no-names reads table features and port descriptions first, and port names work', () => {
    const r = ofctl('add-flow', endpointA, `table=0,priority=20,in_port=${names[1]},ip,nw_dst=10.0.0.1,actions=output:${names[2]}`);
    const sent = sentNames(r);
    expect(sent).toEqual(expect.arrayContaining(['OFPST_TABLE_FEATURES', 'OFPST_PORT_DESC', 'OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']));
    expect(sent.indexOf('OFPST_PORT_DESC')).toBeLessThan(sent.indexOf('OFPT_FLOW_MOD'));
    // The table features it got describe vA's 63 tables (0..62 of its view), not the NIC's.
    const features = ovsOfctlTraced(['dump-table-features', endpointA]);
    expect(features.code).toBe(0);
    expect(features.stdout).toMatch(/table 62\b/);
    expect(features.stdout).not.toMatch(/table 63\b/);
  });

  it('add-flow --no-names goes straight to the flow-mod', () => {
    const r = ofctl('--no-names', 'add-flow', endpointA, 'table=1,priority=30,in_port=2,dl_type=0x88b5,actions=output:1');
    expect(sentNames(r)).toEqual(['OFPT_HELLO', 'OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']);
  });

  it("dump-flows shows vA's flows only, in its own table numbering", () => {
    const r = ofctl('dump-flows', '--no-stats', '--no-names', endpointA);
    expect(flowLines(r.stdout)).toEqual(['priority=20,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2', 'table=1, priority=30,in_port=2,dl_type=0x88b5 actions=output:1']);
  });

  it('dump-tables: the 63 tables of its view, the active counts its own', () => {
    const r = ofctl('dump-tables', endpointA);
    expect(r.stdout).toMatch(/table 0:\s+active=1,/);
    expect(r.stdout).toMatch(/table 1:(\s+active=1,| ditto)/);
    expect(r.stdout).toMatch(/\b62: ditto|table 62:/);
    expect(r.stdout).not.toMatch(/\b63\b/);
  });

  it("add-group, dump-group-stats and dump-groups: vA's group, none of vB's", () => {
    ofctl('add-group', endpointA, `group_id=5,type=all,bucket=output:${names[2]}`);
    const stats = ofctl('dump-group-stats', endpointA);
    expect(sentNames(stats)).toContain('OFPST_GROUP');
    expect(flowLines(stats.stdout).map((l) => /^group_id=(\d+),/.exec(l)?.[1])).toEqual(['5']);
    expect(flowLines(ofctl('dump-groups', '--no-names', endpointA).stdout)).toEqual(['group_id=5,type=all,bucket=actions=output:2']);
  });

  it("add-meter and dump-meters: vA's meter, none of vB's", () => {
    ofctl('add-meter', endpointA, 'meter=5,kbps,burst,band=type=drop,rate=1000,burst_size=100');
    const r = ofctl('dump-meters', endpointA);
    expect(r.stdout.replace(/\s+/g, ' ').trim()).toBe('OFPST_METER_CONFIG reply (OF1.3) (xid=0x2): meter=5 kbps burst bands= type=drop rate=1000 burst_size=100');
    expect(flowLines(ofctl('meter-stats', endpointA).stdout).filter((l) => l.startsWith('meter:')).map((l) => /^meter:(\d+)/.exec(l)![1])).toEqual(['5']);
  });

  it('packet-out: the frame leaves NIC port 2, and only it', async () => {
    const before = await txPackets('vA');
    ofctl('packet-out', endpointA, `in_port=controller,packet=${frame(MAC_X, MAC_Y, 'packet-out').toString('hex')},actions=output:${names[2]}`);
    const after = await poll(() => txPackets('vA'), (t) => t[2] === before[2]! + 1, 'port 2 to count the frame');
    expect(after[1]).toBe(before[1]);
    // Another tenant's port is not one of vA's: refused with the error ovs-ofctl prints, nothing sent.
    const refused = ovsOfctlTraced(['packet-out', endpointA, `in_port=controller,packet=${frame(MAC_X, MAC_Y, 'elsewhere').toString('hex')},actions=output:3`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/OFPBAC_BAD_OUT_PORT/);
    expect(await txPackets('vB')).toEqual(bTxBefore);
  });

  it('monitor prints the packet-ins of a packet-out to CONTROLLER and of a table-miss; its Nicira packet-in format request is refused and it carries on', async () => {
    const mon = ovsMonitor(endpointA, ['65534']);
    try {
      // Set up once its packet-in format request was answered and the barrier after it too.
      await mon.until(() => {
        const m = mon.messages();
        const ext = m.find((x) => x.dir === 'sent' && x.name === 'NXT_SET_PACKET_IN_FORMAT');
        return ext !== undefined && m.some((x) => x.dir === 'received' && x.name === 'OFPT_BARRIER_REPLY' && x.xid > ext.xid);
      }, 'answer to its set-up');
      extensionsTried.push(...checkConversation(mon.messages()));

      const viaAction = frame(MAC_X, MAC_Y, 'to-controller');
      ofctl('packet-out', endpointA, `in_port=controller,packet=${viaAction.toString('hex')},actions=output:controller`);
      await mon.until(() => /OFPT_PACKET_IN[^\n]*\(via action\)/.test(mon.printed()), 'packet-in of the packet-out');
      // table_id 255: no table produced it.
      expect(mon.printed()).toMatch(/OFPT_PACKET_IN \(OF1\.3\) \(xid=0x0\): table_id=255 total_len=60 in_port=CONTROLLER \(via action\) data_len=60 \(unbuffered\)\n[^\n]*dl_src=0a:00:00:00:00:0a,dl_dst=0a:00:00:00:00:0b,dl_type=0x88b5/);

      ofctl('--no-names', 'add-flow', endpointA, 'table=0,priority=0,actions=CONTROLLER:65535');
      await injectFrame(ctl.url, 'vA', 1, frame(MAC_Y, MAC_X, 'table-miss'));
      await mon.until(() => /OFPT_PACKET_IN[^\n]*\(via no_match\)/.test(mon.printed()), 'packet-in of the table-miss');
      // No table_id printed: table 0, vA's numbering of the physical table 1 its table-miss entry is in.
      expect(mon.printed()).toMatch(/OFPT_PACKET_IN \(OF1\.3\) \(xid=0x0\): cookie=0x0 total_len=60 in_port=1 \(via no_match\) data_len=60 \(unbuffered\)\n[^\n]*dl_src=0a:00:00:00:00:0b,dl_dst=0a:00:00:00:00:0a,dl_type=0x88b5/);
    } finally {
      await mon.stop();
    }
    expect(mon.printed().match(/OFPT_PACKET_IN/g)).toHaveLength(2);
  });

  it('every Nicira extension ovs-ofctl tried was refused with OFPBRC_BAD_EXPERIMENTER, and it fell back', () => {
    expect(extensionsTried).toContain('NXT_SET_PACKET_IN_FORMAT');
  });

  it("vB's view is what it was: none of vA's flows, groups, meters or frames reached it", async () => {
    expect(await vnfView('vB')).toEqual(bBefore);
    expect(await txPackets('vB')).toEqual(bTxBefore);
  });
});

// ---------------------------------------------------------------------------
// An os-ken app as vB, reached in connect mode

describe('an os-ken reactive learning switch as vB (connect mode)', () => {
  if (OSKEN === undefined) {
    peerMissing(`python3-os-ken (${DEBIAN_PYTHON} -c 'import os_ken', osken-manager)`, 'apt-get install -y python3-os-ken');
    return;
  }

  const packetIns = (): OskenEvent[] => oskenEvents().filter((e) => e.event === 'packet-in');
  type FlowJson = { owner: string; flow: { tableId: number; priority: number; packetCount: string; match: Array<{ field: string; value: unknown }>; instructions: unknown[] } };
  const flowsB = async (view: 'vnf' | 'physical'): Promise<FlowJson[]> => (await call(ctl.url, 'GET', `/v1/instances/vB/flows?view=${view}`)).body;
  const reactive = async (inPort: number, dst: string): Promise<FlowJson | undefined> =>
    (await flowsB('vnf')).find((f) => f.flow.priority === 10 && f.flow.match.some((m) => m.field === 'in_port' && m.value === inPort) && f.flow.match.some((m) => m.field === 'eth_dst' && m.value === dst));

  it("its set-up is vB's: the table-miss in table 0 of its view (physical table 1), its meter and flood group", async () => {
    const view = await flowsB('vnf');
    expect(view.map((f) => [f.owner, f.flow.tableId, f.flow.priority])).toEqual([['tenant:globex', 0, 0]]);
    expect(view[0]!.flow.instructions).toEqual([{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 0xfffffffd, maxLen: 0xffff }] }]);
    expect((await flowsB('physical')).filter((f) => f.owner === 'tenant:globex').map((f) => f.flow.tableId)).toEqual([1]);
    const b = await vnfView('vB');
    expect(b.groups).toEqual([expect.objectContaining({ owner: 'tenant:globex', groupId: 1, buckets: [expect.objectContaining({ actions: [expect.objectContaining({ port: 3 })] }), expect.objectContaining({ actions: [expect.objectContaining({ port: 4 })] })] })]);
    expect(b.meters).toEqual([expect.objectContaining({ owner: 'tenant:globex', meterId: 1 })]);
    expect(oskenEvents().filter((e) => e.event === 'error')).toEqual([]);
  });

  it('first frame: a packet-in of its table-miss, answered with a packet-out (out of port 4) and a flow-mod; the next frames the NIC forwards by itself', async () => {
    const tx0 = await txPackets('vB');
    await injectFrame(ctl.url, 'vB', 3, frame(MAC_X, MAC_Y, 'first'));
    const [pin] = await poll(packetIns, (p) => p.length === 1, "the app's packet-in");
    expect(pin).toEqual({ event: 'packet-in', datapath: datapathB, table_id: 0, reason: 0, in_port: 3, eth_src: MAC_X, eth_dst: MAC_Y, total_len: 60 });
    // Its packet-out through the flood group: out of port 4, not back out of port 3.
    await poll(() => txPackets('vB'), (t) => t[4] === tx0[4]! + 1, 'the packet-out on port 4');
    const flow = await poll(() => reactive(3, MAC_Y), (f) => f !== undefined, "the app's flow");
    expect(flow!.flow.instructions).toEqual([{ type: 'METER', meterId: 1 }, { type: 'APPLY_ACTIONS', actions: [{ type: 'GROUP', groupId: 1 }] }]);

    for (let i = 0; i < 5; i++) await injectFrame(ctl.url, 'vB', 3, frame(MAC_X, MAC_Y, `next ${i}`));
    const hit = await poll(() => reactive(3, MAC_Y), (f) => f?.flow.packetCount === '5', 'the flow to count 5 packets');
    expect(hit!.flow.packetCount).toBe('5');
    const tx = await poll(() => txPackets('vB'), (t) => t[4] === tx0[4]! + 6, 'port 4 to count 6 frames');
    expect(tx[3]).toBe(tx0[3]);
    expect(packetIns()).toHaveLength(1);
  });

  it('the reply frame: the app has learnt where the first sender is, so its flow and packet-out go straight to port 3', async () => {
    const tx0 = await txPackets('vB');
    await injectFrame(ctl.url, 'vB', 4, frame(MAC_Y, MAC_X, 'reply'));
    const pins = await poll(packetIns, (p) => p.length === 2, "the app's second packet-in");
    expect(pins[1]).toMatchObject({ table_id: 0, reason: 0, in_port: 4, eth_src: MAC_Y, eth_dst: MAC_X });
    await poll(() => txPackets('vB'), (t) => t[3] === tx0[3]! + 1, 'the packet-out on port 3');
    const flow = await poll(() => reactive(4, MAC_X), (f) => f !== undefined, "the app's second flow");
    expect(flow!.flow.instructions).toEqual([{ type: 'METER', meterId: 1 }, { type: 'APPLY_ACTIONS', actions: [expect.objectContaining({ type: 'OUTPUT', port: 3 })] }]);

    for (let i = 0; i < 3; i++) await injectFrame(ctl.url, 'vB', 4, frame(MAC_Y, MAC_X, `reply ${i}`));
    await poll(() => reactive(4, MAC_X), (f) => f?.flow.packetCount === '3', 'the second flow to count 3 packets');
    const tx = await poll(() => txPackets('vB'), (t) => t[3] === tx0[3]! + 4, 'port 3 to count 4 frames');
    expect(tx[4]).toBe(tx0[4]);
    expect(packetIns()).toHaveLength(2);
    expect(oskenEvents().filter((e) => e.event === 'error')).toEqual([]);
  });
});
