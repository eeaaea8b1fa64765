/**
 * Persistence of the shadow through libs/storage, and the resync after a
 * controller restart: a fresh controller and a fresh embedded NIC, the
 * instance re-created, and every flow the vNF and the operator had comes
 * back from the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFPG, OFPMP, OFPP, OFPTT } from '@nicvisor/openflow';
import { createOwnership } from '@nicvisor/tenancy';
import { Store } from '@nicvisor/storage/store.js';
import { EmbeddedNicDriver } from '../nic/embedded-driver.js';
import { OpenflowCore } from './core.js';
import { StoreShadowSink } from './store-sink.js';
import { flowMod, output, VnfClient } from './spec-helpers.js';

const DPID = 0xabcn;

async function boot(dir: string) {
  const store = Store.openDataDir(dir);
  const core = new OpenflowCore({ listener: { port: 0 }, shadowSink: new StoreShadowSink(store) });
  await core.start();
  const driver = new EmbeddedNicDriver({ controllerTarget: () => core.nicTarget, tickIntervalMs: 0 });
  return { store, core, driver };
}

function nicFlowCount(driver: EmbeddedNicDriver): number {
  return driver.nic
    .getInstance(DPID)
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] }).length;
}

describe('restart', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nicvisor-restart-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the shadow survives in the store and the resync reinstalls it on a fresh NIC', async () => {
    const own = createOwnership({ vnf: 'fw9', tenant: 'acme', ports: [1, 2], tableCount: 8 });
    if (!own.ok) throw new Error('ownership');
    // First run.
    let { store, core, driver } = await boot(dir);
    store.tenants.ensure('acme');
    store.instances.create({
      vnf: 'fw9',
      tenant: 'acme',
      nic: 'embedded',
      datapathId: DPID.toString(16).padStart(16, '0'),
      ports: [1, 2],
      tables: own.ownership.tables,
      quotas: {},
      channel: { mode: 'listen' },
      request: {},
    });
    await driver.createInstance({ vnf: 'fw9', datapathId: DPID, ports: [1, 2], nTables: 8 });
    await core.waitReady(DPID);
    await core.installOperatorFlows(own.ownership, DPID);
    const ch = await core.openChannel(own.ownership, DPID, { mode: 'listen', port: 0 });
    const c = await VnfClient.open(Number(ch.endpoint.split(':')[2]));
    for (let i = 0; i < 10; i++) c.send({ ...flowMod({ tableId: 0, priority: 100 + i, actions: [output(2)] }), xid: c.xid() });
    await c.barrier();
    expect(c.errors()).toEqual([]);
    expect(nicFlowCount(driver)).toBe(12);
    expect(store.shadow.countsOf('fw9')).toMatchObject({ flows: 12, byOwner: { operator: { flows: 2 }, acme: { flows: 10 } } });
    c.close();
    await core.stop();
    await driver.close();
    store.close();

    // Second run: nothing on the new NIC until the resync.
    ({ store, core, driver } = await boot(dir));
    await driver.createInstance({ vnf: 'fw9', datapathId: DPID, ports: [1, 2], nTables: 8 });
    await core.waitReady(DPID);
    expect(core.lastResync.get(DPID)).toMatchObject({ flowsAdded: 12, flowsRemoved: 0 });
    expect(nicFlowCount(driver)).toBe(12);
    expect(core.shadow.flowCount(DPID, 'fw9')).toBe(10);
    expect(core.shadow.flowCount(DPID, 'operator')).toBe(2);
    await core.stop();
    await driver.close();
    store.close();
  });
});
