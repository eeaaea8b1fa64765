/**
 * ofp_table_features and its properties (§7.3.5.5), the entries of the
 * OFPMP_TABLE_FEATURES request and reply. Every failure inside an entry is
 * OFPET_TABLE_FEATURES_FAILED: BAD_LEN for a length that lies, BAD_TYPE for
 * an unknown property.
 */
import { OFP_MAX_TABLE_NAME_LEN, OFPTFPT, OFPXMC } from '../constants.js';
import { OFPET, OFPTFFC, OfpError } from '../errors.js';
import { defineStruct } from '../struct.js';
import { pad8, Reader, Writer } from '../wire.js';

type P = typeof OFPTFPT;

/** OFPIT_EXPERIMENTER and OFPAT_EXPERIMENTER, the one id type that carries more than itself. */
const EXPERIMENTER_ID = 0xffff;

/** An instruction or action id: a non-experimenter one is its type alone (4 bytes on the wire). */
export interface FeatureId {
  type: number;
}
/** An experimenter instruction or action id: the experimenter id, then any further bytes kept as is. */
export interface ExperimenterFeatureId {
  type: typeof EXPERIMENTER_ID;
  experimenter: number;
  data: Buffer;
}
export type InstructionId = FeatureId | ExperimenterFeatureId;
export type ActionId = FeatureId | ExperimenterFeatureId;

/** An OXM header without payload; `experimenter` is there exactly when oxmClass is OFPXMC_EXPERIMENTER. */
export interface OxmId {
  oxmClass: number;
  field: number;
  hasMask: boolean;
  /** The header's payload length, as the switch sent it (often 0 in feature lists). */
  length: number;
  experimenter?: number;
}

export interface InstructionsProp {
  type: P['INSTRUCTIONS'] | P['INSTRUCTIONS_MISS'];
  instructionIds: InstructionId[];
}
export interface NextTablesProp {
  type: P['NEXT_TABLES'] | P['NEXT_TABLES_MISS'];
  nextTableIds: number[];
}
export interface ActionsProp {
  type: P['WRITE_ACTIONS'] | P['WRITE_ACTIONS_MISS'] | P['APPLY_ACTIONS'] | P['APPLY_ACTIONS_MISS'];
  actionIds: ActionId[];
}
export interface OxmProp {
  type:
    | P['MATCH']
    | P['WILDCARDS']
    | P['WRITE_SETFIELD']
    | P['WRITE_SETFIELD_MISS']
    | P['APPLY_SETFIELD']
    | P['APPLY_SETFIELD_MISS'];
  oxmIds: OxmId[];
}
/** Kept opaque: `data` is everything after exp_type, re-encoded as is. */
export interface ExperimenterProp {
  type: P['EXPERIMENTER'] | P['EXPERIMENTER_MISS'];
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type TableFeatureProp = InstructionsProp | NextTablesProp | ActionsProp | OxmProp | ExperimenterProp;

export interface TableFeatures {
  tableId: number;
  /** Up to 32 bytes of UTF-8, NUL-padded on the wire. */
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  config: number;
  maxEntries: number;
  properties: TableFeatureProp[];
}

/** The fixed part after the entry's length field. */
const fixedStruct = defineStruct([
  ['tableId', 'u8'],
  ['pad', 5],
  ['name', 'string', OFP_MAX_TABLE_NAME_LEN],
  ['metadataMatch', 'u64'],
  ['metadataWrite', 'u64'],
  ['config', 'u32'],
  ['maxEntries', 'u32'],
] as const);
const ENTRY_HEADER = 2 + fixedStruct.size;

function badLen(detail: string, at: number): OfpError {
  return new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, detail, at);
}

function decodeFeatureIds(p: Reader): InstructionId[] {
  const out: InstructionId[] = [];
  while (p.remaining > 0) {
    const start = p.pos;
    p.need(4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'instruction/action id');
    const type = p.u16();
    const len = p.u16();
    if (type === EXPERIMENTER_ID) {
      if (len < 8) throw badLen(`experimenter id has length ${len}`, start);
      const body = p.sub(len - 4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'experimenter id');
      out.push({ type, experimenter: body.u32(), data: body.rest() });
    } else {
      if (len !== 4) throw badLen(`id of type ${type} has length ${len}, expected 4`, start);
      out.push({ type });
    }
  }
  return out;
}

function isExperimenterId(id: InstructionId): id is ExperimenterFeatureId {
  return id.type === EXPERIMENTER_ID;
}

function featureIdsLength(ids: readonly InstructionId[]): number {
  let len = 0;
  for (const id of ids) len += isExperimenterId(id) ? 8 + id.data.length : 4;
  return len;
}

function encodeFeatureIds(ids: readonly InstructionId[], w: Writer): void {
  for (const id of ids) {
    w.u16(id.type);
    if (isExperimenterId(id)) {
      w.u16(8 + id.data.length);
      w.u32(id.experimenter);
      w.bytes(id.data);
    } else {
      w.u16(4);
    }
  }
}

function decodeOxmIds(p: Reader): OxmId[] {
  const out: OxmId[] = [];
  while (p.remaining > 0) {
    p.need(4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'OXM id');
    const oxmClass = p.u16();
    const fieldAndMask = p.u8();
    const length = p.u8();
    const id: OxmId = { oxmClass, field: fieldAndMask >>> 1, hasMask: (fieldAndMask & 1) === 1, length };
    if (oxmClass === OFPXMC.EXPERIMENTER) {
      p.need(4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'experimenter OXM id');
      id.experimenter = p.u32();
    }
    out.push(id);
  }
  return out;
}

function oxmIdsLength(ids: readonly OxmId[]): number {
  let len = 0;
  for (const id of ids) len += id.oxmClass === OFPXMC.EXPERIMENTER ? 8 : 4;
  return len;
}

function encodeOxmIds(ids: readonly OxmId[], w: Writer): void {
  for (const id of ids) {
    w.u16(id.oxmClass);
    w.u8((id.field << 1) | (id.hasMask ? 1 : 0));
    w.u8(id.length);
    if (id.oxmClass === OFPXMC.EXPERIMENTER) {
      if (id.experimenter === undefined) {
        throw new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_ARGUMENT, 'experimenter OXM id without its experimenter');
      }
      w.u32(id.experimenter);
    }
  }
}

/** Decodes one property and its padding; `r` is positioned at its header. */
export function decodeTableFeatureProp(r: Reader): TableFeatureProp {
  const start = r.pos;
  r.need(4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'table feature property header');
  const type = r.u16();
  const len = r.u16();
  if (len < 4) throw badLen(`table feature property length ${len} < 4`, start);
  const p = r.sub(len - 4, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'table feature property');
  // Padding to 8 bytes; like Ryu and Open vSwitch, accept a last property that omits it.
  r.skip(Math.min(pad8(len), r.remaining));
  switch (type) {
    case OFPTFPT.INSTRUCTIONS:
    case OFPTFPT.INSTRUCTIONS_MISS:
      return { type, instructionIds: decodeFeatureIds(p) };
    case OFPTFPT.NEXT_TABLES:
    case OFPTFPT.NEXT_TABLES_MISS: {
      const nextTableIds: number[] = [];
      while (p.remaining > 0) nextTableIds.push(p.u8());
      return { type, nextTableIds };
    }
    case OFPTFPT.WRITE_ACTIONS:
    case OFPTFPT.WRITE_ACTIONS_MISS:
    case OFPTFPT.APPLY_ACTIONS:
    case OFPTFPT.APPLY_ACTIONS_MISS:
      return { type, actionIds: decodeFeatureIds(p) };
    case OFPTFPT.MATCH:
    case OFPTFPT.WILDCARDS:
    case OFPTFPT.WRITE_SETFIELD:
    case OFPTFPT.WRITE_SETFIELD_MISS:
    case OFPTFPT.APPLY_SETFIELD:
    case OFPTFPT.APPLY_SETFIELD_MISS:
      return { type, oxmIds: decodeOxmIds(p) };
    case OFPTFPT.EXPERIMENTER:
    case OFPTFPT.EXPERIMENTER_MISS:
      p.need(8, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'experimenter property');
      return { type, experimenter: p.u32(), expType: p.u32(), data: p.rest() };
    default:
      throw new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_TYPE, `unknown table feature property type ${type}`, start);
  }
}

/** The property's length field: header and body, padding excluded. */
export function tableFeaturePropLength(prop: TableFeatureProp): number {
  switch (prop.type) {
    case OFPTFPT.INSTRUCTIONS:
    case OFPTFPT.INSTRUCTIONS_MISS:
      return 4 + featureIdsLength(prop.instructionIds);
    case OFPTFPT.NEXT_TABLES:
    case OFPTFPT.NEXT_TABLES_MISS:
      return 4 + prop.nextTableIds.length;
    case OFPTFPT.WRITE_ACTIONS:
    case OFPTFPT.WRITE_ACTIONS_MISS:
    case OFPTFPT.APPLY_ACTIONS:
    case OFPTFPT.APPLY_ACTIONS_MISS:
      return 4 + featureIdsLength(prop.actionIds);
    case OFPTFPT.EXPERIMENTER:
    case OFPTFPT.EXPERIMENTER_MISS:
      return 12 + prop.data.length;
    default:
      return 4 + oxmIdsLength(prop.oxmIds);
  }
}

/** Encodes one property and its padding. */
export function encodeTableFeatureProp(prop: TableFeatureProp, w: Writer): void {
  const len = tableFeaturePropLength(prop);
  w.u16(prop.type);
  w.u16(len);
  switch (prop.type) {
    case OFPTFPT.INSTRUCTIONS:
    case OFPTFPT.INSTRUCTIONS_MISS:
      encodeFeatureIds(prop.instructionIds, w);
      break;
    case OFPTFPT.NEXT_TABLES:
    case OFPTFPT.NEXT_TABLES_MISS:
      for (const id of prop.nextTableIds) w.u8(id);
      break;
    case OFPTFPT.WRITE_ACTIONS:
    case OFPTFPT.WRITE_ACTIONS_MISS:
    case OFPTFPT.APPLY_ACTIONS:
    case OFPTFPT.APPLY_ACTIONS_MISS:
      encodeFeatureIds(prop.actionIds, w);
      break;
    case OFPTFPT.EXPERIMENTER:
    case OFPTFPT.EXPERIMENTER_MISS:
      w.u32(prop.experimenter);
      w.u32(prop.expType);
      w.bytes(prop.data);
      break;
    default:
      encodeOxmIds(prop.oxmIds, w);
  }
  w.zeros(pad8(len));
}

/** Decodes one ofp_table_features; `r` is positioned at its length field. */
export function decodeTableFeatures(r: Reader): TableFeatures {
  const start = r.pos;
  r.need(2, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'table features');
  const len = r.u16();
  if (len < ENTRY_HEADER) throw badLen(`table features length ${len} < ${ENTRY_HEADER}`, start);
  const e = r.sub(len - 2, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, 'table features');
  const fixed = fixedStruct.decode(e);
  const properties: TableFeatureProp[] = [];
  while (e.remaining > 0) properties.push(decodeTableFeatureProp(e));
  return { ...fixed, properties };
}

export function tableFeaturesLength(t: TableFeatures): number {
  let len = ENTRY_HEADER;
  for (const prop of t.properties) {
    const propLen = tableFeaturePropLength(prop);
    len += propLen + pad8(propLen);
  }
  return len;
}

export function encodeTableFeatures(t: TableFeatures, w: Writer): void {
  w.u16(tableFeaturesLength(t));
  fixedStruct.encode(t, w);
  for (const prop of t.properties) encodeTableFeatureProp(prop, w);
}
