/**
 * The operator's REST routes end to end (the whole app on ephemeral ports,
 * the embedded emulated NIC, a temporary data directory): operator groups
 * and meters in the reserved id range, ports with counters from the NIC,
 * flows given as ovs-ofctl text, and modify in place. What is on the NIC
 * is read from the emulator itself.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { OFPG, OFPM, OFPMP, OFPP, OFPTT, type FlowStats } from '@nicvisor/openflow';
import { parseGroupMod, parseMeterMod, toJson, type AnyMessage } from '@nicvisor/openflow/text/index.js';
import { OPERATOR_GROUPS, OPERATOR_METERS } from '@nicvisor/tenancy';
import { createApp, type ControllerApp } from './app.module.js';
import { call, ephemeralConfig } from './spec-app.js';
import { CoreRuntime } from './instances/core-runtime.js';
import { INSTANCE_RUNTIME } from './instances/instance-runtime.js';
import { EmbeddedNicDriver } from './nic/embedded-driver.js';

const { config, dataDir } = ephemeralConfig('nicvisor-operator-e2e-');

const json = (x: unknown): unknown => toJson({ value: x } as unknown as AnyMessage).value;

/** What `nicvisor add-group` / `add-meter` send for a line of ovs-ofctl text (apps/cli/src/commands/mods.ts). */
function cliGroupBody(text: string): unknown {
  const gm = parseGroupMod(text, { command: 'add' });
  return { groupId: gm.groupId, groupType: gm.groupType, buckets: json(gm.buckets) };
}
function cliMeterBody(text: string): unknown {
  const mm = parseMeterMod(text, { command: 'add' });
  return { meterId: mm.meterId, flags: mm.flags, bands: json(mm.bands) };
}

/** An IPv4/UDP frame from 10.0.0.5 to `dst`. */
function udpFrame(dst: string): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + 18);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + 18, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 0, 0, 5]).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(1000, 34);
  f.writeUInt16BE(2000, 36);
  f.writeUInt16BE(8 + 18, 38);
  return f;
}

describe('operator REST routes (embedded NIC)', () => {
  let c: ControllerApp;
  let dpid: bigint;
  const G = OPERATOR_GROUPS.first + 1;
  const M = OPERATOR_METERS.first + 1;

  const driver = (): EmbeddedNicDriver => (c.app.get<CoreRuntime>(INSTANCE_RUNTIME).driver as EmbeddedNicDriver);
  const nic = () => driver().nic.getInstance(dpid);
  const nicFlows = (): FlowStats[] =>
    nic().flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
  const opTexts = (body: Array<{ text: string }>): string[] => body.map((f) => f.text.replace(/^.*n_bytes=\d+, /, '')).sort();

  beforeAll(async () => {
    c = await createApp(config, { logger: false });
    const r = await call(c, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
    expect(r.status).toBe(201);
    dpid = BigInt(`0x${r.body.datapathId}`);
    expect((await call(c, 'POST', '/v1/instances', { vnf: 'lb1', tenant: 'beta', ports: [3] })).status).toBe(201);
  });
  afterAll(async () => {
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('groups', () => {
    it('adds an operator group as the CLI sends it: on the NIC, in the shadow as the operator\'s, not in the vNF view', async () => {
      const r = await call(c, 'POST', '/v1/instances/fw1/groups', cliGroupBody(`group_id=${G},type=select,bucket=weight:2,actions=output:1,bucket=actions=output:2`));
      expect(r.status).toBe(201);
      expect(r.body).toEqual([
        expect.objectContaining({ owner: 'operator', groupId: G, groupType: 1, buckets: [expect.objectContaining({ weight: 2 }), expect.objectContaining({ weight: 1 })] }),
      ]);
      expect(nic().groups.has(G)).toBe(true);
      const all = await call(c, 'GET', '/v1/instances/fw1/groups');
      expect(all.body.map((g: { owner: string; groupId: number }) => [g.owner, g.groupId])).toEqual([['operator', G]]);
      expect((await call(c, 'GET', '/v1/instances/fw1/groups?view=vnf')).body).toEqual([]);
      // the other instance has none
      expect((await call(c, 'GET', '/v1/instances/lb1/groups')).body).toEqual([]);
    });

    it('answers 400 naming the field: an id outside the operator range, a bad type, a bad bucket', async () => {
      const outside = await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: 5, groupType: 0, buckets: [] });
      expect(outside).toMatchObject({ status: 400, body: { field: 'groupId' } });
      expect(outside.body.message).toContain('0xf0000000-0xffffff00');
      expect((await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: G + 1, groupType: 7, buckets: [] })).body.field).toBe('groupType');
      expect((await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: 'x', groupType: 0, buckets: [] })).body.field).toBe('groupId');
      expect((await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: G + 1, groupType: 0 })).body.field).toBe('buckets');
      const badAction = await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: G + 1, groupType: 'all', buckets: [{ actions: [{ type: 'OUTPUT', port: -1 }] }] });
      expect(badAction).toMatchObject({ status: 400, body: { field: 'buckets.0.actions.0.port' } });
      expect((await call(c, 'DELETE', '/v1/instances/fw1/groups', { groupId: 7 })).body.field).toBe('groupId');
      expect((await call(c, 'POST', '/v1/instances/nope/groups', { groupId: G, groupType: 0, buckets: [] })).status).toBe(404);
      expect(nic().groups.has(G + 1)).toBe(false);
    });

    it('maps the NIC\'s refusal to a 400 with the OpenFlow error names', async () => {
      const again = await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: G, groupType: 0, buckets: [] });
      expect(again).toMatchObject({ status: 400, body: { ofp: { type: 'OFPET_GROUP_MOD_FAILED', code: 'OFPGMFC_GROUP_EXISTS' } } });
      const chained = await call(c, 'POST', '/v1/instances/fw1/groups', { groupId: G + 2, groupType: 'indirect', buckets: [{ actions: [{ type: 'GROUP', groupId: G + 99 }] }] });
      expect(chained.status).toBe(400);
      expect(chained.body.ofp).toEqual({ type: 'OFPET_BAD_ACTION', code: 'OFPBAC_BAD_OUT_GROUP' });
      expect(chained.body.message).toContain('the NIC refused the operator group');
      expect((await call(c, 'GET', '/v1/instances/fw1/groups')).body).toHaveLength(1);
    });

    it('deletes one operator group, then all of them; flows forwarding to a deleted group go with it', async () => {
      await call(c, 'POST', '/v1/instances/fw1/groups', cliGroupBody(`group_id=${G + 3},type=all,bucket=actions=output:2`));
      const flow = await call(c, 'POST', '/v1/instances/fw1/flows', { flow: `priority=7,in_port=1,actions=group:${G}` });
      expect(flow.status).toBe(201);
      const one = await call(c, 'DELETE', '/v1/instances/fw1/groups', { groupId: G });
      expect(one.status).toBe(200);
      expect(one.body.map((g: { groupId: number }) => g.groupId)).toEqual([G + 3]);
      expect(nicFlows().some((f) => f.priority === 7)).toBe(false);
      expect((await call(c, 'GET', '/v1/instances/fw1/flows')).body.some((f: { text: string }) => f.text.includes('group:'))).toBe(false);
      const all = await call(c, 'DELETE', '/v1/instances/fw1/groups');
      expect(all).toMatchObject({ status: 200, body: [] });
      expect(nic().groups.has(G + 3)).toBe(false);
      expect((await call(c, 'DELETE', '/v1/instances/fw1/groups', { groupId: OFPG.ALL })).body).toEqual([]);
    });
  });

  describe('meters', () => {
    it('adds an operator meter as the CLI sends it; refuses an id outside the range and a bad band; maps NIC errors', async () => {
      const r = await call(c, 'POST', '/v1/instances/fw1/meters', cliMeterBody(`meter=${M},kbps,burst,bands=type=drop,rate=1000,burst_size=100`));
      expect(r.status).toBe(201);
      expect(r.body).toEqual([{ owner: 'operator', meterId: M, flags: 5, bands: [{ type: 'DROP', rate: 1000, burstSize: 100 }] }]);
      expect(nic().meters.get(M)).toBeDefined();
      expect((await call(c, 'GET', '/v1/instances/fw1/meters?view=vnf')).body).toEqual([]);

      const outside = await call(c, 'POST', '/v1/instances/fw1/meters', cliMeterBody('meter=3,kbps,bands=type=drop,rate=10'));
      expect(outside).toMatchObject({ status: 400, body: { field: 'meterId' } });
      expect((await call(c, 'POST', '/v1/instances/fw1/meters', { meterId: M + 1, bands: [{ type: 'DROP' }] })).body.field).toBe('bands.0.rate');
      expect((await call(c, 'POST', '/v1/instances/fw1/meters', { meterId: M + 1, bands: [{ type: 'FAST', rate: 1 }] })).body.field).toBe('bands.0.type');
      expect((await call(c, 'POST', '/v1/instances/fw1/meters', { meterId: M + 1, flags: 'kbps', bands: [] })).body.field).toBe('flags');
      const exists = await call(c, 'POST', '/v1/instances/fw1/meters', { meterId: M, bands: [{ type: 'DROP', rate: 5 }] });
      expect(exists).toMatchObject({ status: 400, body: { ofp: { type: 'OFPET_METER_MOD_FAILED', code: 'OFPMMFC_METER_EXISTS' } } });
    });

    it('an operator flow can use the operator meter; deleting the meter removes it; delete all', async () => {
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: `priority=8,in_port=2,actions=meter:${M},goto_table:1` })).status).toBe(201);
      expect(nicFlows().some((f) => f.priority === 8)).toBe(true);
      expect((await call(c, 'DELETE', '/v1/instances/fw1/meters', { meterId: 1 })).body.field).toBe('meterId');
      const del = await call(c, 'DELETE', '/v1/instances/fw1/meters', { meterId: M });
      expect(del).toMatchObject({ status: 200, body: [] });
      expect(nic().meters.get(M)).toBeUndefined();
      expect(nicFlows().some((f) => f.priority === 8)).toBe(false);
      await call(c, 'POST', '/v1/instances/fw1/meters', cliMeterBody(`meter=${M + 5},pktps,bands=type=drop,rate=10`));
      expect((await call(c, 'DELETE', '/v1/instances/fw1/meters', { meterId: OFPM.ALL })).body).toEqual([]);
      expect(nic().meters.get(M + 5)).toBeUndefined();
    });
  });

  describe('flows as text, and modify in place', () => {
    it('adds a flow given as ovs-ofctl text; a syntax error is a 400 with the token and its position', async () => {
      const r = await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:1' });
      expect(r.status).toBe(201);
      expect(opTexts(r.body)).toContain('priority=100,ip,nw_dst=10.0.0.0/24 actions=goto_table:1');
      expect(r.body.find((f: { text: string }) => f.text.includes('priority=100')).text).toMatch(/^cookie=0x6e76000000000000, /);

      const bad = await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'priority=1,ip,nw_dts=10.0.0.1,actions=drop' });
      expect(bad).toMatchObject({ status: 400, body: { field: 'flow', token: 'nw_dts=10.0.0.1', position: 15 } });
      expect(bad.body.message).toContain('unknown field or keyword "nw_dts"');
      const badAction = await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'priority=1,actions=outptu:2' });
      expect(badAction.body).toMatchObject({ field: 'flow', token: 'outptu:2' });
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'table=3,priority=1,actions=drop' })).body).toMatchObject({ field: 'flow', token: 'table=3' });
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'priority=1,actions=drop', priority: 5 })).body.field).toBe('flow');
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 42 })).body.field).toBe('flow');
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { filter: 'ip' })).body.field).toBe('filter');
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'priority=1,send_flow_rem,actions=drop' })).body.field).toBe('flow');
      expect((await call(c, 'POST', '/v1/instances/fw1/flows', { flow: 'cookie=0x1000000000000005,priority=1,actions=drop' })).body.field).toBe('flow');
      expect(nicFlows().filter((f) => f.tableId === 0).map((f) => f.priority).sort()).toEqual([1, 1, 100]);
    });

    it('PATCH modifies in place (counters kept), strict or not; only operator flows', async () => {
      // a packet through the flow: its counter must survive the modify
      nic().receiveFrame(1, udpFrame('10.0.0.9'));
      const counted = (): bigint => nicFlows().find((f) => f.tableId === 0 && f.priority === 100)!.packetCount;
      expect(counted()).toBe(1n);

      const strict = await call(c, 'PATCH', '/v1/instances/fw1/flows', { flow: 'priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:2', strict: true });
      expect(strict.status).toBe(200);
      expect(strict.body.modified).toBe(1);
      expect(opTexts(strict.body.flows)).toContain('priority=100,ip,nw_dst=10.0.0.0/24 actions=goto_table:2');
      expect(counted()).toBe(1n);
      const missed = await call(c, 'PATCH', '/v1/instances/fw1/flows', { flow: 'priority=99,ip,nw_dst=10.0.0.0/24,actions=drop', strict: true });
      expect(missed.body.modified).toBe(0);

      // non-strict, no table=: every operator table; selects the two steering flows (in_port) only
      const loose = await call(c, 'PATCH', '/v1/instances/fw1/flows', { flow: 'in_port=2,actions=goto_table:3' });
      expect(loose.body.modified).toBe(1);
      expect(opTexts(loose.body.flows)).toEqual(['priority=1,in_port=1 actions=goto_table:1', 'priority=1,in_port=2 actions=goto_table:3', 'priority=100,ip,nw_dst=10.0.0.0/24 actions=goto_table:2']);

      // JSON fields too
      const viaJson = await call(c, 'PATCH', '/v1/instances/fw1/flows', { priority: 1, strict: true, match: [{ field: 'in_port', value: 2 }], instructions: [{ type: 'GOTO_TABLE', tableId: 1 }] });
      expect(viaJson.body.modified).toBe(1);
      expect(opTexts(viaJson.body.flows)).toContain('priority=1,in_port=2 actions=goto_table:1');

      expect((await call(c, 'PATCH', '/v1/instances/fw1/flows', { priority: 1 })).body.field).toBe('instructions');
      expect((await call(c, 'PATCH', '/v1/instances/fw1/flows', { flow: 'in_port=2' })).body).toMatchObject({ statusCode: 400, field: 'flow' });
      expect((await call(c, 'PATCH', '/v1/instances/fw1/flows', { flow: 'in_port=2,actions=drop', strict: 'yes' })).body.field).toBe('strict');
    });

    it('DELETE takes an ovs-ofctl filter (all operator tables without table=), strict or not', async () => {
      expect((await call(c, 'DELETE', '/v1/instances/fw1/flows', { filter: 'ip,nw_dst=10.0.0.0/24,actions=drop' })).body).toMatchObject({ field: 'filter', token: expect.stringContaining('actions') });
      expect((await call(c, 'DELETE', '/v1/instances/fw1/flows', { flow: 'ip' })).body.field).toBe('flow');
      const notStrict = await call(c, 'DELETE', '/v1/instances/fw1/flows', { filter: 'priority=5,ip,nw_dst=10.0.0.0/24', strict: true });
      expect(notStrict.body).toHaveLength(3);
      const del = await call(c, 'DELETE', '/v1/instances/fw1/flows', { filter: 'ip,nw_dst=10.0.0.0/16' });
      expect(del.status).toBe(200);
      expect(opTexts(del.body)).toEqual(['priority=1,in_port=1 actions=goto_table:1', 'priority=1,in_port=2 actions=goto_table:1']);
      expect(nicFlows().filter((f) => f.tableId === 0)).toHaveLength(2);
    });
  });

  it('GET ports gives each port with its counters from the NIC; the other instance is untouched', async () => {
    nic().receiveFrame(2, udpFrame('10.0.0.1'));
    const r = await call(c, 'GET', '/v1/instances/fw1/ports');
    expect(r.status).toBe(200);
    const byNo = new Map<number, Record<string, unknown>>(r.body.map((p: { portNo: number }) => [p.portNo, p]));
    const stats = nic().portStats(OFPP.ANY);
    for (const s of stats) {
      const p = byNo.get(s.portNo)!;
      expect(p).toMatchObject({ name: expect.any(String), hwAddr: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
      expect(p).toMatchObject({ rxPackets: String(s.rxPackets), rxBytes: String(s.rxBytes), txPackets: String(s.txPackets), rxDropped: String(s.rxDropped), collisions: String(s.collisions) });
      expect(typeof p.durationSec).toBe('number');
    }
    expect(byNo.get(1)!.rxPackets).toBe('1');
    expect(byNo.get(2)!.rxPackets).toBe('1');
    expect(Number(byNo.get(2)!.rxBytes)).toBe(udpFrame('10.0.0.1').length);
    const lb = await call(c, 'GET', '/v1/instances/lb1/ports');
    expect(lb.body.map((p: { portNo: number; rxPackets: string }) => [p.portNo, p.rxPackets])).toEqual([[3, '0']]);
  });

  it('audits the operator mutations; documents the routes', async () => {
    const audit = await call(c, 'GET', '/v1/audit?vnf=fw1');
    const actions = new Set(audit.body.map((a: { action: string }) => a.action));
    for (const a of ['operator.group.add', 'operator.group.delete', 'operator.meter.add', 'operator.meter.delete', 'operator.flow.modify', 'instance.ports']) expect(actions).toContain(a);
    const refused = audit.body.find((a: { action: string; status: number }) => a.action === 'operator.group.add' && a.status === 400);
    expect(refused).toMatchObject({ tenant: 'acme', result: 'Bad Request' });

    const d = await call(c, 'GET', '/docs-json');
    expect(Object.keys(d.body.paths['/v1/instances/{vnf}/flows'])).toEqual(expect.arrayContaining(['get', 'post', 'patch', 'delete']));
    expect(Object.keys(d.body.paths['/v1/instances/{vnf}/groups'])).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
    expect(Object.keys(d.body.paths['/v1/instances/{vnf}/meters'])).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
    expect(d.body.components.schemas.OperatorGroupDto.required).toEqual(expect.arrayContaining(['groupId', 'groupType', 'buckets']));
    expect(d.body.components.schemas.OperatorFlowDto.properties.flow).toBeDefined();
    expect(d.body.components.schemas.OperatorFlowDto.properties.filter).toBeUndefined();
    expect(d.body.components.schemas.OperatorFlowDeleteDto.properties.filter).toBeDefined();
    expect(d.body.components.schemas.PortView.properties.rxPackets).toBeDefined();
  });

  it('keeps operator groups and meters across a restart (the shadow is persisted and resynced)', async () => {
    await call(c, 'POST', '/v1/instances/fw1/groups', cliGroupBody(`group_id=${G},type=all,bucket=actions=output:1`));
    await call(c, 'POST', '/v1/instances/fw1/meters', cliMeterBody(`meter=${M},kbps,bands=type=drop,rate=100`));
    await c.close();
    c = await createApp(config, { logger: false });
    expect((await call(c, 'GET', '/v1/instances/fw1/groups')).body.map((g: { owner: string; groupId: number }) => [g.owner, g.groupId])).toEqual([['operator', G]]);
    expect((await call(c, 'GET', '/v1/instances/fw1/meters')).body.map((m: { owner: string; meterId: number }) => [m.owner, m.meterId])).toEqual([['operator', M]]);
    expect(nic().groups.has(G)).toBe(true);
    expect(nic().meters.get(M)).toBeDefined();
  });
});
