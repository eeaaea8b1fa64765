/**
 * The flow key: every OXM field of a packet as 32-bit words in one
 * Uint32Array, laid out from the codec's OXM descriptor table (one source
 * of truth). Matching is then (key[w] & mask[w]) === value[w] over the
 * words a flow's mask uses, and hashing a masked key is a loop over words.
 *
 * Widths: fields up to 32 bits take one word, 48/64-bit fields two (high
 * word first), IPv6 addresses four. Absent fields are zero; VLAN_VID of an
 * untagged packet is OFPVID_NONE (0), of a tagged one OFPVID_PRESENT|vid.
 */
import { OXM_FIELDS, OxmDescriptor, OxmName } from '@nicvisor/openflow';

export interface KeySlot {
  readonly field: OxmDescriptor;
  /** First word of the field in the key. */
  readonly word: number;
  /** Number of words. */
  readonly words: number;
}

function wordsOf(d: OxmDescriptor): number {
  if (d.width <= 4) return 1;
  if (d.width <= 8) return 2;
  return 4;
}

let next = 0;
export const KEY_SLOTS: readonly KeySlot[] = OXM_FIELDS.map((field) => {
  const slot = { field, word: next, words: wordsOf(field) };
  next += slot.words;
  return slot;
});

/** Words in a flow key. */
export const KEY_WORDS = next;

const SLOT_BY_NAME = new Map<OxmName, KeySlot>(KEY_SLOTS.map((s) => [s.field.name, s]));

export function slotOf(name: OxmName): KeySlot {
  return SLOT_BY_NAME.get(name)!;
}

/** Word index of each field, for code that sets fields by name on the hot path. */
export const W = Object.fromEntries(KEY_SLOTS.map((s) => [s.field.name, s.word])) as Record<OxmName, number>;

export function newKey(): Uint32Array {
  return new Uint32Array(KEY_WORDS);
}
