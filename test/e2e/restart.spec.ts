/**
 * Restart for real: the controller app on a temp data directory with the
 * embedded NIC; two instances created over REST; tenant flows installed
 * through a vNF's delegated channel; the app closed (the same path as
 * SIGTERM: channels closed, store flushed and closed) and a new app started
 * on the same directory with a fresh emulated NIC. The instances come back
 * with the same datapath ids and listen ports, the tenant flows come back
 * into the emulator from the persisted shadow, and the audit log (orchestrator
 * calls and tenant mutations, accepted and denied) is still there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFPBAC, OFPET, OFPT } from '@nicvisor/openflow';
import type { ControllerApp } from '../../apps/controller/src/app.module.js';
import { flowMod, output, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { call, emulatorFlows, flowKey, portOf, runtimeOf, startApp } from './helpers.js';

describe('controller restart on the same data directory', () => {
  let dir: string;
  let app: ControllerApp | undefined;
  const clients: VnfClient[] = [];

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-restart-'))));
  afterAll(async () => {
    for (const c of clients) c.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings back instances, endpoints, tenant flows (resynced into the emulator) and the audit log', async () => {
    // ---- first run ----
    app = await startApp(dir);
    const fw1 = await call(app, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
    const lb1 = await call(app, 'POST', '/v1/instances', { vnf: 'lb1', tenant: 'globex', ports: [3, 4], tables: { count: 8 } });
    expect([fw1.status, lb1.status]).toEqual([201, 201]);
    expect(fw1.body.datapathId).not.toBe(lb1.body.datapathId);

    const c1 = await VnfClient.open(portOf(fw1.body.channel.endpoint));
    clients.push(c1);
    c1.send({ ...flowMod({ tableId: 0, priority: 100, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.1' }], goto: 1 }), xid: c1.xid() });
    c1.send({ ...flowMod({ tableId: 1, priority: 50, actions: [output(2)] }), xid: c1.xid() });
    c1.send({ ...flowMod({ tableId: 3, priority: 7, match: [{ field: 'in_port', value: 1 }], actions: [output(1)] }), xid: c1.xid() });
    await c1.barrier();
    expect(c1.errors()).toEqual([]);
    // A denied one, for the audit log.
    const denied = await c1.request(flowMod({ tableId: 0, priority: 9, actions: [output(3)] }));
    expect(denied).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT });

    const c2 = await VnfClient.open(portOf(lb1.body.channel.endpoint));
    clients.push(c2);
    c2.send({ ...flowMod({ tableId: 0, priority: 20, match: [{ field: 'in_port', value: 3 }], actions: [output(4)] }), xid: c2.xid() });
    await c2.barrier();
    expect(c2.errors()).toEqual([]);

    const fw1Before = emulatorFlows(app, fw1.body.datapathId);
    const lb1Before = emulatorFlows(app, lb1.body.datapathId);
    // Operator steering (one per port) + the tenant's.
    expect(fw1Before).toHaveLength(2 + 3);
    expect(lb1Before).toHaveLength(2 + 1);
    expect(fw1Before.filter((f) => f.tableId === 1 && f.priority === 100)).toHaveLength(1);
    const auditBefore = (await call(app, 'GET', '/v1/audit')).body as Array<{ id: number; action: string }>;

    for (const c of clients.splice(0)) c.close();
    await app.close();
    app = undefined;

    // ---- second run: a fresh emulated NIC, the same data directory ----
    app = await startApp(dir);
    const fw1After = await call(app, 'GET', '/v1/instances/fw1');
    const lb1After = await call(app, 'GET', '/v1/instances/lb1');
    expect(fw1After.body).toMatchObject({ datapathId: fw1.body.datapathId, ports: [1, 2], channel: fw1.body.channel, connected: true });
    expect(lb1After.body).toMatchObject({ datapathId: lb1.body.datapathId, ports: [3, 4], channel: lb1.body.channel, connected: true });
    expect(lb1After.body.tables.tenant).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // The flows are back in the emulator, exactly, resynced from the shadow.
    const keys = (fs: Parameters<typeof flowKey>[0][]) => fs.map(flowKey).sort();
    expect(keys(emulatorFlows(app, fw1.body.datapathId))).toEqual(keys(fw1Before));
    expect(keys(emulatorFlows(app, lb1.body.datapathId))).toEqual(keys(lb1Before));
    const core = runtimeOf(app).core;
    expect(core.lastResync.get(BigInt(`0x${fw1.body.datapathId}`))).toMatchObject({ flowsAdded: 5, flowsRemoved: 0 });
    const flows = (await call(app, 'GET', '/v1/instances/fw1/flows')).body as Array<{ owner: string; flow: { tableId: number; priority: number } }>;
    expect(flows.filter((f) => f.owner === 'tenant:acme').map((f) => [f.flow.tableId, f.flow.priority]).sort()).toEqual([
      [1, 100],
      [2, 50],
      [4, 7],
    ]);

    // The vNF reconnects to the same endpoint and sees its flows in its own view.
    const again = await VnfClient.open(portOf(fw1.body.channel.endpoint));
    clients.push(again);
    again.send({ ...flowMod({ tableId: 2, priority: 60, actions: [output(1)] }), xid: again.xid() });
    await again.barrier();
    expect(again.errors()).toEqual([]);
    expect((await call(app, 'GET', '/v1/instances/fw1/flows?view=vnf')).body.map((f: { flow: { tableId: number } }) => f.flow.tableId).sort()).toEqual([0, 1, 2, 3]);

    // The audit log is still there and grows on.
    const audit = (await call(app, 'GET', '/v1/audit')).body as Array<{ id: number; action: string; vnf?: string; result: string; count?: number; status?: number }>;
    expect(audit.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(audit.filter((a) => a.action === 'instance.create').map((a) => [a.vnf, a.status])).toEqual([
      ['fw1', 201],
      ['lb1', 201],
    ]);
    const fw1Mutations = audit.filter((a) => a.vnf === 'fw1' && a.action === 'openflow.flow-mod');
    expect(fw1Mutations.filter((a) => a.result === 'ok').reduce((n, a) => n + (a.count ?? 0), 0)).toBe(4);
    expect(fw1Mutations.filter((a) => a.result === 'denied')).toHaveLength(1);
    // The datapath-id counter carries on: a new instance gets a new id.
    const fw2 = await call(app, 'POST', '/v1/instances', { vnf: 'fw2', tenant: 'acme', ports: [5] });
    expect(fw2.status).toBe(201);
    expect([fw1.body.datapathId, lb1.body.datapathId]).not.toContain(fw2.body.datapathId);
    expect(BigInt(`0x${fw2.body.datapathId}`)).toBeGreaterThan(BigInt(`0x${lb1.body.datapathId}`));
  });
});
