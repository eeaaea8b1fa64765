/** Builders shared by the storage specs. */
import { FlowMod, Match, OFP_NO_BUFFER, OFPAT, OFPFC, OFPG, OFPIT, OFPP, OFPT } from '@nicvisor/openflow';
import type { NewInstance } from './types.js';

/** A create request and the instance record made from it, as the controller would. */
export function newInstance(vnf: string, tenant: string, ports: number[], extra: Partial<NewInstance> = {}): NewInstance {
  const request = { vnf, tenant, ports };
  return {
    vnf,
    tenant,
    nic: 'embedded',
    datapathId: (0xa00n + BigInt(ports[0] ?? 0)).toString(16).padStart(16, '0'),
    ports,
    tables: { operator: [0], tenant: Array.from({ length: 63 }, (_, i) => i + 1), virtual: true },
    quotas: { flows: 1000, groups: 64, meters: 64, packetInsPerSecond: 100 },
    channel: { mode: 'listen', endpointPort: 16653 + (ports[0] ?? 0) },
    request,
    ...extra,
  };
}

/** An ADD flow-mod into `tableId` that outputs to `port`. */
export function flowMod(tableId: number, priority: number, match: Match, port = 1, cookie = 0n): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid: 7,
    cookie,
    cookieMask: 0n,
    tableId,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match,
    instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port, maxLen: 0 }] }],
  };
}
