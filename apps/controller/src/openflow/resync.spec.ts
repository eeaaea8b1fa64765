/**
 * Reconciliation when a NIC instance reconnects, against changes made on the
 * NIC behind nicvisor's back: a flow deleted is reinstalled, a flow whose
 * instructions were modified gets the owner's instructions back, a flow
 * nobody owns is removed. Afterwards the NIC holds exactly the shadow.
 */
import { OFPFC, OFPFF, OFPG, OFPIT, OFPMP, OFPP, OFPTT, type FlowStats } from '@nicvisor/openflow';
import { createOwnership } from '@nicvisor/tenancy';
import { EmbeddedNicDriver } from '../nic/embedded-driver.js';
import { OpenflowCore } from './core.js';
import type { NicSession } from './nic-session.js';
import { resync } from './resync.js';
import type { Shadow } from './shadow.js';
import { flowMod, output, sleep, VnfClient } from './spec-helpers.js';

const DPID = 0xc0ffeen;

function nicFlows(driver: EmbeddedNicDriver): FlowStats[] {
  return driver.nic
    .getInstance(DPID)
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
}

describe('resync after a reconnection', () => {
  let core: OpenflowCore;
  let driver: EmbeddedNicDriver;
  let vnf: VnfClient | undefined;

  afterEach(async () => {
    vnf?.close();
    await core.stop();
    await driver.close();
  });

  it('reinstalls deleted flows, restores modified instructions and removes stray flows', async () => {
    const own = createOwnership({ vnf: 'fw7', tenant: 'acme', ports: [1, 2], tableCount: 4 });
    if (!own.ok) throw new Error('ownership');
    core = new OpenflowCore({ listener: { port: 0 } });
    await core.start();
    driver = new EmbeddedNicDriver({ controllerTarget: () => core.nicTarget, tickIntervalMs: 0 });
    await driver.createInstance({ vnf: 'fw7', datapathId: DPID, ports: [1, 2], nTables: 4 });
    await core.waitReady(DPID);
    const ch = await core.openChannel(own.ownership, DPID, { mode: 'listen', port: 0 });
    vnf = await VnfClient.open(Number(ch.endpoint.split(':')[2]));
    // Priority 10 has an idle timeout, and no OFPFF_SEND_FLOW_REM of the vNF's: nicvisor asks the NIC for its removal anyway.
    for (const p of [10, 11, 12]) vnf.send({ ...flowMod({ tableId: 0, priority: p, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }), idleTimeout: p === 10 ? 300 : 0, xid: vnf.xid() });
    await vnf.barrier();
    expect(vnf.errors()).toEqual([]);
    const before = nicFlows(driver);
    expect(before).toHaveLength(3);

    // Behind nicvisor's back, on the NIC itself (physical table 1 is the vNF's table 0).
    const nic = driver.nic.getInstance(DPID);
    const at = (priority: number) => flowMod({ tableId: 1, priority, match: [{ field: 'in_port', value: 1 }] });
    nic.flowMod({ ...at(10), command: OFPFC.DELETE_STRICT });
    nic.flowMod({ ...at(11), command: OFPFC.MODIFY_STRICT, instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [output(1)] }] });
    nic.flowMod({ ...flowMod({ tableId: 2, priority: 99, match: [{ field: 'in_port', value: 2 }], actions: [output(1)] }) });
    expect(nicFlows(driver).map((f) => f.instructions)).not.toEqual(before.map((f) => f.instructions));

    // The NIC connection drops; the instance redials and is resynced.
    const previous = core.lastResync.get(DPID);
    core.registry.get(DPID)!.close('test: connection dropped');
    while (core.lastResync.get(DPID) === previous || core.readySession(DPID) === undefined) await sleep(5);

    expect(core.lastResync.get(DPID)).toMatchObject({ flowsAdded: 2, flowsRemoved: 1 });
    const key = (f: Pick<FlowStats, 'tableId' | 'priority' | 'match' | 'instructions' | 'cookie'>) => JSON.stringify([f.tableId, f.priority, f.match, f.instructions, f.cookie.toString()]);
    expect(nicFlows(driver).map(key).sort()).toEqual(before.map(key).sort());
    expect(core.shadow.flows(DPID).map(key).sort()).toEqual(before.map(key).sort());
    // Reinstalled as first installed: the NIC reports its removal; the shadow keeps the vNF's flags.
    expect(nicFlows(driver).find((f) => f.priority === 10)!.flags).toBe(OFPFF.SEND_FLOW_REM);
    expect(core.shadow.flows(DPID).find((f) => f.priority === 10)!.flags).toBe(0);
  });
});

describe('resync when the NIC goes away in the middle', () => {
  it('rejects once, and leaves no rejection unhandled (which would end the process)', async () => {
    const gone = (): Promise<never> => Promise.reject(new Error('NIC connection closed'));
    const session = { datapathId: DPID, barrier: gone, flowStats: gone, multipart: gone } as unknown as NicSession;
    const shadow = { hydrate: () => undefined } as unknown as Shadow;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(resync(session, shadow)).rejects.toThrow('NIC connection closed');
      await sleep(20);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
