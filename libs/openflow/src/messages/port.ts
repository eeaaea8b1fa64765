/** ofp_port (§7.2.1): the 64-byte port description shared by PORT_STATUS and the port-desc reply. */
import { OFP_MAX_PORT_NAME_LEN } from '../constants.js';
import { defineStruct, StructOf } from '../struct.js';

const PORT_FIELDS = [
  ['portNo', 'u32'],
  ['pad', 4],
  ['hwAddr', 'mac'],
  ['pad', 2],
  ['name', 'string', OFP_MAX_PORT_NAME_LEN],
  ['config', 'u32'],
  ['state', 'u32'],
  ['curr', 'u32'],
  ['advertised', 'u32'],
  ['supported', 'u32'],
  ['peer', 'u32'],
  ['currSpeed', 'u32'],
  ['maxSpeed', 'u32'],
] as const;

export type Port = StructOf<typeof PORT_FIELDS>;
export const portStruct = defineStruct(PORT_FIELDS);
