/**
 * The standalone NIC's management endpoint is down when the controller
 * restarts (e.g. the NIC's own process restarted and lost its instances):
 * each stored instance still gets its channel at once, the controller keeps
 * asking the NIC for the instance, and once the NIC is back the instance is
 * re-created, dials in and is reconciled from the shadow — the vNF's flows
 * come back without the vNF doing anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flowMod, output, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { startController, type Controller } from '../interop/harness.js';
import { call, portOf, startSmartnic, until, type Smartnic } from './helpers.js';

interface Owned {
  owner: string;
  flow: { tableId: number; priority: number };
}

describe('a NIC that is away when the controller restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-nic-away-'));
  let nic: Smartnic | undefined;
  let ctl: Controller | undefined;
  const clients: VnfClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await ctl?.stop();
    await nic?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores the channel at once and the instance and its flows once the NIC is back', async () => {
    nic = await startSmartnic();
    const rpcPort = portOf(nic.target);
    const env = { NICVISOR_NIC: nic.target };
    ctl = await startController({ dataDir: dir, env });
    const ofPort = Number(/NIC listener\s+tcp:127\.0\.0\.1:(\d+)/.exec(ctl.output())![1]);
    const api = (method: string, path: string, body?: unknown) => call(ctl!.url, method, path, body);

    const created = await api('POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
    expect(created.status).toBe(201);
    const endpoint = (created.body as { channel: { endpoint: string } }).channel.endpoint;
    const c = await VnfClient.open(portOf(endpoint));
    clients.push(c);
    c.send({ ...flowMod({ tableId: 0, priority: 40, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }), xid: c.xid() });
    await c.barrier();
    expect(c.errors()).toEqual([]);
    c.close();

    // Both go away; the controller comes back first, with the NIC's management endpoint refusing connections.
    await ctl.stop();
    await nic.stop();
    nic = undefined;
    ctl = await startController({ dataDir: dir, env: { ...env, NICVISOR_OF_PORT: String(ofPort) } });
    const away = (await api('GET', '/v1/instances/fw1')).body as { connected: boolean; channel: { endpoint: string } };
    expect(away).toMatchObject({ connected: false, channel: { endpoint } });
    // The vNF's endpoint is open already; what it sends waits for the NIC.
    const early = await VnfClient.open(portOf(endpoint));
    clients.push(early);

    // The NIC's process starts again, empty, on the same management port.
    nic = await startSmartnic(rpcPort);
    await until(async () => ((await api('GET', '/v1/instances/fw1')).body as { connected: boolean }).connected, 'fw1 re-created on the NIC and connected', 60_000);
    const flows = (await api('GET', '/v1/instances/fw1/flows')).body as Owned[];
    expect(flows.filter((f) => f.owner === 'tenant:acme').map((f) => f.flow)).toEqual([expect.objectContaining({ tableId: 1, priority: 40 })]);
    expect(flows.filter((f) => f.owner === 'operator')).toHaveLength(2);

    early.send({ ...flowMod({ tableId: 0, priority: 41, match: [{ field: 'in_port', value: 2 }], actions: [output(1)] }), xid: early.xid() });
    await early.barrier();
    expect(early.errors()).toEqual([]);
    const after = (await api('GET', '/v1/instances/fw1/flows')).body as Owned[];
    expect(after.filter((f) => f.owner === 'tenant:acme')).toHaveLength(2);
  }, 180_000);
});
