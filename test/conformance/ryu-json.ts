/**
 * Reads Ryu's JSON form of an OpenFlow 1.3 message losslessly and compares
 * it, field by field, with what our codec decoded from the same bytes.
 *
 * Every name mapping lives here, once:
 *   - MESSAGE_CLASSES: Ryu message class → OFPT type (+ multipart type);
 *   - RENAMES: Ryu member → our member where it is more than snake→camel;
 *   - length members (len/length/actions_len) are checked against the
 *     length our encoder computes for the same structure, never ignored;
 *   - NOT_COMPARED: every Ryu member we deliberately do not compare, with why;
 *   - OURS_ONLY: every member of ours Ryu's JSON has no counterpart for, with why;
 *   - EXTENSION_OXMS: Ryu's names for NXM / ONF fields → our opaque OXM numbers.
 * A Ryu member that is in none of these fails the comparison ("unmapped"),
 * and so does a member of ours that no Ryu member accounted for.
 */
import { isSafeNumber, parse } from 'lossless-json';
import {
  actionLength,
  actionsLength,
  instructionLength,
  messageLength,
  OFPMT,
  OFPMP,
  OFPXMC,
  OFPT,
  oxmByName,
  oxmLength,
  tableFeaturePropLength,
  writeIpv4,
  writeIpv6,
  writeMac,
} from '@nicvisor/openflow';
import type { Action, Instruction, OfpMessage, OxmTlv, TableFeatureProp } from '@nicvisor/openflow';

// ---------------------------------------------------------------------------
// Reading

/** Parses Ryu's JSON; integers beyond 2^53 become bigint, never rounded. */
export function parseRyuJson(text: string): unknown {
  return parse(text, undefined, (s: string) => (isSafeNumber(s) ? Number(s) : BigInt(s)));
}

// ---------------------------------------------------------------------------
// Name tables

type MsgClass = { type: number; mp?: number };

/** Ryu message class → our `type` (OFPT) and, for multipart, the multipart type. */
export const MESSAGE_CLASSES: Readonly<Record<string, MsgClass>> = {
  OFPHello: { type: OFPT.HELLO },
  OFPErrorMsg: { type: OFPT.ERROR },
  OFPEchoRequest: { type: OFPT.ECHO_REQUEST },
  OFPEchoReply: { type: OFPT.ECHO_REPLY },
  OFPExperimenter: { type: OFPT.EXPERIMENTER },
  OFPFeaturesRequest: { type: OFPT.FEATURES_REQUEST },
  OFPSwitchFeatures: { type: OFPT.FEATURES_REPLY },
  OFPGetConfigRequest: { type: OFPT.GET_CONFIG_REQUEST },
  OFPGetConfigReply: { type: OFPT.GET_CONFIG_REPLY },
  OFPSetConfig: { type: OFPT.SET_CONFIG },
  OFPPacketIn: { type: OFPT.PACKET_IN },
  OFPFlowRemoved: { type: OFPT.FLOW_REMOVED },
  OFPPortStatus: { type: OFPT.PORT_STATUS },
  OFPPacketOut: { type: OFPT.PACKET_OUT },
  OFPFlowMod: { type: OFPT.FLOW_MOD },
  OFPGroupMod: { type: OFPT.GROUP_MOD },
  OFPPortMod: { type: OFPT.PORT_MOD },
  OFPTableMod: { type: OFPT.TABLE_MOD },
  OFPBarrierRequest: { type: OFPT.BARRIER_REQUEST },
  OFPBarrierReply: { type: OFPT.BARRIER_REPLY },
  OFPQueueGetConfigRequest: { type: OFPT.QUEUE_GET_CONFIG_REQUEST },
  OFPQueueGetConfigReply: { type: OFPT.QUEUE_GET_CONFIG_REPLY },
  OFPRoleRequest: { type: OFPT.ROLE_REQUEST },
  OFPRoleReply: { type: OFPT.ROLE_REPLY },
  OFPGetAsyncRequest: { type: OFPT.GET_ASYNC_REQUEST },
  OFPGetAsyncReply: { type: OFPT.GET_ASYNC_REPLY },
  OFPSetAsync: { type: OFPT.SET_ASYNC },
  OFPMeterMod: { type: OFPT.METER_MOD },
  OFPDescStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.DESC },
  OFPDescStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.DESC },
  OFPFlowStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.FLOW },
  OFPFlowStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.FLOW },
  OFPAggregateStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.AGGREGATE },
  OFPAggregateStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.AGGREGATE },
  OFPTableStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.TABLE },
  OFPTableStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.TABLE },
  OFPPortStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.PORT_STATS },
  OFPPortStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.PORT_STATS },
  OFPQueueStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.QUEUE },
  OFPQueueStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.QUEUE },
  OFPGroupStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.GROUP },
  OFPGroupStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.GROUP },
  OFPGroupDescStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.GROUP_DESC },
  OFPGroupDescStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.GROUP_DESC },
  OFPGroupFeaturesStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.GROUP_FEATURES },
  OFPGroupFeaturesStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.GROUP_FEATURES },
  OFPMeterStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.METER },
  OFPMeterStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.METER },
  OFPMeterConfigStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.METER_CONFIG },
  OFPMeterConfigStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.METER_CONFIG },
  OFPMeterFeaturesStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.METER_FEATURES },
  OFPMeterFeaturesStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.METER_FEATURES },
  OFPTableFeaturesStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.TABLE_FEATURES },
  OFPTableFeaturesStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.TABLE_FEATURES },
  OFPPortDescStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.PORT_DESC },
  OFPPortDescStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.PORT_DESC },
  OFPExperimenterStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.EXPERIMENTER },
  OFPExperimenterStatsReply: { type: OFPT.MULTIPART_REPLY, mp: OFPMP.EXPERIMENTER },
  ONFFlowMonitorStatsRequest: { type: OFPT.MULTIPART_REQUEST, mp: OFPMP.EXPERIMENTER },
};

/**
 * Ryu member → our member, per Ryu class, where the default (snake_case →
 * camelCase: `max_len` → `maxLen`) does not apply, plus the struct members
 * the brief singled out (listed explicitly even where the default agrees).
 * Ryu's `type` means different things per class, so it is mapped explicitly.
 */
export const RENAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  OFPErrorMsg: { type: 'errorType' },
  OFPGroupMod: { type: 'groupType' },
  OFPGroupDescStats: { type: 'groupType' },
  OFPSwitchFeatures: { datapath_id: 'datapathId', n_buffers: 'nBuffers', n_tables: 'nTables', auxiliary_id: 'auxiliaryId' },
  OFPTableFeaturePropNextTables: { table_ids: 'nextTableIds' },
};

/** Members of ours that Ryu's JSON has no counterpart for (keyed by Ryu class), and why. */
export const OURS_ONLY: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '*message': { xid: "the header's transaction id: Ryu's JSON leaves the header out (byte-exact re-encoding covers it)" },
  OFPHello: { version: "the header's version: Ryu's JSON leaves the header out (byte-exact re-encoding covers it)" },
  OFPMeterBandExperimenter: {
    data: "Ryu's class has no member for the bytes after the experimenter id; its `len` (compared) fixes their count, byte-exact re-encoding their content",
  },
  OFPSwitchFeatures: { reserved: "ofp_switch_features.reserved: Ryu's parser drops it (byte-exact re-encoding covers it)" },
  // Single-struct multipart bodies: our body object also carries the multipart type, compared via the message's Ryu `type`.
  ...Object.fromEntries(
    ['OFPDescStats', 'OFPAggregateStats', 'OFPGroupFeaturesStats', 'OFPMeterFeaturesStats', 'OFPExperimenterMultipart'].map((c) => [
      c,
      { mpType: "compared as the enclosing message's Ryu `type`" },
    ]),
  ),
  ONFFlowMonitorStatsRequest: { 'body.data': 'the opaque experimenter body; Ryu decodes it structurally (see NOT_COMPARED)' },
};

export interface NotCompared {
  cls: string;
  key: string;
  reason: string;
}

const OPAQUE_EXP = 'experimenter content is kept opaque by design; its experimenter id, subtype and byte length are compared';

/** Every Ryu member this comparison does not check, with the reason. */
export const NOT_COMPARED: readonly NotCompared[] = [
  ...['clause', 'n_clauses', 'id'].map((key) => ({ cls: 'NXActionConjunction', key, reason: OPAQUE_EXP })),
  ...['cookie', 'fin_hard_timeout', 'fin_idle_timeout', 'flags', 'hard_timeout', 'idle_timeout', 'priority', 'specs', 'table_id'].map(
    (key) => ({ cls: 'NXActionLearn', key, reason: OPAQUE_EXP }),
  ),
  {
    cls: 'ONFFlowMonitorStatsRequest',
    key: 'body',
    reason:
      'ONF flow-monitor requests are an experimenter multipart body, kept opaque (so their ONFFlowMonitorRequest members, match_len included, are not compared); the experimenter id, exp_type, flags and multipart type are compared; the opaque bytes are covered by byte-exact re-encoding and messageLength = file size',
  },
];

const NOT_COMPARED_INDEX = new Map<string, NotCompared>(NOT_COMPARED.map((n) => [`${n.cls}.${n.key}`, n]));

/** NXM / experimenter OXM fields Ryu names, mapped to our opaque OXM (class, field, payload prefix). */
export const EXTENSION_OXMS: Readonly<
  Record<string, { oxmClass: number; field: number; prefix: Buffer; kind: 'uint' | 'ipv4'; width: number }>
> = {
  tun_ipv4_src: { oxmClass: 0x0001, field: 31, prefix: Buffer.alloc(0), kind: 'ipv4', width: 4 }, // NXM_NX_TUN_IPV4_SRC
  tun_ipv4_dst: { oxmClass: 0x0001, field: 32, prefix: Buffer.alloc(0), kind: 'ipv4', width: 4 }, // NXM_NX_TUN_IPV4_DST
  conj_id: { oxmClass: 0x0001, field: 37, prefix: Buffer.alloc(0), kind: 'uint', width: 4 }, // NXM_NX_CONJ_ID
  // ONF extension EXT-256 (OF 1.3): OFPXMC_EXPERIMENTER, ONF id 0x4f4e4600, exp_type 2560
  pbb_uca: { oxmClass: 0xffff, field: 0, prefix: Buffer.from('4f4e46000a00', 'hex'), kind: 'uint', width: 1 },
};

// ---------------------------------------------------------------------------
// Helpers

type Path = (string | number)[];
type Obj = Record<string, unknown>;

export function snakeToCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);
}

/** Ryu wraps every object as `{ ClassName: { members } }`. */
function unwrap(v: unknown): [string, Obj] | undefined {
  if (!isObj(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0]) || !isObj(v[keys[0]])) return undefined;
  return [keys[0], v[keys[0]] as Obj];
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return `<${v.toString('hex')}>`;
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return String(v);
  }
}

function getAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const k of path) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

function replaceAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [k, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = root.slice();
    copy[k as number] = replaceAt(copy[k as number], rest, value);
    return copy;
  }
  const o = root as Obj;
  return { ...o, [k]: replaceAt(o[k as string], rest, value) };
}

/**
 * Our computed encoded length of the list element at `path`: the message
 * with that list holding 8 copies of the element, minus the message with the
 * list empty, divided by 8 (8 copies keep any enclosing 8-byte padding equal).
 */
function elementLength(root: OfpMessage, path: Path): number {
  const listPath = path.slice(0, -1);
  const elem = getAt(root, path);
  // An element's length depends on the element alone: cache by identity (decoded objects are never mutated).
  const cached = isObj(elem) ? ELEMENT_LENGTHS.get(elem) : undefined;
  if (cached !== undefined) return cached;
  const len = differentialLength(root, listPath, elem);
  if (isObj(elem)) ELEMENT_LENGTHS.set(elem, len);
  return len;
}

const ELEMENT_LENGTHS = new WeakMap<object, number>();

function differentialLength(root: OfpMessage, listPath: Path, elem: unknown): number {
  const eight = messageLength(replaceAt(root, listPath, new Array(8).fill(elem)) as OfpMessage);
  const none = messageLength(replaceAt(root, listPath, []) as OfpMessage);
  return (eight - none) / 8;
}

/** First differing byte between two buffers, as "differs at byte N (got 0x.., want 0x..)". */
export function firstDifference(got: Buffer, want: Buffer): string | undefined {
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
      return `differs at byte ${i} (got ${hex(got[i])}, want ${hex(want[i])})`;
    }
  }
  if (got.length !== want.length) return `differs in length: got ${got.length} bytes, want ${want.length}`;
  return undefined;
}

const SEMANTIC_LENGTHS = new Set(['maxLen', 'totalLen', 'missSendLen']);

/**
 * A table-features OXM id's `length` is the oxm_length the switch announces
 * for that field inside a bare 32-bit OXM header: data, not the size of
 * anything the encoder lays out, so it is not computed.
 */
const isOxmIdLength = (path: string, k: string) => k === 'length' && /\.oxmIds\[\d+\]$/.test(path);

/** Paths of keys that look like wire length fields (length, len, *Len, *Length) anywhere in the tree. */
export function lengthKeys(v: unknown, path = '$'): string[] {
  const out: string[] = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => out.push(...lengthKeys(x, `${path}[${i}]`)));
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if ((/^(len|length)$/i.test(k) || /(Len|Length)$/.test(k)) && !SEMANTIC_LENGTHS.has(k) && !isOxmIdLength(path, k)) out.push(`${path}.${k}`);
      out.push(...lengthKeys(x, `${path}.${k}`));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison

interface Ctx {
  root: OfpMessage;
  errors: string[];
  /** "Cls.key" of every NOT_COMPARED entry this comparison met. */
  skipped: Set<string>;
}

/** Compares Ryu's JSON (as parsed by parseRyuJson) with our decoded message; returns the mismatches. */
export function compareWithRyu(ryu: unknown, ours: OfpMessage, skipped = new Set<string>()): string[] {
  const ctx: Ctx = { root: ours, errors: [], skipped };
  const top = unwrap(ryu);
  if (top === undefined) return ['Ryu JSON is not a {Class: {...}} object'];
  const [cls, members] = top;
  const mc = MESSAGE_CLASSES[cls];
  if (mc === undefined) return [`no mapping for Ryu message class ${cls}`];
  const o = ours as unknown as Obj;
  if (o.type !== mc.type) ctx.errors.push(`$.type: got ${show(o.type)}, want ${mc.type} (${cls})`);
  const visited = new Set<string>(['type', ...Object.keys(OURS_ONLY['*message'])]);
  if (mc.mp !== undefined) {
    // Ryu's `type` member of a multipart message carries its multipart type; check it against the class too.
    if (members.type !== mc.mp) ctx.errors.push(`$: Ryu ${cls}.type is ${show(members.type)}, class implies ${mc.mp}`);
  }
  compareMembers(cls, members, o, ['$'], [], ctx, visited);
  return ctx.errors;
}

function renameFor(cls: string, key: string): string {
  return RENAMES[cls]?.[key] ?? snakeToCamel(key);
}

/**
 * Where a Ryu member lives in ours, as a path below the object being compared.
 * Multipart messages differ in shape: Ryu puts the request fields, the
 * multipart `type` and `flags` on the message and the reply entries in `body`;
 * ours is `{ flags, body: { mpType, ...request fields | entries | single struct } }`.
 */
function ourPathFor(cls: string, key: string, ours: Obj): Path {
  if (MESSAGE_CLASSES[cls]?.mp === undefined) return [renameFor(cls, key)];
  const body = ours.body;
  if (key === 'type') return ['body', 'mpType'];
  if (key === 'flags') return ['flags'];
  if (key === 'body') return isObj(body) && 'entries' in body ? ['body', 'entries'] : ['body'];
  return ['body', renameFor(cls, key)];
}

function hasPath(o: unknown, path: Path): boolean {
  let cur = o;
  for (const k of path) {
    if (!isObj(cur) && !Array.isArray(cur)) return false;
    if (!(k in (cur as object))) return false;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return true;
}

/** Our members no Ryu member reached (descending into objects only partly reached), minus OURS_ONLY. */
function uncovered(ours: Obj, visited: Set<string>, oursOnly: Readonly<Record<string, string>>, prefix = ''): string[] {
  const out: string[] = [];
  for (const k of Object.keys(ours)) {
    const full = prefix + k;
    if (visited.has(full) || full in oursOnly) continue;
    const v = ours[k];
    if (isObj(v) && [...visited].some((x) => x.startsWith(`${full}.`))) out.push(...uncovered(v, visited, oursOnly, `${full}.`));
    else out.push(full);
  }
  return out;
}

const isActionClass = (cls: string) => (/^OFPAction/.test(cls) && cls !== 'OFPActionId') || /^NXAction/.test(cls);
const isInstructionClass = (cls: string) => /^OFPInstruction/.test(cls) && cls !== 'OFPInstructionId';

function checkLength(cls: string, key: string, want: unknown, ours: Obj, path: string, ourPath: Path, ctx: Ctx): void {
  let got: number;
  if (isActionClass(cls)) got = actionLength(ours as unknown as Action);
  else if (isInstructionClass(cls)) got = instructionLength(ours as unknown as Instruction);
  else if (cls === 'OFPPacketOut' && key === 'actions_len') got = actionsLength(ours.actions as Action[]);
  // A property's length excludes its padding to 8 bytes, which the 8-copies difference would include.
  else if (/^OFPTableFeatureProp/.test(cls)) got = tableFeaturePropLength(ours as unknown as TableFeatureProp);
  else got = elementLength(ctx.root, ourPath);
  if (got !== want) ctx.errors.push(`${path}.${key}: Ryu says ${show(want)}, our encoder computes ${got}`);
}

const LENGTH_KEYS = new Set(['len', 'length', 'actions_len']);

function compareMembers(cls: string, ryu: Obj, ours: Obj, path: Path, ourPath: Path, ctx: Ctx, visited = new Set<string>()): void {
  const p = path.join('');
  if (!isObj(ours)) {
    ctx.errors.push(`${p}: Ryu has a ${cls}, ours is ${show(ours)}`);
    return;
  }
  // Experimenter (Nicira) actions: experimenter id and subtype (first 2 bytes of our opaque data) and length.
  if (/^NXAction/.test(cls)) {
    visited.add('data');
    const data = ours.data;
    if (!Buffer.isBuffer(data) || data.length < 2) ctx.errors.push(`${p}.data: expected opaque NX action data, got ${show(data)}`);
    else {
      const subtype = data.readUInt16BE(0);
      if (subtype !== ryu.subtype) ctx.errors.push(`${p}.subtype: Ryu ${show(ryu.subtype)}, ours ${subtype} (first 2 bytes of data)`);
      if (cls === 'NXActionUnknown') {
        const want = Buffer.from(String(ryu.data), 'base64');
        if (!data.subarray(2).equals(want)) ctx.errors.push(`${p}.data: got ${show(data.subarray(2))}, want ${show(want)}`);
      }
    }
  }
  for (const key of Object.keys(ryu)) {
    const rv = ryu[key];
    const at = `${p}.${key}`;
    const nc = NOT_COMPARED_INDEX.get(`${cls}.${key}`);
    if (nc !== undefined) {
      ctx.skipped.add(`${cls}.${key}`);
      continue;
    }
    if (/^NXAction/.test(cls) && (key === 'subtype' || (cls === 'NXActionUnknown' && key === 'data'))) continue; // done above
    if (LENGTH_KEYS.has(key)) {
      checkLength(cls, key, rv, ours, p, ourPath, ctx);
      continue;
    }
    if (cls === 'OFPErrorMsg' && key === 'code' && rv === null) {
      if ('code' in ours) ctx.errors.push(`${at}: Ryu has no code (experimenter error), ours has ${show(ours.code)}`);
      continue;
    }
    const target = ourPathFor(cls, key, ours);
    visited.add(target.join('.'));
    if (!hasPath(ours, target)) {
      ctx.errors.push(`${at}: unmapped: ours has no member ${target.join('.')} (${cls}.${key} = ${show(rv)})`);
      continue;
    }
    let ryuValue = rv;
    const ov = getAt(ours, target);
    // Ryu lists the one ofp_meter_features of a meter-features reply; ours is that struct.
    if (key === 'body' && Array.isArray(rv) && rv.length === 1 && isObj(ov)) ryuValue = rv[0];
    compareValue(cls, key, ryuValue, ov, [...path, `.${key}`], [...ourPath, ...target], ctx);
  }
  for (const k of uncovered(ours, visited, OURS_ONLY[cls] ?? {})) {
    ctx.errors.push(`${p}: our member ${k} = ${show(getAt(ours, k.split('.')))} has no counterpart in Ryu's ${cls}`);
  }
}

function numEq(a: unknown, b: unknown): boolean {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof b === 'number' && !Number.isSafeInteger(b)) return false;
    return BigInt(a) === BigInt(b);
  }
  return false;
}

function compareValue(cls: string, key: string, rv: unknown, ov: unknown, path: Path, ourPath: Path, ctx: Ctx): void {
  const p = path.join('');
  const wrapped = unwrap(rv);
  if (wrapped !== undefined) {
    compareNode(wrapped[0], wrapped[1], ov, path, ourPath, ctx);
    return;
  }
  if (Array.isArray(rv)) {
    if (Buffer.isBuffer(ov)) {
      compareByteList(cls, rv, ov, p, ctx);
      return;
    }
    if (!Array.isArray(ov)) {
      ctx.errors.push(`${p}: Ryu has a list of ${rv.length}, ours is ${show(ov)}`);
      return;
    }
    if (ov.length !== rv.length) {
      ctx.errors.push(`${p}: Ryu has ${rv.length} items, ours ${ov.length}`);
      return;
    }
    rv.forEach((x, i) => compareValue(cls, key, x, ov[i], [...path, `[${i}]`], [...ourPath, i], ctx));
    return;
  }
  if (typeof rv === 'number' || typeof rv === 'bigint') {
    if (!numEq(rv, ov)) ctx.errors.push(`${p}: got ${show(ov)}, want ${show(rv)}`);
    return;
  }
  if (typeof rv === 'string') {
    if (Buffer.isBuffer(ov)) {
      const want = Buffer.from(rv, 'base64');
      if (!ov.equals(want)) ctx.errors.push(`${p}: got ${show(ov)}, want ${show(want)} (base64 ${rv})`);
    } else if (ov !== rv) ctx.errors.push(`${p}: got ${show(ov)}, want ${show(rv)}`);
    return;
  }
  if (rv === null) {
    if (ov !== undefined && ov !== null) ctx.errors.push(`${p}: got ${show(ov)}, want nothing (Ryu null)`);
    return;
  }
  ctx.errors.push(`${p}: cannot compare Ryu value ${show(rv)}`);
}

/** Ryu shows some opaque payloads as lists: of bytes (queue properties) or of 32-bit words (table-feature experimenter). */
function compareByteList(cls: string, rv: unknown[], ov: Buffer, p: string, ctx: Ctx): void {
  const width = cls === 'OFPTableFeaturePropExperimenter' ? 4 : 1;
  const want = Buffer.alloc(rv.length * width);
  rv.forEach((x, i) => (width === 4 ? want.writeUInt32BE(Number(x), 4 * i) : want.writeUInt8(Number(x), i)));
  if (!ov.equals(want)) ctx.errors.push(`${p}: got ${show(ov)}, want ${show(want)} (Ryu ${show(rv)})`);
}

function compareNode(cls: string, ryu: Obj, ov: unknown, path: Path, ourPath: Path, ctx: Ctx): void {
  const p = path.join('');
  switch (cls) {
    case 'OFPMatch':
      return compareMatch(ryu, ov, path, ourPath, ctx);
    case 'OXMTlv':
      return compareOxm(ryu, ov, p, ctx);
    case 'OFPHelloElemVersionBitmap':
      return compareVersionBitmap(ryu, ov, p, ctx);
    case 'Packet':
      return comparePacket(ryu, ov, p, ctx);
    case 'OFPOxmId':
      return compareOxmId(ryu, ov, p, ctx);
  }
  if (/^NXFlowSpec|^ONF/.test(cls) && !MESSAGE_CLASSES[cls]) {
    ctx.errors.push(`${p}: Ryu ${cls} met outside an opaque parent`);
    return;
  }
  compareMembers(cls, ryu, ov as Obj, path, ourPath, ctx);
}

function compareMatch(ryu: Obj, ov: unknown, path: Path, _ourPath: Path, ctx: Ctx): void {
  const p = path.join('');
  if (!Array.isArray(ov)) {
    ctx.errors.push(`${p}: our match is not a list of OXM TLVs: ${show(ov)}`);
    return;
  }
  for (const key of Object.keys(ryu)) {
    const rv = ryu[key];
    if (key === 'type') {
      if (rv !== OFPMT.OXM) ctx.errors.push(`${p}.type: Ryu match type ${show(rv)}, ours is always OFPMT_OXM`);
    } else if (key === 'length') {
      const got = 4 + (ov as OxmTlv[]).reduce((n, t) => n + oxmLength(t), 0);
      if (got !== rv) ctx.errors.push(`${p}.length: Ryu says ${show(rv)}, our encoder computes ${got}`);
    } else if (key === 'oxm_fields') {
      compareValue('OFPMatch', key, rv, ov, [...path, '.oxm_fields'], [], ctx);
    } else ctx.errors.push(`${p}.${key}: unmapped OFPMatch member`);
  }
}

function addrBytes(kind: string, s: string, width: number): Buffer {
  const b = Buffer.alloc(width);
  if (kind === 'mac') writeMac(s, b, 0);
  else if (kind === 'ipv4') writeIpv4(s, b, 0);
  else writeIpv6(s, b, 0);
  return b;
}

function oxmValueBytes(kind: string, width: number, v: unknown): Buffer {
  if (kind === 'mac' || kind === 'ipv4' || kind === 'ipv6') return addrBytes(kind, String(v), width);
  const b = Buffer.alloc(width);
  let x = BigInt(v as number | bigint);
  for (let i = width - 1; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

function compareOxm(ryu: Obj, ov: unknown, p: string, ctx: Ctx): void {
  for (const k of Object.keys(ryu)) if (!['field', 'value', 'mask'].includes(k)) ctx.errors.push(`${p}.${k}: unmapped OXMTlv member`);
  const name = String(ryu.field);
  const o = ov as Obj;
  const d = oxmByName(name);
  if (d !== undefined) {
    if (o.field !== name) {
      ctx.errors.push(`${p}.field: got ${show(o.field)}, want ${name}`);
      return;
    }
    for (const [rk, ok] of [
      ['value', 'value'],
      ['mask', 'mask'],
    ] as const) {
      const want = ryu[rk];
      const got = o[ok];
      if (want === null) {
        if (got !== undefined) ctx.errors.push(`${p}.${rk}: got ${show(got)}, Ryu has none`);
        continue;
      }
      if (got === undefined) {
        ctx.errors.push(`${p}.${rk}: ours has none, want ${show(want)}`);
        continue;
      }
      if (d.kind === 'uint' || d.kind === 'u64') {
        if (!numEq(want, got) || (d.kind === 'u64') !== (typeof got === 'bigint')) ctx.errors.push(`${p}.${rk}: got ${show(got)}, want ${show(want)}`);
      } else if (!addrBytes(d.kind, String(got), d.width).equals(addrBytes(d.kind, String(want), d.width))) {
        ctx.errors.push(`${p}.${rk}: got ${show(got)}, want ${show(want)}`);
      }
    }
    for (const k of Object.keys(o)) if (!['field', 'value', 'mask'].includes(k)) ctx.errors.push(`${p}: our OXM member ${k} unexpected`);
    return;
  }
  const ext = EXTENSION_OXMS[name];
  if (ext === undefined) {
    ctx.errors.push(`${p}.field: Ryu field ${name} is neither OpenFlow-basic nor in EXTENSION_OXMS`);
    return;
  }
  const hasMask = ryu.mask !== null;
  const payload = Buffer.concat([
    ext.prefix,
    oxmValueBytes(ext.kind, ext.width, ryu.value),
    ...(hasMask ? [oxmValueBytes(ext.kind, ext.width, ryu.mask)] : []),
  ]);
  const want = { oxmClass: ext.oxmClass, field: ext.field, hasMask, payload };
  for (const k of ['oxmClass', 'field', 'hasMask'] as const) {
    if (o[k] !== want[k]) ctx.errors.push(`${p} (${name}).${k}: got ${show(o[k])}, want ${show(want[k])}`);
  }
  if (!Buffer.isBuffer(o.payload) || !o.payload.equals(payload)) ctx.errors.push(`${p} (${name}).payload: got ${show(o.payload)}, want ${show(payload)}`);
  if (Object.keys(o).length !== 4) ctx.errors.push(`${p}: opaque OXM has unexpected members ${Object.keys(o).join(',')}`);
}

/** A table-features OXM id: Ryu names the field (`type`), we carry class/field numbers; `length` is the header's payload length (data, not a computed length). */
function compareOxmId(ryu: Obj, ov: unknown, p: string, ctx: Ctx): void {
  const o = ov as Obj;
  const name = String(ryu.type);
  const d = oxmByName(name);
  const ext = EXTENSION_OXMS[name];
  const want: Obj =
    d !== undefined
      ? { oxmClass: OFPXMC.OPENFLOW_BASIC, field: d.id }
      : ext !== undefined
        ? { oxmClass: ext.oxmClass, field: ext.field, ...(ext.oxmClass === OFPXMC.EXPERIMENTER ? { experimenter: ext.prefix.readUInt32BE(0) } : {}) }
        : {};
  if (d === undefined && ext === undefined) ctx.errors.push(`${p}.type: Ryu OXM id ${name} is neither OpenFlow-basic nor in EXTENSION_OXMS`);
  for (const k of Object.keys(ryu)) {
    if (k === 'hasmask') want.hasMask = ryu.hasmask === 1 || ryu.hasmask === true;
    else if (k === 'length') want.length = ryu.length;
    else if (k !== 'type') ctx.errors.push(`${p}.${k}: unmapped OFPOxmId member`);
  }
  for (const k of new Set([...Object.keys(want), ...Object.keys(o)])) {
    if (o[k] !== want[k]) ctx.errors.push(`${p} (${name}).${k}: got ${show(o[k])}, want ${show(want[k])}`);
  }
}

function compareVersionBitmap(ryu: Obj, ov: unknown, p: string, ctx: Ctx): void {
  const o = ov as Obj;
  const bitmaps = o.bitmaps;
  if (!Array.isArray(bitmaps)) {
    ctx.errors.push(`${p}: our hello element has no bitmaps: ${show(ov)}`);
    return;
  }
  for (const k of Object.keys(ryu)) {
    if (k === 'type') {
      if (o.type !== ryu.type) ctx.errors.push(`${p}.type: got ${show(o.type)}, want ${show(ryu.type)}`);
    } else if (k === 'length') {
      if (4 + 4 * bitmaps.length !== ryu.length) ctx.errors.push(`${p}.length: Ryu says ${show(ryu.length)}, our encoder computes ${4 + 4 * bitmaps.length}`);
    } else if (k === 'versions') {
      const versions: number[] = [];
      (bitmaps as number[]).forEach((w, i) => {
        for (let bit = 0; bit < 32; bit++) if ((w >>> bit) & 1) versions.push(32 * i + bit);
      });
      if (show(versions) !== show(ryu.versions)) ctx.errors.push(`${p}.versions: got ${show(versions)}, want ${show(ryu.versions)}`);
    } else ctx.errors.push(`${p}.${k}: unmapped OFPHelloElemVersionBitmap member`);
  }
  for (const k of Object.keys(o)) if (k !== 'type' && k !== 'bitmaps') ctx.errors.push(`${p}: our member ${k} unexpected`);
}

/**
 * Ryu parsed a packet-out's data with its packet library; we keep the bytes.
 * Each protocol header member Ryu shows is read back out of our bytes.
 */
function comparePacket(ryu: Obj, ov: unknown, p: string, ctx: Ctx): void {
  if (!Buffer.isBuffer(ov)) {
    ctx.errors.push(`${p}: our data is not bytes: ${show(ov)}`);
    return;
  }
  const b = ov;
  const fields: Record<string, unknown> = {};
  let off = 0;
  const protocols = (ryu.protocols ?? []) as unknown[];
  for (const k of Object.keys(ryu)) if (k !== 'protocols') ctx.errors.push(`${p}.${k}: unmapped Packet member`);
  for (const proto of protocols) {
    const [name, members] = Object.entries(proto as Obj)[0] as [string, Obj];
    if (name === 'ethernet') {
      Object.assign(fields, {
        'ethernet.dst': addrFromBytes(b, 0, 6),
        'ethernet.src': addrFromBytes(b, 6, 6),
        'ethernet.ethertype': b.readUInt16BE(12),
      });
      off = 14;
    } else if (name === 'ipv4') {
      const ihl = b[off] & 15;
      Object.assign(fields, {
        'ipv4.version': b[off] >> 4,
        'ipv4.header_length': ihl,
        'ipv4.tos': b[off + 1],
        'ipv4.total_length': b.readUInt16BE(off + 2),
        'ipv4.identification': b.readUInt16BE(off + 4),
        'ipv4.flags': b.readUInt16BE(off + 6) >> 13,
        'ipv4.offset': b.readUInt16BE(off + 6) & 0x1fff,
        'ipv4.ttl': b[off + 8],
        'ipv4.proto': b[off + 9],
        'ipv4.csum': b.readUInt16BE(off + 10),
        'ipv4.src': [...b.subarray(off + 12, off + 16)].join('.'),
        'ipv4.dst': [...b.subarray(off + 16, off + 20)].join('.'),
        'ipv4.option': ihl > 5 ? b.subarray(off + 20, off + 4 * ihl).toString('base64') : null,
      });
      off += 4 * ihl;
    } else if (name === 'icmp') {
      Object.assign(fields, {
        'icmp.type': b[off],
        'icmp.code': b[off + 1],
        'icmp.csum': b.readUInt16BE(off + 2),
        'icmp.data.echo.id': b.readUInt16BE(off + 4),
        'icmp.data.echo.seq': b.readUInt16BE(off + 6),
        'icmp.data.echo.data': b.subarray(off + 8).toString('base64'),
      });
    } else {
      ctx.errors.push(`${p}: no reader for packet protocol ${name}`);
      continue;
    }
    for (const [k, want] of flatten(name, members)) {
      if (!(k in fields)) ctx.errors.push(`${p}.${k}: unmapped packet member`);
      else if (show(fields[k]) !== show(want)) ctx.errors.push(`${p}.${k}: our bytes say ${show(fields[k])}, Ryu ${show(want)}`);
    }
  }
}

function addrFromBytes(b: Buffer, off: number, n: number): string {
  return [...b.subarray(off, off + n)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function flatten(prefix: string, o: Obj): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (isObj(v)) out.push(...flatten(`${prefix}.${k}`, v));
    else out.push([`${prefix}.${k}`, v]);
  }
  return out;
}
