/**
 * Shadow keys and records from decoded OpenFlow messages, with the project's
 * codec. A flow is identified by (vnf, physical table, priority, canonical
 * match): two matches that select the same packets in different wire forms
 * (field order, an all-ones mask, a zero mask) give the same bytes.
 */
import {
  encodeMessage,
  encodeOxm,
  FlowMod,
  GroupMod,
  Match,
  MeterMod,
  OFP_NO_BUFFER,
  OFPFC,
  OFPGC,
  OFPG,
  OFPMC,
  OFPP,
  OFPXMC,
  oxmLength,
  Writer,
} from '@nicvisor/openflow';
import type { Principal, ShadowFlow, ShadowGroup, ShadowMeter } from './types.js';

/**
 * One TLV in canonical form: an all-ones mask dropped, a zero mask dropping
 * the field (it matches anything), value bits outside the mask cleared.
 * Experimenter TLVs (whose payload starts with an experimenter id) are kept
 * as they are.
 */
function canonicalTlv(tlv: Buffer): Buffer | undefined {
  const hasMask = (tlv[2] & 1) === 1;
  if (!hasMask || tlv.readUInt16BE(0) === OFPXMC.EXPERIMENTER) return tlv;
  const width = tlv[3] >>> 1;
  let allOnes = true;
  let allZero = true;
  for (let i = 0; i < width; i++) {
    const m = tlv[4 + width + i];
    if (m !== 0xff) allOnes = false;
    if (m !== 0) allZero = false;
  }
  if (allZero) return undefined;
  if (allOnes) {
    const out = Buffer.allocUnsafe(4 + width);
    out.writeUInt16BE(tlv.readUInt16BE(0), 0);
    out[2] = tlv[2] & 0xfe;
    out[3] = width;
    tlv.copy(out, 4, 4, 4 + width);
    return out;
  }
  for (let i = 0; i < width; i++) tlv[4 + i] &= tlv[4 + width + i];
  return tlv;
}

/** The canonical bytes of a match: its OXM TLVs, each canonical, sorted by header then value. */
export function canonicalMatch(match: Match): Buffer {
  const parts: Buffer[] = [];
  for (const tlv of match) {
    const w = new Writer(oxmLength(tlv));
    encodeOxm(tlv, w);
    const c = canonicalTlv(w.buf);
    if (c !== undefined) parts.push(c);
  }
  if (parts.length > 1) parts.sort(Buffer.compare);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * The shadow record of a flow-mod that was installed: keyed by its table,
 * priority and canonical match; `flowMod` is the same flow re-encoded as an
 * OFPFC_ADD with xid 0, no buffer and no out_port / out_group filter, ready
 * to be reinstalled. `fm.tableId` must already be the physical table.
 */
export function shadowFlowOf(vnf: string, owner: Principal, fm: FlowMod): ShadowFlow {
  const add: FlowMod = {
    ...fm,
    xid: 0,
    command: OFPFC.ADD,
    cookieMask: 0n,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
  };
  return {
    vnf,
    tableId: fm.tableId,
    priority: fm.priority,
    match: canonicalMatch(fm.match),
    owner,
    cookie: fm.cookie,
    flowMod: encodeMessage(add),
  };
}

/** The shadow record of an installed group: the group re-encoded as OFPGC_ADD, xid 0. */
export function shadowGroupOf(vnf: string, owner: Principal, gm: GroupMod): ShadowGroup {
  return { vnf, groupId: gm.groupId, owner, groupMod: encodeMessage({ ...gm, xid: 0, command: OFPGC.ADD }) };
}

/** The shadow record of an installed meter: the meter re-encoded as OFPMC_ADD, xid 0. */
export function shadowMeterOf(vnf: string, owner: Principal, mm: MeterMod): ShadowMeter {
  return { vnf, meterId: mm.meterId, owner, meterMod: encodeMessage({ ...mm, xid: 0, command: OFPMC.ADD }) };
}
