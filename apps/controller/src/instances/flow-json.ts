/**
 * Flows between the API's JSON and the codec's objects: an operator
 * flow-mod from its JSON fields (the inverse of the codec's toJson for
 * match, instructions and actions), and shadow entries as JSON with their
 * owner and their OVS-style text, in the physical or the vNF's view.
 */
import {
  FlowMod,
  FlowStats,
  GroupMod,
  Instruction,
  Match,
  MeterMod,
  OFPAT,
  OFPCML,
  OFPFC,
  OFPG,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPP,
  OFPT,
  OFPTT,
  oxmByName,
  OxmField,
  OxmValue,
  type Action,
  type MeterBand,
} from '@nicvisor/openflow';
import { FlowSyntaxError, formatFlow, formatInstructions, parseFlowMod, toJson, type AnyMessage, type JsonValue } from '@nicvisor/openflow/text/index.js';
import { OPERATOR_COOKIES, toVirtual, type Ownership, type Principal } from '@nicvisor/tenancy';
import { badRequest } from './instances.errors.js';
import type { OperatorFlowFieldsDto, OperatorGroupDto, OperatorMeterDto } from './instances.dto.js';
import type { OwnedFlow } from './instance-runtime.js';

type Obj = Record<string, unknown>;

function named(table: Record<string, number>, v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const n = table[v.toUpperCase()];
    if (n !== undefined) return n;
  }
  throw badRequest(`${field} must be one of ${Object.keys(table).join(', ')}`, field);
}

function uint(v: unknown, field: string, max = 0xffffffff): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v;
  throw badRequest(`${field} must be an integer 0..${max}`, field);
}

function oxmValue(kind: string, v: unknown, field: string): OxmValue {
  switch (kind) {
    case 'uint':
      return uint(v, field);
    case 'u64':
      if ((typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) || (typeof v === 'number' && Number.isInteger(v) && v >= 0)) return BigInt(v);
      throw badRequest(`${field} must be a 64-bit integer (decimal or 0x hex string)`, field);
    default:
      if (typeof v === 'string' && v.length > 0) return v;
      throw badRequest(`${field} must be an address string`, field);
  }
}

function oxmField(o: unknown, field: string): OxmField {
  if (typeof o !== 'object' || o === null) throw badRequest(`${field} must be an object {field, value, mask?}`, field);
  const { field: name, value, mask } = o as Obj;
  const d = typeof name === 'string' ? oxmByName(name.toLowerCase()) : undefined;
  if (d === undefined) throw badRequest(`${field}.field must be an OXM field name (in_port, eth_type, ipv4_dst, …)`, `${field}.field`);
  const f: OxmField = { field: d.name, value: oxmValue(d.kind, value, `${field}.value`) };
  if (mask !== undefined && mask !== null) {
    if (!d.maskable) throw badRequest(`${field}.mask: ${d.name} is not maskable`, `${field}.mask`);
    f.mask = oxmValue(d.kind, mask, `${field}.mask`);
  }
  return f;
}

export function action(o: unknown, field: string): Action {
  if (typeof o !== 'object' || o === null) throw badRequest(`${field} must be an object {type, …}`, field);
  const a = o as Obj;
  const type = named(OFPAT, a.type, `${field}.type`);
  switch (type) {
    case OFPAT.OUTPUT:
      return { type, port: uint(a.port, `${field}.port`), maxLen: a.maxLen === undefined ? OFPCML.NO_BUFFER : uint(a.maxLen, `${field}.maxLen`, 0xffff) };
    case OFPAT.COPY_TTL_OUT:
    case OFPAT.COPY_TTL_IN:
    case OFPAT.DEC_MPLS_TTL:
    case OFPAT.POP_VLAN:
    case OFPAT.DEC_NW_TTL:
    case OFPAT.POP_PBB:
      return { type };
    case OFPAT.SET_MPLS_TTL:
      return { type, mplsTtl: uint(a.mplsTtl, `${field}.mplsTtl`, 255) };
    case OFPAT.SET_NW_TTL:
      return { type, nwTtl: uint(a.nwTtl, `${field}.nwTtl`, 255) };
    case OFPAT.PUSH_VLAN:
    case OFPAT.PUSH_MPLS:
    case OFPAT.PUSH_PBB:
    case OFPAT.POP_MPLS:
      return { type, ethertype: uint(a.ethertype, `${field}.ethertype`, 0xffff) };
    case OFPAT.SET_QUEUE:
      return { type, queueId: uint(a.queueId, `${field}.queueId`) };
    case OFPAT.GROUP:
      return { type, groupId: uint(a.groupId, `${field}.groupId`, OFPG.MAX) };
    case OFPAT.SET_FIELD:
      return { type, field: oxmField(a.field, `${field}.field`) };
    default:
      throw badRequest(`${field}.type ${String(a.type)} is not supported here`, `${field}.type`);
  }
}

function instruction(o: unknown, field: string): Instruction {
  if (typeof o !== 'object' || o === null) throw badRequest(`${field} must be an object {type, …}`, field);
  const i = o as Obj;
  const type = named(OFPIT, i.type, `${field}.type`);
  switch (type) {
    case OFPIT.GOTO_TABLE:
      return { type, tableId: uint(i.tableId, `${field}.tableId`, OFPTT.MAX) };
    case OFPIT.WRITE_METADATA:
      return {
        type,
        metadata: oxmValue('u64', i.metadata, `${field}.metadata`) as bigint,
        metadataMask: i.metadataMask === undefined ? 0xffffffffffffffffn : (oxmValue('u64', i.metadataMask, `${field}.metadataMask`) as bigint),
      };
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS: {
      if (!Array.isArray(i.actions)) throw badRequest(`${field}.actions must be an array`, `${field}.actions`);
      return { type, actions: i.actions.map((a, k) => action(a, `${field}.actions.${k}`)) };
    }
    case OFPIT.CLEAR_ACTIONS:
      return { type, actions: [] };
    case OFPIT.METER:
      return { type, meterId: uint(i.meterId, `${field}.meterId`) };
    default:
      throw badRequest(`${field}.type ${String(i.type)} is not supported here`, `${field}.type`);
  }
}

/** What an operator flow-mod does: ADD, MODIFY(_STRICT) or DELETE(_STRICT). */
export type OperatorFlowOp = 'add' | 'modify' | 'delete';

/**
 * An operator flow-mod from the API's JSON. The cookie is put in the
 * operator's namespace; ADD when adding; MODIFY / DELETE (strict or not)
 * select only the operator's flows (its cookie namespace), only this cookie
 * when one was given.
 */
export function operatorFlowMod(dto: OperatorFlowFieldsDto & { strict?: boolean }, op: OperatorFlowOp): FlowMod {
  const match: Match = (dto.match ?? []).map((m, k) => oxmField(m, `match.${k}`));
  const instructions = op === 'delete' ? [] : (dto.instructions ?? []).map((i, k) => instruction(i, `instructions.${k}`));
  const low = BigInt(dto.cookie ?? '0');
  const cookie = OPERATOR_COOKIES.value | (low & ~OPERATOR_COOKIES.mask);
  return {
    type: OFPT.FLOW_MOD,
    xid: 0,
    cookie,
    cookieMask: op === 'add' ? 0n : dto.cookie === undefined ? OPERATOR_COOKIES.mask : 0xffffffffffffffffn,
    tableId: dto.tableId ?? 0,
    command: commandOf(op, dto.strict ?? false),
    idleTimeout: dto.idleTimeout ?? 0,
    hardTimeout: dto.hardTimeout ?? 0,
    priority: dto.priority ?? 0x8000,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match,
    instructions,
  };
}

function commandOf(op: OperatorFlowOp, strict: boolean): number {
  if (op === 'add') return OFPFC.ADD;
  if (op === 'modify') return strict ? OFPFC.MODIFY_STRICT : OFPFC.MODIFY;
  return strict ? OFPFC.DELETE_STRICT : OFPFC.DELETE;
}

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/**
 * An operator flow-mod from ovs-ofctl text (`field` names the request field
 * it came in: "flow" or "filter"), parsed with libs/openflow's parseFlowMod.
 * A syntax error is a 400 naming the token and its position (1-based). The
 * table is the text's (`table=`; absent: 0 for an add, OFPTT_ALL for a
 * modify or delete, which the caller narrows to the operator's tables). The
 * cookie goes into the operator's namespace: its top 16 bits may be given
 * only as that namespace; a modify or delete selects only operator flows,
 * and within them what `cookie=V/M` selects.
 */
export function operatorFlowModFromText(text: string, field: 'flow' | 'filter', op: OperatorFlowOp, strict = false): FlowMod {
  let fm: FlowMod;
  try {
    fm = parseFlowMod(text, { command: op, strict });
  } catch (e) {
    if (e instanceof FlowSyntaxError) throw badRequest(`${field}: ${e.message}`, field, { token: e.token, position: e.position + 1 });
    throw e;
  }
  if (fm.flags !== 0) throw badRequest(`${field}: flow flags (send_flow_rem, check_overlap, …) cannot be given to operator flows`, field);
  const ns = OPERATOR_COOKIES.mask;
  const top = fm.cookie & ns;
  if (top !== 0n && top !== OPERATOR_COOKIES.value) {
    throw badRequest(`${field}: cookie ${hex(fm.cookie)}: its top 16 bits are nicvisor's operator namespace (${hex(OPERATOR_COOKIES.value)}); give at most 48 bits`, field);
  }
  if (op === 'add') {
    fm.cookie = OPERATOR_COOKIES.value | (fm.cookie & ~ns);
    fm.cookieMask = 0n;
  } else {
    const low = fm.cookieMask === 0n ? 0n : fm.cookieMask & ~ns;
    fm.cookieMask = ns | low;
    fm.cookie = OPERATOR_COOKIES.value | (fm.cookie & low);
  }
  if (op !== 'delete') {
    fm.outPort = OFPP.ANY;
    fm.outGroup = OFPG.ANY;
  }
  fm.bufferId = 0xffffffff;
  return fm;
}

const GROUP_TYPES: Record<string, number> = { ALL: OFPGT.ALL, SELECT: OFPGT.SELECT, INDIRECT: OFPGT.INDIRECT, FF: OFPGT.FF };

/** An operator OFPGC_ADD from the API's JSON (what `nicvisor add-group` sends: the codec's toJson of the buckets). */
export function operatorGroupMod(dto: OperatorGroupDto): GroupMod {
  const groupType = named(GROUP_TYPES, dto.groupType, 'groupType');
  if (groupType > OFPGT.FF) throw badRequest('groupType must be one of 0 (all), 1 (select), 2 (indirect), 3 (ff)', 'groupType');
  const buckets = dto.buckets.map((o, k) => {
    const b = o as Obj;
    const f = `buckets.${k}`;
    if (b.actions !== undefined && !Array.isArray(b.actions)) throw badRequest(`${f}.actions must be an array`, `${f}.actions`);
    return {
      weight: b.weight === undefined ? (groupType === OFPGT.SELECT ? 1 : 0) : uint(b.weight, `${f}.weight`, 0xffff),
      watchPort: b.watchPort === undefined ? OFPP.ANY : uint(b.watchPort, `${f}.watchPort`),
      watchGroup: b.watchGroup === undefined ? OFPG.ANY : uint(b.watchGroup, `${f}.watchGroup`),
      actions: ((b.actions as unknown[] | undefined) ?? []).map((a, j) => action(a, `${f}.actions.${j}`)),
    };
  });
  return { type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.ADD, groupType, groupId: dto.groupId, buckets };
}

/** An operator OFPGC_DELETE of one group. */
export function groupDelete(groupId: number): GroupMod {
  return { type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.DELETE, groupType: 0, groupId, buckets: [] };
}

/** An operator OFPMC_ADD from the API's JSON (what `nicvisor add-meter` sends). */
export function operatorMeterMod(dto: OperatorMeterDto): MeterMod {
  const bands = dto.bands.map((o, k): MeterBand => {
    const b = o as Obj;
    const f = `bands.${k}`;
    const type = named(OFPMBT, b.type, `${f}.type`);
    const rate = uint(b.rate, `${f}.rate`);
    const burstSize = b.burstSize === undefined ? 0 : uint(b.burstSize, `${f}.burstSize`);
    if (type === OFPMBT.DROP) return { type, rate, burstSize };
    if (type === OFPMBT.DSCP_REMARK) return { type, rate, burstSize, precLevel: b.precLevel === undefined ? 0 : uint(b.precLevel, `${f}.precLevel`, 255) };
    throw badRequest(`${f}.type must be DROP or DSCP_REMARK`, `${f}.type`);
  });
  return { type: OFPT.METER_MOD, xid: 0, command: OFPMC.ADD, flags: dto.flags ?? OFPMF.KBPS, meterId: dto.meterId, bands };
}

/** An operator OFPMC_DELETE of one meter. */
export function meterDelete(meterId: number): MeterMod {
  return { type: OFPT.METER_MOD, xid: 0, command: OFPMC.DELETE, flags: 0, meterId, bands: [] };
}

export function principalText(p: Principal | null): string {
  if (p === null) return 'unowned';
  return p.kind === 'operator' ? 'operator' : `tenant:${p.tenant}`;
}

/** A JSON-safe copy of any codec object (bigint → decimal string, Buffer → hex, type numbers → names in lists). */
export function jsonOf(x: unknown): JsonValue {
  return toJson({ value: x } as unknown as AnyMessage).value ?? null;
}

/** One flow as `ovs-ofctl dump-flows` prints it. */
export function flowText(f: FlowStats): string {
  const head = `cookie=0x${f.cookie.toString(16)}, table=${f.tableId}, n_packets=${f.packetCount}, n_bytes=${f.byteCount}, `;
  const timeouts = `${f.idleTimeout ? `idle_timeout=${f.idleTimeout}, ` : ''}${f.hardTimeout ? `hard_timeout=${f.hardTimeout}, ` : ''}`;
  return `${head}${timeouts}${formatFlow(f.priority, f.match)} actions=${formatInstructions(f.instructions)}`;
}

/** A flow in the vNF's numbering: its table and goto targets through the view. */
function virtualFlow(own: Ownership, f: FlowStats): FlowStats {
  const v = (t: number): number => toVirtual(own, t) ?? t;
  return {
    ...f,
    tableId: v(f.tableId),
    instructions: f.instructions.map((i) => (i.type === OFPIT.GOTO_TABLE ? { ...i, tableId: v(i.tableId) } : i)),
  };
}

export interface FlowJson {
  owner: string;
  text: string;
  flow: JsonValue;
}

/** Flows as the API shows them: physical (every entry, with its owner) or the vNF's view (its own, renumbered). */
export function flowsJson(own: Ownership, flows: readonly OwnedFlow[], view: 'physical' | 'vnf'): FlowJson[] {
  const selected =
    view === 'physical'
      ? flows
      : flows.filter((f) => f.owner?.kind === 'tenant' && f.owner.tenant === own.tenant).map((f) => ({ ...f, flow: virtualFlow(own, f.flow) }));
  return selected.map((f) => ({ owner: principalText(f.owner), text: flowText(f.flow), flow: jsonOf(f.flow) }));
}
