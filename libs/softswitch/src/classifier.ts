/**
 * The emulated NIC's classifier: OXM matches compiled to value/mask words
 * in the flow-key layout (key.ts), and a tuple-space-search classifier over
 * them, as Open vSwitch does it.
 *
 * One subtable per distinct mask. A subtable is a chained hash table keyed
 * by the hash of the masked key words; every bucket chain is kept sorted by
 * priority (highest first), so the first rule whose words equal the masked
 * key is the subtable's best. Subtables are kept sorted by the highest
 * priority they hold, and a lookup stops as soon as the best priority found
 * is ≥ the next subtable's maximum.
 *
 * Memory: a subtable stores its rules as fixed-size records in one
 * Int32Array (priority, hash, chain link, and only the value words its mask
 * uses), plus one array of rule references. The mask is stored once per
 * subtable; nothing is allocated per rule but a record and a reference. Rules carry their own location (ClassifierRule's
 * clsSubtable/clsSlot), so removal needs no search and no side map.
 */
import {
  ipv4ToString,
  ipv6ToString,
  isOpaque,
  macToString,
  Match,
  OFPBMC,
  OFPET,
  OfpError,
  OxmDescriptor,
  OxmField,
  oxmByName,
  OxmValue,
  parseIpv4,
  parseMac,
  validateMatch,
  writeIpv4,
  writeIpv6,
  writeMac,
} from '@nicvisor/openflow';
import { KEY_SLOTS, KEY_WORDS, slotOf } from './key.js';

// ---------------------------------------------------------------------------
// Compiling matches

/**
 * A match in the key layout. `value` and `mask` have KEY_WORDS words;
 * a field absent from the match has mask 0, an unmasked field all ones over
 * its bits, and `value` is already ANDed with `mask`. `words` lists, in
 * ascending order, the words whose mask is not zero. Treat as read-only.
 */
export interface CompiledMatch {
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
  readonly words: readonly number[];
}

/** The all-ones mask of every field over its meaningful bits, in the key layout. */
export const FULL_MASK: Readonly<Uint32Array> = (() => {
  const m = new Uint32Array(KEY_WORDS);
  for (const s of KEY_SLOTS) {
    const bits = s.field.bits;
    if (s.words === 1) m[s.word] = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
    else if (s.words === 2) {
      m[s.word] = bits >= 64 ? 0xffffffff : 2 ** (bits - 32) - 1;
      m[s.word + 1] = 0xffffffff;
    } else m.fill(0xffffffff, s.word, s.word + s.words);
  }
  return m;
})();

const ADDR = new Uint8Array(16);
const MAC_WORDS = new Uint32Array(2);

function u32At(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function badValue(d: OxmDescriptor, v: unknown, what: string): OfpError {
  return new OfpError(
    OFPET.BAD_MATCH,
    what === 'mask' ? OFPBMC.BAD_MASK : OFPBMC.BAD_VALUE,
    `${d.name}: ${what} ${String(v)} is not a ${d.kind} of ${d.width} bytes`,
  );
}

/** Writes a field's value (or mask) as words at `at`, high word first. */
function toWords(d: OxmDescriptor, v: OxmValue, out: Uint32Array, at: number, what: string): void {
  switch (d.kind) {
    case 'uint':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** (8 * d.width)) throw badValue(d, v, what);
      out[at] = v;
      return;
    case 'u64':
      if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw badValue(d, v, what);
      out[at] = Number(v >> 32n);
      out[at + 1] = Number(v & 0xffffffffn);
      return;
    case 'mac':
      if (typeof v !== 'string') throw badValue(d, v, what);
      // The fast parser; on a bad address, the codec's writer throws its error.
      if (!parseMac(v, MAC_WORDS)) writeMac(v, ADDR, 0);
      out[at] = MAC_WORDS[0];
      out[at + 1] = MAC_WORDS[1];
      return;
    case 'ipv4': {
      if (typeof v !== 'string') throw badValue(d, v, what);
      const a = parseIpv4(v);
      if (a < 0) writeIpv4(v, ADDR, 0);
      out[at] = a;
      return;
    }
    case 'ipv6':
      if (typeof v !== 'string') throw badValue(d, v, what);
      writeIpv6(v, ADDR, 0);
      for (let i = 0; i < 4; i++) out[at + i] = u32At(ADDR, 4 * i);
      return;
  }
}

/**
 * Scratch of compileMatchScratch: the words the last compile wrote (to zero
 * before the next one), and the result, whose arrays are reused.
 */
const S_VALUE = new Uint32Array(KEY_WORDS);
const S_MASK = new Uint32Array(KEY_WORDS);
const S_TOUCHED: number[] = [];

/**
 * compileMatch without allocating typed arrays: the result lives in shared
 * scratch arrays that the next call overwrites, so the caller must be done
 * with it (or copy it, copyCompiled) before compiling another match. Same
 * checks and errors as compileMatch.
 */
export function compileMatchScratch(match: Match): CompiledMatch {
  for (let i = 0; i < match.length; i++) {
    const tlv = match[i];
    if (isOpaque(tlv)) {
      throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, `OXM class 0x${tlv.oxmClass.toString(16)} field ${tlv.field} is not supported`);
    }
    if (oxmByName(tlv.field) === undefined) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, `unknown OXM field ${String(tlv.field)}`);
  }
  validateMatch(match, IGNORE_OUTSIDE_MASK);
  const value = S_VALUE;
  const mask = S_MASK;
  for (let i = 0; i < S_TOUCHED.length; i++) {
    value[S_TOUCHED[i]] = 0;
    mask[S_TOUCHED[i]] = 0;
  }
  S_TOUCHED.length = 0;
  // A fresh list: callers may keep `words` (the classifier copies, a detached entry keeps it).
  const words: number[] = [];
  for (let i = 0; i < match.length; i++) {
    const tlv = match[i] as OxmField;
    const slot = slotOf(tlv.field);
    const d = slot.field;
    const end = slot.word + slot.words;
    for (let w = slot.word; w < end; w++) S_TOUCHED.push(w);
    toWords(d, tlv.value, value, slot.word, 'value');
    if (tlv.mask === undefined) for (let w = slot.word; w < end; w++) mask[w] = FULL_MASK[w];
    else {
      toWords(d, tlv.mask, mask, slot.word, 'mask');
      for (let w = slot.word; w < end; w++) mask[w] &= FULL_MASK[w];
    }
    for (let w = slot.word; w < end; w++) {
      value[w] &= mask[w];
      if (mask[w] !== 0) {
        // Kept ascending as they come (a few words, nearly in order): no call to sort.
        let k = words.length;
        words.push(w);
        while (k > 0 && words[k - 1] > w) {
          words[k] = words[k - 1];
          k--;
        }
        words[k] = w;
      }
    }
  }
  return { value, mask, words };
}

const IGNORE_OUTSIDE_MASK = { bitsOutsideMask: 'ignore' } as const;

/**
 * Typed arrays for compiled matches come from shared slabs: a Uint32Array
 * of its own (KEY_WORDS words) is too big for V8's on-heap typed arrays and
 * costs a backing-store allocation each (see packet.ts).
 */
const SLAB_MATCHES = 256;
let slab = new ArrayBuffer(SLAB_MATCHES * 2 * KEY_WORDS * 4);
let slabUsed = 0;

function allocPair(): [Uint32Array, Uint32Array] {
  if (slabUsed === SLAB_MATCHES) {
    slab = new ArrayBuffer(SLAB_MATCHES * 2 * KEY_WORDS * 4);
    slabUsed = 0;
  }
  const at = slabUsed++ * 2 * KEY_WORDS * 4;
  return [new Uint32Array(slab, at, KEY_WORDS), new Uint32Array(slab, at + KEY_WORDS * 4, KEY_WORDS)];
}

/** A copy of a compiled match with arrays of its own. */
export function copyCompiled(c: CompiledMatch): CompiledMatch {
  const [value, mask] = allocPair();
  value.set(c.value);
  mask.set(c.mask);
  return { value, mask, words: c.words.slice() };
}

/**
 * Validates a match as this NIC installs it (the codec's validateMatch:
 * duplicates, maskability, value ranges, prerequisites; plus: opaque and
 * experimenter OXMs are OFPBMC_BAD_FIELD, as the NIC supports none) and
 * compiles it to the key layout. Value bits outside the mask are masked off
 * rather than refused, as the switches Ryu's conformance suite targets do.
 */
export function compileMatch(match: Match): CompiledMatch {
  return copyCompiled(compileMatchScratch(match));
}

function fieldText(d: OxmDescriptor, a: Uint32Array, at: number, words: number): OxmValue {
  switch (d.kind) {
    case 'uint':
      return a[at];
    case 'u64':
      return (BigInt(a[at]) << 32n) | BigInt(a[at + 1]);
    case 'mac':
      ADDR[0] = a[at] >>> 8;
      ADDR[1] = a[at];
      for (let i = 0; i < 4; i++) ADDR[2 + i] = a[at + 1] >>> (24 - 8 * i);
      return macToString(ADDR, 0);
    default:
      for (let i = 0; i < words * 4; i++) ADDR[i] = a[at + (i >> 2)] >>> (24 - 8 * (i & 3));
      return d.kind === 'ipv4' ? ipv4ToString(ADDR, 0) : ipv6ToString(ADDR, 0);
  }
}

/**
 * The canonical match of a compiled one: fields in OXM id order, a field
 * whose mask is all ones unmasked, a field whose mask is zero left out.
 * compileMatch(decompileMatch(c)) equals c.
 */
export function decompileMatch(c: CompiledMatch): Match {
  const out: Match = [];
  for (const s of KEY_SLOTS) {
    let any = false;
    let full = true;
    for (let w = s.word; w < s.word + s.words; w++) {
      if (c.mask[w] !== 0) any = true;
      if (c.mask[w] !== FULL_MASK[w]) full = false;
    }
    if (!any) continue;
    const value = fieldText(s.field, c.value, s.word, s.words);
    out.push(full ? { field: s.field.name, value } : { field: s.field.name, value, mask: fieldText(s.field, c.mask, s.word, s.words) });
  }
  return out;
}

/** Does the packet key match? */
export function matchesKey(c: CompiledMatch, key: Uint32Array): boolean {
  const ws = c.words;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (((key[w] & c.mask[w]) ^ c.value[w]) !== 0) return false;
  }
  return true;
}

/** Same mask and same value? */
export function compiledEqual(a: CompiledMatch, b: CompiledMatch): boolean {
  if (a.words.length !== b.words.length) return false;
  for (let i = 0; i < a.words.length; i++) {
    const w = a.words[i];
    if (w !== b.words[i] || a.mask[w] !== b.mask[w] || a.value[w] !== b.value[w]) return false;
  }
  return true;
}

/**
 * Is `entry` equal to or more specific than `query` (every packet matching
 * `entry` matches `query`)? The non-strict selection of §6.4.
 */
export function isCoveredBy(entry: CompiledMatch, query: CompiledMatch): boolean {
  const ws = query.words;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    const qm = query.mask[w];
    if ((entry.mask[w] & qm) !== (qm | 0) || ((entry.value[w] & qm) ^ query.value[w]) !== 0) return false;
  }
  return true;
}

/** Could one packet match both? */
export function compiledOverlap(a: CompiledMatch, b: CompiledMatch): boolean {
  const ws = a.words;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (((a.value[w] ^ b.value[w]) & a.mask[w] & b.mask[w]) !== 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The classifier

/**
 * What the classifier stores. `clsSubtable`/`clsSlot` are the rule's place
 * in the classifier, written by it alone (null/-1 while not installed).
 */
export interface ClassifierRule {
  readonly priority: number;
  clsSubtable: object | null;
  clsSlot: number;
}

const SEED = 0x6b43a9b5;

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function nextPow2(n: number): number {
  let p = 8;
  while (p < n) p *= 2;
  return p;
}

function maskHashOf(c: CompiledMatch): number {
  let h = SEED;
  for (let i = 0; i < c.words.length; i++) h = mix(mix(h, c.words[i]), c.mask[c.words[i]]);
  return fmix(h);
}

/** Scratch for a compact (subtable-order) value. */
const COMPACT = new Int32Array(KEY_WORDS);

/* Record layout of a slot in Subtable.rec: priority, hash, next slot, then the value words. */
const PRIO = 0;
const HASH = 1;
const NEXT = 2;
const VALS = 3;

/**
 * The rules of one mask. Slot s's record sits at rec[s*stride ...]: its
 * priority, hash, the next slot of its bucket chain (or of the free list;
 * -1 ends either), then its value words, so that probing a slot touches one
 * cache line. `buckets` holds each chain's first slot.
 */
class Subtable<R extends ClassifierRule> {
  /** Key words the mask uses, and the mask at each (as int32). */
  readonly words: Int32Array;
  readonly mwords: Int32Array;
  readonly n: number;
  readonly stride: number;
  rec: Int32Array;
  rules: (R | undefined)[] = [];
  buckets: Int32Array;
  bmask: number;
  cap = 8;
  /** Slots ever handed out (live or free): scans go up to here. */
  top = 0;
  free = -1;
  count = 0;
  maxPriority = -1;
  /** How many rules have each priority (keeps maxPriority exact after removals). */
  readonly prioCounts = new Map<number, number>();

  constructor(
    /** The classifier the subtable belongs to (null once dropped). */
    public owner: object | null,
    /** Hash of the mask: the classifier's index key. */
    readonly maskHash: number,
    /** The mask in the full key layout; shared, never written. */
    readonly mask: Uint32Array,
    words: readonly number[],
  ) {
    this.words = Int32Array.from(words);
    this.mwords = Int32Array.from(words, (w) => mask[w] | 0);
    this.n = words.length;
    this.stride = VALS + this.n;
    this.rec = new Int32Array(this.cap * this.stride);
    this.buckets = new Int32Array(8).fill(-1);
    this.bmask = 7;
  }

  /** Is c's mask this subtable's? */
  sameMask(c: CompiledMatch): boolean {
    if (c.words.length !== this.n) return false;
    for (let j = 0; j < this.n; j++) {
      const w = this.words[j];
      if (c.words[j] !== w || (c.mask[w] | 0) !== this.mwords[j]) return false;
    }
    return true;
  }

  prio(s: number): number {
    return this.rec[s * this.stride + PRIO];
  }

  next(s: number): number {
    return this.rec[s * this.stride + NEXT];
  }

  /** Value word j of slot s. */
  val(s: number, j: number): number {
    return this.rec[s * this.stride + VALS + j];
  }

  /** Loads COMPACT with a compiled match's value (masked by this subtable's mask) and hashes it. */
  loadCompiled(c: CompiledMatch): number {
    let h = SEED;
    for (let j = 0; j < this.n; j++) {
      const v = c.value[this.words[j]] & this.mwords[j];
      COMPACT[j] = v;
      h = mix(h, v);
    }
    return fmix(h);
  }

  /** Does slot s hold COMPACT with hash h? */
  holdsCompact(s: number, h: number): boolean {
    const rec = this.rec;
    const base = s * this.stride;
    if (rec[base + HASH] !== h) return false;
    for (let j = 0; j < this.n; j++) if (rec[base + VALS + j] !== COMPACT[j]) return false;
    return true;
  }

  /** The best slot matching `key` with a priority above `floor`, or -1. */
  find(key: Uint32Array, floor: number): number {
    const n = this.n;
    const words = this.words;
    const mw = this.mwords;
    let h = SEED;
    for (let j = 0; j < n; j++) h = mix(h, key[words[j]] & mw[j]);
    h = fmix(h);
    const rec = this.rec;
    const stride = this.stride;
    let s = this.buckets[h & this.bmask];
    while (s >= 0) {
      const base = s * stride;
      if (rec[base + PRIO] <= floor) return -1;
      if (rec[base + HASH] === h) {
        let j = 0;
        while (j < n && (key[words[j]] & mw[j]) === rec[base + VALS + j]) j++;
        if (j === n) return s;
      }
      s = rec[base + NEXT];
    }
    return -1;
  }

  /** The slot holding COMPACT (hash h) at `priority`, or -1. */
  findExact(h: number, priority: number): number {
    for (let s = this.buckets[h & this.bmask]; s >= 0 && this.prio(s) >= priority; s = this.next(s)) {
      if (this.prio(s) === priority && this.holdsCompact(s, h)) return s;
    }
    return -1;
  }

  /** Every slot holding COMPACT (hash h), whatever its priority. */
  findAll(h: number, out: R[]): void {
    for (let s = this.buckets[h & this.bmask]; s >= 0; s = this.next(s)) if (this.holdsCompact(s, h)) out.push(this.rules[s]!);
  }

  /** Links slot s into its bucket, after every rule of higher or equal priority. */
  private link(s: number): void {
    const rec = this.rec;
    const stride = this.stride;
    const b = rec[s * stride + HASH] & this.bmask;
    const p = rec[s * stride + PRIO];
    let prev = -1;
    let cur = this.buckets[b];
    while (cur >= 0 && rec[cur * stride + PRIO] >= p) {
      prev = cur;
      cur = rec[cur * stride + NEXT];
    }
    rec[s * stride + NEXT] = cur;
    if (prev < 0) this.buckets[b] = s;
    else rec[prev * stride + NEXT] = s;
  }

  private unlink(s: number): void {
    const rec = this.rec;
    const stride = this.stride;
    const b = rec[s * stride + HASH] & this.bmask;
    let prev = -1;
    let cur = this.buckets[b];
    while (cur !== s) {
      prev = cur;
      cur = rec[cur * stride + NEXT];
    }
    if (prev < 0) this.buckets[b] = rec[s * stride + NEXT];
    else rec[prev * stride + NEXT] = rec[s * stride + NEXT];
  }

  /** Rebuilds the bucket array with `size` buckets, keeping each chain's priority order. */
  private rehash(size: number): void {
    this.buckets = new Int32Array(size).fill(-1);
    this.bmask = size - 1;
    for (let s = 0; s < this.top; s++) if (this.rules[s] !== undefined) this.link(s);
  }

  /** Adds the rule held in COMPACT (hash h); returns its slot. */
  add(rule: R, h: number): number {
    let s: number;
    if (this.free >= 0) {
      s = this.free;
      this.free = this.next(s);
    } else {
      if (this.top === this.cap) {
        const rec = new Int32Array(this.cap * 2 * this.stride);
        rec.set(this.rec);
        this.rec = rec;
        this.cap *= 2;
      }
      s = this.top++;
    }
    const p = rule.priority;
    const base = s * this.stride;
    this.rec[base + PRIO] = p;
    this.rec[base + HASH] = h;
    for (let j = 0; j < this.n; j++) this.rec[base + VALS + j] = COMPACT[j];
    if (s === this.rules.length) this.rules.push(rule);
    else this.rules[s] = rule;
    rule.clsSubtable = this;
    rule.clsSlot = s;
    this.count++;
    this.prioCounts.set(p, (this.prioCounts.get(p) ?? 0) + 1);
    if (p > this.maxPriority) this.maxPriority = p;
    if (this.count > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.link(s);
    return s;
  }

  /** Puts `rule` in slot s in place of the rule there (same match and priority). */
  replace(s: number, rule: R): R {
    const old = this.rules[s]!;
    old.clsSubtable = null;
    old.clsSlot = -1;
    this.rules[s] = rule;
    rule.clsSubtable = this;
    rule.clsSlot = s;
    return old;
  }

  /** Removes slot s; returns whether maxPriority went down. */
  remove(s: number): boolean {
    const rule = this.rules[s]!;
    this.unlink(s);
    this.rules[s] = undefined;
    this.rec[s * this.stride + NEXT] = this.free;
    this.free = s;
    this.count--;
    rule.clsSubtable = null;
    rule.clsSlot = -1;
    const p = this.prio(s);
    const left = this.prioCounts.get(p)! - 1;
    let lowered = false;
    if (left > 0) this.prioCounts.set(p, left);
    else {
      this.prioCounts.delete(p);
      if (p === this.maxPriority) {
        let m = -1;
        for (const q of this.prioCounts.keys()) if (q > m) m = q;
        this.maxPriority = m;
        lowered = true;
      }
    }
    if (this.top > 1024 && this.count * 4 < this.top) this.compact();
    return lowered;
  }

  /** Moves the live rules to slots 0..count-1 and shrinks the records. */
  private compact(): void {
    const stride = this.stride;
    const cap = nextPow2(this.count * 2);
    const rec = new Int32Array(cap * stride);
    const rules: (R | undefined)[] = [];
    let j = 0;
    for (let s = 0; s < this.top; s++) {
      const r = this.rules[s];
      if (r === undefined) continue;
      rec.set(this.rec.subarray(s * stride, s * stride + stride), j * stride);
      rules.push(r);
      r.clsSlot = j;
      j++;
    }
    this.rec = rec;
    this.rules = rules;
    this.cap = cap;
    this.top = j;
    this.free = -1;
    this.rehash(nextPow2(this.count));
  }

  /** Slot s's match, compactly, to outlive the slot (detachedMatch). */
  detach(s: number): DetachedMatch {
    const values = new Int32Array(this.n);
    for (let j = 0; j < this.n; j++) values[j] = this.val(s, j);
    return { words: this.words, mask: this.mask, values };
  }

  /** The compiled match of slot s (fresh arrays). */
  compiledOf(s: number): CompiledMatch {
    const [value, mask] = allocPair();
    for (let j = 0; j < this.n; j++) value[this.words[j]] = this.val(s, j);
    mask.set(this.mask);
    return { value, mask, words: Array.from(this.words) };
  }
}

/** A summary of one subtable, for diagnostics and benchmarks. */
export interface SubtableInfo {
  readonly words: number;
  readonly rules: number;
  readonly maxPriority: number;
}

/**
 * Tuple-space-search classifier over rules of type R. A rule belongs to at
 * most one classifier at a time. Among several rules of the same highest
 * priority matching a packet, which one lookup returns is unspecified
 * (as OpenFlow leaves it).
 */
export class Classifier<R extends ClassifierRule> {
  /** Subtables by mask hash (a list only if two masks' hashes collide). */
  private readonly byMask = new Map<number, Subtable<R>[]>();
  /** Sorted by maxPriority, highest first. */
  private readonly subtables: Subtable<R>[] = [];
  private count = 0;
  /** The subtable subtableOf() found last (checked against `owner`: it may have been dropped since). */
  private last: Subtable<R> | null = null;

  get size(): number {
    return this.count;
  }

  get subtableCount(): number {
    return this.subtables.length;
  }

  subtableInfo(): SubtableInfo[] {
    return this.subtables.map((st) => ({ words: st.n, rules: st.count, maxPriority: st.maxPriority }));
  }

  /** The highest-priority rule matching the key, or undefined. */
  lookup(key: Uint32Array): R | undefined {
    const sts = this.subtables;
    let best = -1;
    let found: R | undefined;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      if (st.maxPriority <= best) break;
      const s = st.find(key, best);
      if (s >= 0) {
        best = st.prio(s);
        found = st.rules[s];
      }
    }
    return found;
  }

  /**
   * lookup(), and ORs into `acc` (KEY_WORDS words) the mask of every
   * subtable it probed: the bits of the key its answer depends on, so that
   * any key equal to this one under `acc` gets the same answer (a
   * megaflow's mask).
   */
  lookupTrace(key: Uint32Array, acc: Uint32Array): R | undefined {
    const sts = this.subtables;
    let best = -1;
    let found: R | undefined;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      if (st.maxPriority <= best) break;
      const words = st.words;
      const mw = st.mwords;
      for (let j = 0; j < st.n; j++) acc[words[j]] |= mw[j];
      const s = st.find(key, best);
      if (s >= 0) {
        best = st.prio(s);
        found = st.rules[s];
      }
    }
    return found;
  }

  /**
   * Installs `rule` with match `c`. A rule with an identical match and the
   * same priority is replaced (taken out of the classifier) and returned.
   */
  insert(c: CompiledMatch, rule: R): R | undefined {
    if (rule.clsSubtable !== null) throw new Error('rule is already in a classifier');
    if (!Number.isInteger(rule.priority) || rule.priority < 0 || rule.priority > 0x7fffffff) {
      throw new RangeError(`bad priority ${rule.priority}`);
    }
    let st = this.subtableOf(c);
    if (st === undefined) {
      const mh = maskHashOf(c);
      st = new Subtable<R>(this, mh, c.mask.slice(), c.words);
      const list = this.byMask.get(mh);
      if (list === undefined) this.byMask.set(mh, [st]);
      else list.push(st);
      this.subtables.push(st);
    }
    const h = st.loadCompiled(c);
    const s = st.findExact(h, rule.priority);
    if (s >= 0) return st.replace(s, rule);
    const before = st.maxPriority;
    st.add(rule, h);
    this.count++;
    if (st.maxPriority !== before || st.count === 1) this.reorder(st);
    return undefined;
  }

  private subtableOf(c: CompiledMatch): Subtable<R> | undefined {
    // Bulk installs come in runs of one mask: try the last subtable found first.
    const last = this.last;
    if (last !== null && last.owner === this && last.sameMask(c)) return last;
    const list = this.byMask.get(maskHashOf(c));
    if (list === undefined) return undefined;
    for (const st of list) {
      if (st.sameMask(c)) {
        this.last = st;
        return st;
      }
    }
    return undefined;
  }

  /** Takes the rule out; false if it was not in this classifier. */
  remove(rule: R): boolean {
    if (!this.contains(rule)) return false;
    const st = rule.clsSubtable as Subtable<R>;
    const lowered = st.remove(rule.clsSlot);
    this.count--;
    if (st.count === 0) {
      const list = this.byMask.get(st.maskHash)!;
      if (list.length === 1) this.byMask.delete(st.maskHash);
      else list.splice(list.indexOf(st), 1);
      this.subtables.splice(this.subtables.indexOf(st), 1);
      st.owner = null;
    } else if (lowered) this.reorder(st);
    return true;
  }

  /** Restores the subtables' order after st's maxPriority changed. */
  private reorder(st: Subtable<R>): void {
    const a = this.subtables;
    let i = a.indexOf(st);
    while (i > 0 && a[i - 1].maxPriority < st.maxPriority) {
      a[i] = a[i - 1];
      i--;
    }
    while (i < a.length - 1 && a[i + 1].maxPriority > st.maxPriority) {
      a[i] = a[i + 1];
      i++;
    }
    a[i] = st;
  }

  /** The rule with exactly this match and priority (the strict selection). */
  find(c: CompiledMatch, priority: number): R | undefined {
    const st = this.subtableOf(c);
    if (st === undefined) return undefined;
    const s = st.findExact(st.loadCompiled(c), priority);
    return s >= 0 ? st.rules[s] : undefined;
  }

  /** Every rule whose match is equal to or more specific than `query` (the non-strict selection). */
  covered(query: CompiledMatch): R[] {
    const out: R[] = [];
    const qw = query.words;
    const pos = new Int32Array(qw.length);
    for (const st of this.subtables) {
      if (st.sameMask(query)) {
        // Same mask: the equal matches, at every priority, share one bucket.
        st.findAll(st.loadCompiled(query), out);
        continue;
      }
      // The subtable's mask must include the query's; pos[i] = where query word i sits in it.
      let ok = true;
      for (let i = 0; i < qw.length && ok; i++) {
        const w = qw[i];
        const j = st.words.indexOf(w);
        ok = j >= 0 && (st.mwords[j] & query.mask[w]) === (query.mask[w] | 0);
        pos[i] = j;
      }
      if (!ok) continue;
      for (let s = 0; s < st.top; s++) {
        const r = st.rules[s];
        if (r === undefined) continue;
        let i = 0;
        while (i < qw.length && ((st.val(s, pos[i]) & query.mask[qw[i]]) ^ query.value[qw[i]]) === 0) i++;
        if (i === qw.length) out.push(r);
      }
    }
    return out;
  }

  /**
   * A rule of priority `priority` that some packet matching `c` would also
   * match (an OFPFF_CHECK_OVERLAP conflict), or undefined. An identical
   * rule counts.
   */
  overlapping(c: CompiledMatch, priority: number): R | undefined {
    for (const st of this.subtables) {
      if (st.maxPriority < priority) break;
      if (!st.prioCounts.has(priority)) continue;
      // If the subtable's mask is within c's, overlap means equal under the subtable's mask: one probe.
      let within = true;
      for (let j = 0; j < st.n && within; j++) within = (st.mwords[j] & c.mask[st.words[j]]) === st.mwords[j];
      if (within) {
        const s = st.findExact(st.loadCompiled(c), priority);
        if (s >= 0) return st.rules[s];
        continue;
      }
      const n = st.n;
      for (let s = 0; s < st.top; s++) {
        if (st.rules[s] === undefined || st.prio(s) !== priority) continue;
        let j = 0;
        while (j < n && ((st.val(s, j) ^ c.value[st.words[j]]) & st.mwords[j] & c.mask[st.words[j]]) === 0) j++;
        if (j === n) return st.rules[s];
      }
    }
    return undefined;
  }

  /** The compiled match of an installed rule (fresh arrays). */
  compiledOf(rule: R): CompiledMatch {
    return compiledOfRule(rule);
  }

  /** An installed rule's match, compactly, to be kept once the rule leaves (compiledOfDetached). */
  detach(rule: R): DetachedMatch {
    return (rule.clsSubtable as Subtable<R>).detach(rule.clsSlot);
  }

  contains(rule: R): boolean {
    const st = rule.clsSubtable as Subtable<R> | null;
    return st !== null && st.owner === this && st.rules[rule.clsSlot] === rule;
  }

  forEach(fn: (rule: R) => void): void {
    for (const st of [...this.subtables]) {
      const rules = st.rules.slice(0, st.top);
      for (const r of rules) if (r !== undefined) fn(r);
    }
  }

  /** Every rule (a snapshot). */
  all(): R[] {
    const out: R[] = [];
    this.forEach((r) => out.push(r));
    return out;
  }

  clear(): void {
    this.forEach((r) => {
      r.clsSubtable = null;
      r.clsSlot = -1;
    });
    for (const st of this.subtables) st.owner = null;
    this.byMask.clear();
    this.subtables.length = 0;
    this.count = 0;
  }
}

/**
 * A rule's match kept past its time in a classifier: its subtable's words
 * and mask (shared, never written) and its own value at each of those
 * words. A small array per rule, where a CompiledMatch takes two of
 * KEY_WORDS words: a bulk delete detaches every rule it removes.
 */
export interface DetachedMatch {
  readonly words: Int32Array;
  readonly mask: Uint32Array;
  readonly values: Int32Array;
}

/** The compiled match of a detached one (fresh arrays). */
export function compiledOfDetached(d: DetachedMatch): CompiledMatch {
  const [value, mask] = allocPair();
  for (let j = 0; j < d.words.length; j++) value[d.words[j]] = d.values[j];
  mask.set(d.mask);
  return { value, mask, words: Array.from(d.words) };
}

/** The compiled match of a rule installed in some classifier (fresh arrays). */
export function compiledOfRule(rule: ClassifierRule): CompiledMatch {
  const st = rule.clsSubtable as Subtable<ClassifierRule> | null;
  if (st === null || st.rules[rule.clsSlot] !== rule) throw new Error('rule is not in a classifier');
  return st.compiledOf(rule.clsSlot);
}
