/**
 * One message relayed from a vNF connection to the NIC, from the moment it
 * is sent until the NIC confirms it (a later barrier answered), refuses it,
 * or the connection drops: the bytes sent, what the shadow will need, and
 * enough to give the vNF back its own bytes in an error.
 *
 * Encoded once: a message the policy passes unchanged is a copy of the
 * vNF's bytes; a flow-mod whose only rewrites are table ids (its table,
 * goto-table) is a copy with those bytes patched, after checking against
 * the decoded messages that nothing else differs; anything else is encoded
 * from the policy's message. A flow-mod the policy vouched for on its bytes
 * (verifyFlowModWire) is a copy with the table ids it gave patched in. An
 * OFPFC_ADD with a timeout also asks the NIC for its FLOW_REMOVED
 * (askFlowRemoved). A confirmed OFPFC_ADD's bytes, with the owner's flags,
 * then become its shadow entry and its store record (see
 * Shadow.applyFlowAdd), so the hot path never keeps a decoded flow-mod past
 * its confirmation.
 */
import { encodeMessage, FLOW_MOD_AT, FlowMod, OFPFC, OFPFF, OFPIT, OfpMessage, OFPT } from '@nicvisor/openflow';
import type { WireFlowModAccept } from '@nicvisor/tenancy';
import type { DelegatedConnection } from './delegated-connection.js';
import { askFlowRemoved } from './shadow.js';

/** What an error gives back of the offending message (§7.5.4.1: at least 64 bytes). */
const ERROR_DATA = 64;

/** A copy of `raw` (Buffer.from takes a slower, more general way to the same bytes). */
function copyOf(raw: Buffer): Buffer {
  const b = Buffer.allocUnsafe(raw.length);
  b.set(raw);
  return b;
}

function clearSendFlowRem(b: Buffer): void {
  b.writeUInt16BE(b.readUInt16BE(FLOW_MOD_AT.flags) & ~OFPFF.SEND_FLOW_REM, FLOW_MOD_AT.flags);
}

/** The messages one vNF message became (an OFPTT_ALL delete: one per owned table): the vNF hears of the first error only. */
export interface RelayGroup {
  failed: boolean;
}

export class Relayed {
  /** The vNF's first bytes, when `out` was re-encoded (so they cannot be rebuilt from it). */
  private vnfHead: Buffer | undefined;
  /** The vNF's table id byte, when `out` has it patched; -1 otherwise. */
  private vnfTable = -1;
  /** Goto-table bytes patched within the first 64 bytes: offset, the vNF's value, … */
  private gotoPatches: number[] | undefined;
  /** OFPFF_SEND_FLOW_REM is set in `out` by nicvisor, not by the vNF (askFlowRemoved). */
  private flowRemAsked = false;

  private constructor(
    readonly conn: DelegatedConnection,
    /** The xid the vNF used. */
    readonly vnfXid: number,
    /** The bytes sent to the NIC (the session writes its xid in them). */
    readonly out: Buffer,
    /** The message as sent, when the shadow needs it decoded; undefined for a flow ADD (`out` says it all). */
    readonly msg: OfpMessage | undefined,
    readonly type: number,
    /** An OFPT_FLOW_MOD OFPFC_ADD: recorded in the shadow from `out`. */
    readonly flowAdd: boolean,
    readonly group: RelayGroup | undefined,
  ) {}

  /**
   * `m` (one of the policy's messages for the vNF's `vnfMsg`, whose bytes
   * are `raw`, a view the framer may reuse) as it goes to the NIC.
   */
  static of(conn: DelegatedConnection, vnfMsg: OfpMessage, vnfXid: number, raw: Buffer, m: OfpMessage, group: RelayGroup | undefined): Relayed {
    const flowAdd = m.type === OFPT.FLOW_MOD && m.command === OFPFC.ADD;
    const keep = flowAdd ? undefined : m;
    if (m === vnfMsg) return new Relayed(conn, vnfXid, copyOf(raw), keep, m.type, flowAdd, group).tracked();
    if (m.type === OFPT.FLOW_MOD && vnfMsg.type === OFPT.FLOW_MOD) {
      const r = new Relayed(conn, vnfXid, copyOf(raw), keep, m.type, flowAdd, group);
      if (r.patchTableIds(raw, vnfMsg, m)) return r.tracked();
    }
    const r = new Relayed(conn, vnfXid, encodeMessage(m), keep, m.type, flowAdd, group);
    r.vnfHead = Buffer.from(raw.subarray(0, ERROR_DATA));
    return r.tracked();
  }

  /**
   * An OFPFC_ADD accepted on its bytes (verifyFlowModWire), or relayed
   * untranslated (`accept` undefined: the policy off, in benchmarks only).
   */
  static ofWire(conn: DelegatedConnection, vnfXid: number, raw: Buffer, accept: WireFlowModAccept | undefined): Relayed {
    const r = new Relayed(conn, vnfXid, copyOf(raw), undefined, OFPT.FLOW_MOD, true, undefined);
    if (accept === undefined) return r.tracked();
    const out = r.out;
    if (accept.tableId !== raw[FLOW_MOD_AT.tableId]) {
      r.vnfTable = raw[FLOW_MOD_AT.tableId];
      out[FLOW_MOD_AT.tableId] = accept.tableId;
    }
    const g = accept.gotos;
    for (let i = 0; i < g.length; i += 2) {
      const at = g[i];
      if (at < ERROR_DATA) (r.gotoPatches ??= []).push(at, raw[at]);
      out[at] = g[i + 1];
    }
    return r.tracked();
  }

  /** A flow ADD with a timeout asks the NIC for its FLOW_REMOVED (askFlowRemoved): the shadow must hear of its expiry. */
  private tracked(): this {
    if (this.flowAdd) this.flowRemAsked = askFlowRemoved(this.out);
    return this;
  }

  /**
   * The confirmed ADD's bytes as the vNF asked for them (the flag nicvisor
   * added cleared again), for the shadow to keep: once confirmed, `out`
   * goes nowhere else.
   */
  shadowBytes(): Buffer {
    if (this.flowRemAsked) clearSendFlowRem(this.out);
    return this.out;
  }

  /**
   * Makes `out` (a copy of the vNF's `raw`) say what `phys` says, when
   * `phys` differs from the vNF's `vnf` only in its table id and goto-table
   * ids; false (out unusable) otherwise.
   */
  private patchTableIds(raw: Buffer, vnf: FlowMod, phys: FlowMod): boolean {
    if (
      phys.match !== vnf.match ||
      phys.cookie !== vnf.cookie ||
      phys.cookieMask !== vnf.cookieMask ||
      phys.command !== vnf.command ||
      phys.idleTimeout !== vnf.idleTimeout ||
      phys.hardTimeout !== vnf.hardTimeout ||
      phys.priority !== vnf.priority ||
      phys.bufferId !== vnf.bufferId ||
      phys.outPort !== vnf.outPort ||
      phys.outGroup !== vnf.outGroup ||
      phys.flags !== vnf.flags ||
      raw[FLOW_MOD_AT.tableId] !== vnf.tableId
    ) {
      return false;
    }
    const out = this.out;
    if (phys.tableId !== vnf.tableId) {
      this.vnfTable = vnf.tableId;
      out[FLOW_MOD_AT.tableId] = phys.tableId;
    }
    if (phys.instructions === vnf.instructions) return true;
    const a = vnf.instructions;
    const b = phys.instructions;
    if (a.length !== b.length) return false;
    // The instructions follow the match, padded to 8 bytes; the decoder read them in this order.
    let p = FLOW_MOD_AT.match + ((raw.readUInt16BE(FLOW_MOD_AT.match + 2) + 7) & ~7);
    for (let i = 0; i < a.length; i++) {
      if (p + 4 > raw.length) return false;
      const type = raw.readUInt16BE(p);
      const len = raw.readUInt16BE(p + 2);
      const x = a[i];
      const y = b[i];
      if (len < 4 || type !== x.type) return false;
      if (x !== y) {
        if (x.type !== OFPIT.GOTO_TABLE || y.type !== OFPIT.GOTO_TABLE || len !== 8 || raw[p + 4] !== x.tableId) return false;
        if (p + 4 < ERROR_DATA) (this.gotoPatches ??= []).push(p + 4, x.tableId);
        out[p + 4] = y.tableId;
      }
      p += len;
    }
    return p === raw.length;
  }

  /** The first 64 bytes of the message as the vNF sent it (for an error's data). */
  vnfBytes(): Buffer {
    if (this.vnfHead !== undefined) return this.vnfHead;
    const b = Buffer.from(this.out.subarray(0, ERROR_DATA));
    if (b.length >= 8) b.writeUInt32BE(this.vnfXid, 4);
    if (this.vnfTable >= 0) b[FLOW_MOD_AT.tableId] = this.vnfTable;
    if (this.flowRemAsked) clearSendFlowRem(b);
    const g = this.gotoPatches;
    if (g !== undefined) for (let i = 0; i < g.length; i += 2) b[g[i]] = g[i + 1];
    return b;
  }
}
