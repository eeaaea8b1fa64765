/**
 * MULTIPART requests from a vNF and the NIC's replies on their way back
 * (§7.3.5). Requests are narrowed to what the tenant owns and translated to
 * physical ids; every reply part is then passed through
 * `filterMultipartReply`, which drops what is not the tenant's and
 * translates table ids back to the vNF's view.
 */
import { OFPBRC, OFPET, OFPIT, OFPMP, OFPMPF, OFPT, OFPTFFC, OFPTFPT, OFPTT } from '@nicvisor/openflow';
import type {
  AggregateStatsReply,
  FlowStats,
  Instruction,
  MultipartReply,
  MultipartReplyBody,
  MultipartRequest,
  TableFeatureProp,
  TableFeatures,
} from '@nicvisor/openflow';
import { Ownership } from '../model.js';
import { isInstancePort, isTenantTable, ownedTables, resolveTable, toVirtual } from '../view.js';
import { isTenantGroupId, isTenantMeterId } from './actions.js';
import { deny, Denied } from './result.js';

/**
 * How the replies to an accepted request are put together:
 * - `each`: one request went out; pass every reply part through
 *   `filterMultipartReply` and send on what it returns;
 * - `aggregate`: one request per owned table went out (an OFPTT_ALL
 *   aggregate cannot be narrowed any other way); collect their replies and
 *   answer with `mergeAggregateReplies`.
 */
export type ReplyPlan = 'each' | 'aggregate';

export interface MultipartAccepted {
  ok: true;
  messages: MultipartRequest[];
  reply: ReplyPlan;
}

export type MultipartVerdict = MultipartAccepted | Denied;

function forward(req: MultipartRequest): MultipartAccepted {
  return { ok: true, messages: [req], reply: 'each' };
}

/**
 * Verifies a multipart request:
 * - FLOW / AGGREGATE: a table outside the view → OFPBRC_BAD_TABLE_ID, not
 *   owned → OFPBRC_EPERM, owned → translated. OFPTT_ALL: a FLOW request goes
 *   out as is and its reply is filtered to the tenant's tables (one round
 *   trip); an AGGREGATE one is fanned out per owned table and merged.
 * - TABLE_FEATURES with a non-empty body (setting features) → OFPTFFC_EPERM;
 *   an empty one goes out, its reply narrowed to owned tables.
 * - TABLE, PORT_STATS, PORT_DESC, QUEUE, GROUP, GROUP_DESC, METER,
 *   METER_CONFIG, and DESC / GROUP_FEATURES / METER_FEATURES: go out as is,
 *   the reply narrowed (or clamped to the quotas, for the features).
 * - EXPERIMENTER → OFPBRC_BAD_EXPERIMENTER.
 */
export function verifyMultipartRequest(own: Ownership, req: MultipartRequest): MultipartVerdict {
  const body = req.body;
  switch (body.mpType) {
    case OFPMP.FLOW:
    case OFPMP.AGGREGATE: {
      if (body.tableId === OFPTT.ALL) {
        if (body.mpType === OFPMP.FLOW) return forward(req);
        return { ok: true, messages: ownedTables(own).map((tableId) => ({ ...req, body: { ...body, tableId } })), reply: 'aggregate' };
      }
      const ref = resolveTable(own, body.tableId);
      if (ref.kind === 'outside') return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, `table ${body.tableId} is outside the vNF's view`);
      if (ref.kind === 'foreign') return deny(OFPET.BAD_REQUEST, OFPBRC.EPERM, `table ${body.tableId} is not the tenant's`);
      return forward(ref.physical === body.tableId ? req : { ...req, body: { ...body, tableId: ref.physical } });
    }
    case OFPMP.TABLE_FEATURES:
      if (body.entries.length > 0) return deny(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'table features are the operator\'s to set');
      return forward(req);
    case OFPMP.EXPERIMENTER:
      return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, `experimenter 0x${body.experimenter.toString(16)} is not supported`);
    case OFPMP.DESC:
    case OFPMP.TABLE:
    case OFPMP.PORT_STATS:
    case OFPMP.QUEUE:
    case OFPMP.GROUP:
    case OFPMP.GROUP_DESC:
    case OFPMP.GROUP_FEATURES:
    case OFPMP.METER:
    case OFPMP.METER_CONFIG:
    case OFPMP.METER_FEATURES:
    case OFPMP.PORT_DESC:
      return forward(req);
    default:
      return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, `unknown multipart type ${(body as { mpType: number }).mpType}`);
  }
}

function viewInstructions(own: Ownership, list: Instruction[]): Instruction[] {
  let out: Instruction[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const ins = list[i];
    if (ins.type !== OFPIT.GOTO_TABLE) continue;
    const v = toVirtual(own, ins.tableId);
    if (v !== undefined && v !== ins.tableId) {
      out ??= list.slice();
      out[i] = { type: OFPIT.GOTO_TABLE, tableId: v };
    }
  }
  return out ?? list;
}

function viewFlowStats(own: Ownership, entries: FlowStats[]): FlowStats[] {
  const out: FlowStats[] = [];
  for (const f of entries) {
    const tableId = toVirtual(own, f.tableId);
    if (tableId === undefined) continue;
    out.push({ ...f, tableId, instructions: viewInstructions(own, f.instructions) });
  }
  return out;
}

function viewNextTables(own: Ownership, ids: number[]): number[] {
  const out: number[] = [];
  for (const t of ids) {
    const v = toVirtual(own, t);
    if (v !== undefined) out.push(v);
  }
  return out;
}

function viewTableFeatures(own: Ownership, entries: TableFeatures[]): TableFeatures[] {
  const out: TableFeatures[] = [];
  for (const tf of entries) {
    const tableId = toVirtual(own, tf.tableId);
    if (tableId === undefined) continue;
    const properties = tf.properties.map((p): TableFeatureProp =>
      p.type === OFPTFPT.NEXT_TABLES || p.type === OFPTFPT.NEXT_TABLES_MISS
        ? { type: p.type, nextTableIds: viewNextTables(own, p.nextTableIds) }
        : p,
    );
    out.push({ ...tf, tableId, maxEntries: Math.min(tf.maxEntries, own.quotas.maxFlows), properties });
  }
  return out;
}

function viewBody(own: Ownership, body: MultipartReplyBody): MultipartReplyBody {
  switch (body.mpType) {
    case OFPMP.FLOW:
      return { ...body, entries: viewFlowStats(own, body.entries) };
    case OFPMP.TABLE:
      return {
        ...body,
        entries: body.entries.filter((t) => isTenantTable(own, t.tableId)).map((t) => ({ ...t, tableId: toVirtual(own, t.tableId) as number })),
      };
    case OFPMP.TABLE_FEATURES:
      return { ...body, entries: viewTableFeatures(own, body.entries) };
    case OFPMP.PORT_STATS:
      return { ...body, entries: body.entries.filter((p) => isInstancePort(own, p.portNo)) };
    case OFPMP.PORT_DESC:
      return { ...body, entries: body.entries.filter((p) => isInstancePort(own, p.portNo)) };
    case OFPMP.QUEUE:
      return { ...body, entries: body.entries.filter((q) => isInstancePort(own, q.portNo)) };
    case OFPMP.GROUP:
      return { ...body, entries: body.entries.filter((g) => isTenantGroupId(own, g.groupId)) };
    case OFPMP.GROUP_DESC:
      return { ...body, entries: body.entries.filter((g) => isTenantGroupId(own, g.groupId)) };
    case OFPMP.METER:
      return { ...body, entries: body.entries.filter((m) => isTenantMeterId(own, m.meterId)) };
    case OFPMP.METER_CONFIG:
      return { ...body, entries: body.entries.filter((m) => isTenantMeterId(own, m.meterId)) };
    case OFPMP.GROUP_FEATURES: {
      const q = own.quotas.maxGroups;
      const [a, s, i, f] = body.maxGroups;
      return { ...body, maxGroups: [Math.min(a, q), Math.min(s, q), Math.min(i, q), Math.min(f, q)] };
    }
    case OFPMP.METER_FEATURES:
      return { ...body, maxMeter: Math.min(body.maxMeter, own.quotas.maxMeters) };
    default:
      // DESC, AGGREGATE (narrowed on the request side), EXPERIMENTER (never requested).
      return body;
  }
}

/**
 * One reply part from the NIC as the vNF may see it: entries that are not
 * the tenant's dropped (operator tables, other ports, reserved groups and
 * meters), table ids and goto targets translated to the view, NEXT_TABLES
 * narrowed to owned tables, features clamped to the quotas. Flags unchanged
 * (filterMultipartReplies sets REPLY_MORE for the whole reply).
 */
export function filterMultipartReply(own: Ownership, reply: MultipartReply): MultipartReply {
  const body = viewBody(own, reply.body);
  return body === reply.body ? reply : { ...reply, body };
}

/**
 * A whole multipart reply from the NIC (every part, in order) as the vNF may
 * see it: each part filtered, parts left without entries dropped, the last
 * part sent without REPLY_MORE. An empty final part is legal OpenFlow, but
 * Open vSwitch's parser refuses one after non-empty parts of an array reply,
 * so the reply ends on its last non-empty part; a reply filtered to nothing
 * is one empty final part.
 */
export function filterMultipartReplies(own: Ownership, parts: readonly MultipartReply[]): MultipartReply[] {
  const view: MultipartReply[] = [];
  let last: MultipartReply | undefined;
  for (const part of parts) {
    last = filterMultipartReply(own, part);
    if (!('entries' in last.body) || last.body.entries.length > 0) view.push(last);
  }
  if (view.length === 0) return last === undefined ? [] : [{ ...last, flags: last.flags & ~OFPMPF.REPLY_MORE }];
  return view.map((p, i) => {
    const flags = i === view.length - 1 ? p.flags & ~OFPMPF.REPLY_MORE : p.flags | OFPMPF.REPLY_MORE;
    return flags === p.flags ? p : { ...p, flags };
  });
}

/**
 * The answer to an OFPTT_ALL aggregate request fanned out per owned table:
 * the NIC's per-table replies summed, with the vNF's xid.
 */
export function mergeAggregateReplies(xid: number, replies: readonly MultipartReply[]): MultipartReply {
  const sum: AggregateStatsReply = { mpType: OFPMP.AGGREGATE, packetCount: 0n, byteCount: 0n, flowCount: 0 };
  for (const r of replies) {
    if (r.body.mpType !== OFPMP.AGGREGATE) continue;
    sum.packetCount = BigInt.asUintN(64, sum.packetCount + r.body.packetCount);
    sum.byteCount = BigInt.asUintN(64, sum.byteCount + r.body.byteCount);
    sum.flowCount = (sum.flowCount + r.body.flowCount) >>> 0;
  }
  return { type: OFPT.MULTIPART_REPLY, xid, flags: 0, body: sum };
}
