/**
 * Messages as plain JSON-safe objects, the one conversion every consumer
 * (CLI --json, APIs, logs) goes through:
 * - bigint → decimal string (64-bit counters and cookies lose nothing);
 *   a datapath id (`datapathId`) → 16 lower-case hex digits;
 * - Buffer / Uint8Array → lower-case hex string;
 * - the message `type` → its name ("FLOW_MOD"), a multipart body's
 *   `mpType` → its name ("FLOW"); action, instruction, meter-band, hello
 *   element and table-feature property types → their spec names too
 *   (numbers the spec does not define stay numbers);
 * - everything else as it is (numbers, strings, booleans, arrays, objects).
 */
import { OFPAT, OFPHET, OFPIT, OFPMBT, OFPMP, OFPT, OFPTFPT } from '../constants.js';
import type { AnyMessage } from './message.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

type Named = Record<string, number>;

function nameOf(table: Named, v: unknown): string | number | undefined {
  if (typeof v !== 'number') return undefined;
  return Object.keys(table).find((k) => table[k] === v) ?? v;
}

/** Which name table the `type` of the elements of a list called `key` is drawn from. */
const LIST_TYPE_TABLES: Record<string, Named> = {
  actions: OFPAT,
  instructions: OFPIT,
  bands: OFPMBT,
  elements: OFPHET,
  properties: OFPTFPT,
};

function convert(value: unknown, key: string, typeTable: Named | undefined): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return key === 'datapathId' ? value.toString(16).padStart(16, '0') : value.toString(10);
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) {
    const table = LIST_TYPE_TABLES[key];
    return value.map((v) => convert(v, key, table));
  }
  if (typeof value === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (k === 'type' && typeTable !== undefined) out[k] = nameOf(typeTable, v) ?? convert(v, k, undefined);
      else if (k === 'mpType') out[k] = nameOf(OFPMP, v) ?? convert(v, k, undefined);
      else if (k === 'actions' && Array.isArray(v) && typeof v[0] === 'number') out[k] = v as number[]; // group-features bitmaps
      else out[k] = convert(v, k, undefined);
    }
    return out;
  }
  return String(value);
}

/** A message as a JSON-safe object (see the module comment for the rules). */
export function toJson(msg: AnyMessage): { [key: string]: JsonValue } {
  return convert(msg, '', OFPT) as { [key: string]: JsonValue };
}
