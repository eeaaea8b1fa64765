/**
 * Reconciliation when a NIC instance (re)connects: read what the NIC has
 * (flow stats, group desc, meter config), reinstall what the shadow has and
 * the NIC lacks or has changed (cookie, instructions), remove what nobody
 * owns. The vNF is not involved.
 *
 * The barrier sent together with the reads confirms every message relayed
 * before them, so the shadow is current when the NIC's lists arrive.
 */
import {
  encodeInstructions,
  FLOW_MOD_AT,
  GroupDesc,
  type Instruction,
  instructionsLength,
  MeterConfig,
  OFPFC,
  OFPG,
  OFPGC,
  OFPM,
  OFPMC,
  OFPMP,
  OFPP,
  OFPT,
  OFPTT,
  Writer,
} from '@nicvisor/openflow';
import type { NicSession } from './nic-session.js';
import { askFlowRemoved, flowKey, Shadow } from './shadow.js';

/** The instructions of an encoded flow-mod (after its match, padded to 8 bytes). */
function rawInstructions(raw: Buffer): Buffer {
  return raw.subarray(FLOW_MOD_AT.match + ((raw.readUInt16BE(FLOW_MOD_AT.match + 2) + 7) & ~7), raw.readUInt16BE(2));
}

function encodedInstructions(list: readonly Instruction[]): Buffer {
  const w = new Writer(instructionsLength(list));
  encodeInstructions(list, w);
  return w.buf;
}

export interface ResyncResult {
  flowsAdded: number;
  flowsRemoved: number;
  groupsAdded: number;
  groupsRemoved: number;
  metersAdded: number;
  metersRemoved: number;
}

export async function resync(session: NicSession, shadow: Shadow): Promise<ResyncResult> {
  const dpid = session.datapathId!;
  shadow.hydrate(dpid); // after a restart: what the store kept
  const barrier = session.barrier();
  const flowsP = session.flowStats(OFPTT.ALL);
  const groupsP = session.multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.GROUP_DESC } }).catch(() => []);
  const metersP = session
    .multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.METER_CONFIG, meterId: OFPM.ALL } })
    .catch(() => []);
  // One await for all four: if the NIC goes away mid-way, every rejection is handled (none left to crash the process).
  const [, nicFlows, groupParts, meterParts] = await Promise.all([barrier, flowsP, groupsP, metersP]);
  const r: ResyncResult = { flowsAdded: 0, flowsRemoved: 0, groupsAdded: 0, groupsRemoved: 0, metersAdded: 0, metersRemoved: 0 };

  const nicGroups: GroupDesc[] = [];
  for (const p of groupParts) if (p.body.mpType === OFPMP.GROUP_DESC) nicGroups.push(...p.body.entries);
  const nicMeters: MeterConfig[] = [];
  for (const p of meterParts) if (p.body.mpType === OFPMP.METER_CONFIG) nicMeters.push(...p.body.entries);

  // Flows nobody owns go first (they may use groups or meters about to go).
  const nicKeys = new Set<string>();
  const mine = shadow.entries(dpid);
  const mineByKey = new Map(mine.map((f) => [f.key, f]));
  for (const f of nicFlows) {
    const key = flowKey(f.tableId, f.priority, f.match);
    nicKeys.add(key);
    const own = mineByKey.get(key);
    // Kept only as its owner installed it: the same cookie and the same instructions.
    if (own !== undefined && own.cookie === f.cookie && rawInstructions(own.raw).equals(encodedInstructions(f.instructions))) continue;
    session.send({
      type: OFPT.FLOW_MOD,
      xid: 0,
      cookie: 0n,
      cookieMask: 0n,
      tableId: f.tableId,
      command: OFPFC.DELETE_STRICT,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: f.priority,
      bufferId: 0xffffffff,
      outPort: OFPP.ANY,
      outGroup: OFPG.ANY,
      flags: 0,
      match: f.match,
      instructions: [],
    });
    if (own === undefined) r.flowsRemoved++;
    else nicKeys.delete(key); // changed behind our back: reinstalled below
  }
  const shadowGroups = new Map(shadow.groups(dpid).map((g) => [g.groupId, g]));
  for (const g of nicGroups) {
    if (shadowGroups.has(g.groupId)) continue;
    session.send({ type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.DELETE, groupType: 0, groupId: g.groupId, buckets: [] });
    r.groupsRemoved++;
  }
  const shadowMeters = new Map(shadow.meters(dpid).map((m) => [m.meterId, m]));
  for (const m of nicMeters) {
    if (shadowMeters.has(m.meterId)) continue;
    session.send({ type: OFPT.METER_MOD, xid: 0, command: OFPMC.DELETE, flags: 0, meterId: m.meterId, bands: [] });
    r.metersRemoved++;
  }
  // Then what is missing: groups and meters before the flows that use them.
  const onNicGroups = new Set(nicGroups.map((g) => g.groupId));
  for (const g of shadowGroups.values()) {
    if (onNicGroups.has(g.groupId)) continue;
    session.send({ type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.ADD, groupType: g.groupType, groupId: g.groupId, buckets: g.buckets });
    r.groupsAdded++;
  }
  const onNicMeters = new Set(nicMeters.map((m) => m.meterId));
  for (const m of shadowMeters.values()) {
    if (onNicMeters.has(m.meterId)) continue;
    session.send({ type: OFPT.METER_MOD, xid: 0, command: OFPMC.ADD, flags: m.flags, meterId: m.meterId, bands: m.bands });
    r.metersAdded++;
  }
  for (const f of mine) {
    if (nicKeys.has(f.key)) continue;
    // A copy (the session writes its xid in it), asking for the flow's FLOW_REMOVED as the first install did.
    const raw = Buffer.from(f.raw);
    askFlowRemoved(raw);
    session.sendRaw(raw);
    r.flowsAdded++;
  }
  await session.barrier();
  return r;
}
