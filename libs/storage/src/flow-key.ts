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

/** Scratch for canonicalOxms: start and length of each canonical TLV in its output. */
let tlvStart = new Int32Array(32);
let tlvLen = new Int32Array(32);

/** Lexicographic byte order of two ranges of `b`, a shorter prefix first (Buffer.compare's order). */
function compareRanges(b: Buffer, a0: number, aLen: number, b0: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = b[a0 + i] - b[b0 + i];
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/**
 * The canonical bytes of the OXM TLVs in `buf[start, end)` (an ofp_match's
 * TLVs, without its header and padding): each TLV canonical — an all-ones
 * mask dropped, a zero mask dropping the field (it matches anything), value
 * bits outside the mask cleared; experimenter TLVs (whose payload starts with
 * an experimenter id) as they are — then sorted by header, then value.
 * Reads `buf` only. Works on wire bytes, so a relayed flow-mod's key needs
 * no decode or encode; `canonicalMatch` gives the same bytes for the decoded
 * match (the codec's TLV encoding is its wire form).
 */
export function canonicalOxms(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start); // canonical TLVs are never longer
  return out.subarray(0, writeCanonicalOxms(buf, start, end, out, 0));
}

/** Scratch for writeCanonicalOxms: the TLVs before sorting. */
let unsorted = Buffer.allocUnsafe(256);

/**
 * `canonicalOxms` written into `out` from offset `at` (which must have room
 * for `end - start` bytes); returns where they end. No allocation.
 */
export function writeCanonicalOxms(buf: Buffer, start: number, end: number, out: Buffer, at: number): number {
  if (unsorted.length < end - start) unsorted = Buffer.allocUnsafe(2 * (end - start));
  const tmp = unsorted;
  let n = 0;
  let w = 0;
  for (let p = start; p + 4 <= end; ) {
    const len = buf[p + 3];
    const next = p + 4 + len;
    if (next > end) throw new RangeError(`OXM TLV at ${p} overruns its match`);
    const b2 = buf[p + 2];
    const tlvAt = w;
    if ((b2 & 1) === 0 || ((buf[p] << 8) | buf[p + 1]) === OFPXMC.EXPERIMENTER) {
      for (let i = p; i < next; i++) tmp[w++] = buf[i];
    } else {
      const width = len >>> 1;
      let allOnes = true;
      let allZero = true;
      for (let i = 0; i < width; i++) {
        const m = buf[p + 4 + width + i];
        if (m !== 0xff) allOnes = false;
        if (m !== 0) allZero = false;
      }
      if (allZero) {
        p = next;
        continue;
      }
      if (allOnes) {
        tmp[w] = buf[p];
        tmp[w + 1] = buf[p + 1];
        tmp[w + 2] = b2 & 0xfe;
        tmp[w + 3] = width;
        for (let i = 0; i < width; i++) tmp[w + 4 + i] = buf[p + 4 + i];
        w += 4 + width;
      } else {
        for (let i = 0; i < 4 + len; i++) tmp[w + i] = buf[p + i];
        for (let i = 0; i < width; i++) tmp[w + 4 + i] &= tmp[w + 4 + width + i];
        w += 4 + len;
      }
    }
    if (n === tlvStart.length) {
      const s2 = new Int32Array(2 * n);
      s2.set(tlvStart);
      tlvStart = s2;
      const l2 = new Int32Array(2 * n);
      l2.set(tlvLen);
      tlvLen = l2;
    }
    tlvStart[n] = tlvAt;
    tlvLen[n] = w - tlvAt;
    n++;
    p = next;
  }
  // Insertion sort of the (few) TLVs (usually already in order), then laid out in that order.
  for (let i = 1; i < n; i++) {
    const s = tlvStart[i];
    const l = tlvLen[i];
    let j = i - 1;
    while (j >= 0 && compareRanges(tmp, tlvStart[j], tlvLen[j], s, l) > 0) {
      tlvStart[j + 1] = tlvStart[j];
      tlvLen[j + 1] = tlvLen[j];
      j--;
    }
    tlvStart[j + 1] = s;
    tlvLen[j + 1] = l;
  }
  let o = at;
  for (let i = 0; i < n; i++) {
    const from = tlvStart[i];
    const to = from + tlvLen[i];
    for (let j = from; j < to; j++) out[o++] = tmp[j];
  }
  return o;
}

/** The canonical bytes of a match: its OXM TLVs, each canonical, sorted by header then value (see canonicalOxms). */
export function canonicalMatch(match: Match): Buffer {
  if (match.length === 0) return Buffer.alloc(0);
  let len = 0;
  for (const tlv of match) len += oxmLength(tlv);
  const w = new Writer(len);
  for (const tlv of match) encodeOxm(tlv, w);
  return canonicalOxms(w.buf, 0, w.pos);
}

/**
 * The shadow record (row `id`) of a flow-mod that was installed: its table,
 * priority and canonical match; `flowMod` is the same flow re-encoded as an
 * OFPFC_ADD with xid 0, no buffer and no out_port / out_group filter, ready
 * to be reinstalled. `fm.tableId` must already be the physical table.
 */
export function shadowFlowOf(vnf: string, id: number, owner: Principal, fm: FlowMod): ShadowFlow {
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
    id,
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
