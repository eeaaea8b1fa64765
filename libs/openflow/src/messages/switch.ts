/**
 * Switch configuration (§7.3.1-7.3.2, §7.3.4.1, §7.3.4.4, §7.3.9-7.3.10): FEATURES_REPLY,
 * GET_CONFIG_REPLY / SET_CONFIG, TABLE_MOD, PORT_MOD, ROLE_REQUEST /
 * ROLE_REPLY, GET_ASYNC_REPLY / SET_ASYNC. All fixed-size bodies.
 */
import { OFPT } from '../constants.js';
import { MessageCodec } from '../codec.js';
import { defineStruct, Struct, StructOf } from '../struct.js';

type T = typeof OFPT;

const FEATURES_FIELDS = [
  ['datapathId', 'u64'],
  ['nBuffers', 'u32'],
  ['nTables', 'u8'],
  ['auxiliaryId', 'u8'],
  ['pad', 2],
  ['capabilities', 'u32'],
  ['reserved', 'u32'],
] as const;

const CONFIG_FIELDS = [
  ['flags', 'u16'],
  ['missSendLen', 'u16'],
] as const;

const TABLE_MOD_FIELDS = [
  ['tableId', 'u8'],
  ['pad', 3],
  ['config', 'u32'],
] as const;

const PORT_MOD_FIELDS = [
  ['portNo', 'u32'],
  ['pad', 4],
  ['hwAddr', 'mac'],
  ['pad', 2],
  ['config', 'u32'],
  ['mask', 'u32'],
  ['advertise', 'u32'],
  ['pad', 4],
] as const;

const ROLE_FIELDS = [
  ['role', 'u32'],
  ['pad', 4],
  ['generationId', 'u64'],
] as const;

export interface SwitchFeatures extends StructOf<typeof FEATURES_FIELDS> {
  type: T['FEATURES_REPLY'];
  xid: number;
}

export interface SwitchConfig extends StructOf<typeof CONFIG_FIELDS> {
  type: T['GET_CONFIG_REPLY'] | T['SET_CONFIG'];
  xid: number;
}

export interface TableMod extends StructOf<typeof TABLE_MOD_FIELDS> {
  type: T['TABLE_MOD'];
  xid: number;
}

export interface PortMod extends StructOf<typeof PORT_MOD_FIELDS> {
  type: T['PORT_MOD'];
  xid: number;
}

export interface RoleMessage extends StructOf<typeof ROLE_FIELDS> {
  type: T['ROLE_REQUEST'] | T['ROLE_REPLY'];
  xid: number;
}

/** A mask pair as the spec indexes it: [0] applies to master/equal roles, [1] to slave. */
export type RoleMasks = [master: number, slave: number];

export interface AsyncConfig {
  type: T['GET_ASYNC_REPLY'] | T['SET_ASYNC'];
  xid: number;
  packetInMask: RoleMasks;
  portStatusMask: RoleMasks;
  flowRemovedMask: RoleMasks;
}

/** A message whose whole body is one struct: the message object carries its fields. */
function structCodec<K extends number, V>(type: K, s: Struct<V>): MessageCodec<{ type: K; xid: number } & V> {
  return {
    decode: (r, xid) => ({ type, xid, ...s.decode(r) }),
    bodyLength: () => s.size,
    encode: (m, w) => s.encode(m, w),
  };
}

const featuresStruct = defineStruct(FEATURES_FIELDS);
const configStruct = defineStruct(CONFIG_FIELDS);
const tableModStruct = defineStruct(TABLE_MOD_FIELDS);
const portModStruct = defineStruct(PORT_MOD_FIELDS);
const roleStruct = defineStruct(ROLE_FIELDS);

// Hand-written: the masks are arrays, which defineStruct does not describe.
function asyncCodec(type: AsyncConfig['type']): MessageCodec<AsyncConfig> {
  return {
    decode(r, xid) {
      r.need(24);
      const pair = (): RoleMasks => [r.u32(), r.u32()];
      const packetInMask = pair();
      const portStatusMask = pair();
      const flowRemovedMask = pair();
      return { type, xid, packetInMask, portStatusMask, flowRemovedMask };
    },
    bodyLength: () => 24,
    encode(m, w) {
      for (const [master, slave] of [m.packetInMask, m.portStatusMask, m.flowRemovedMask]) {
        w.u32(master);
        w.u32(slave);
      }
    },
  };
}

export const switchCodecs = {
  [OFPT.FEATURES_REPLY]: structCodec(OFPT.FEATURES_REPLY, featuresStruct),
  [OFPT.GET_CONFIG_REPLY]: structCodec(OFPT.GET_CONFIG_REPLY, configStruct),
  [OFPT.SET_CONFIG]: structCodec(OFPT.SET_CONFIG, configStruct),
  [OFPT.TABLE_MOD]: structCodec(OFPT.TABLE_MOD, tableModStruct),
  [OFPT.PORT_MOD]: structCodec(OFPT.PORT_MOD, portModStruct),
  [OFPT.ROLE_REQUEST]: structCodec(OFPT.ROLE_REQUEST, roleStruct),
  [OFPT.ROLE_REPLY]: structCodec(OFPT.ROLE_REPLY, roleStruct),
  [OFPT.GET_ASYNC_REPLY]: asyncCodec(OFPT.GET_ASYNC_REPLY),
  [OFPT.SET_ASYNC]: asyncCodec(OFPT.SET_ASYNC),
};
