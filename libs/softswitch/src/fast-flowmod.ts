/**
 * The FLOW_MOD fast path's match compiler: an ofp_match compiled straight
 * from the wire bytes into key words (key.ts), without decoding its fields
 * to values and parsing them back.
 *
 * It only ever *accepts*: it does the checks of decodeMatch, validateMatch
 * and compileMatchScratch (lengths, OpenFlow-basic class, duplicates, masks
 * on unmaskable fields, value ranges, prerequisites), and for anything it
 * does not accept — an error of any kind, or a match it does not handle
 * (experimenter or other OXM classes) — it answers null, and the caller
 * takes the slow path, which produces the canonical outcome or error.
 * An accepted match compiles to exactly the words compileMatchScratch gives
 * for the decoded match (fast-flowmod.spec.ts checks it differentially).
 */
import { OFPMT, OFPXMC, OXM_FIELDS } from '@nicvisor/openflow';
import { CompiledMatch, FULL_MASK } from './classifier.js';
import { KEY_SLOTS, KEY_WORDS } from './key.js';

const N_FIELDS = OXM_FIELDS.length;

/** Per field id: words in the key, bytes of the first word (the others take 4), bits limit of a narrow uint (0: none). */
const FIRST = new Int32Array(N_FIELDS);
const NWORDS = new Int32Array(N_FIELDS);
const HEAD = new Int32Array(N_FIELDS);
const LIMIT = new Float64Array(N_FIELDS);
/** Per field id, from the descriptor (read per OXM: typed arrays rather than the descriptor objects): bytes, maskable, kind 'uint'. */
const WIDTH = new Int32Array(N_FIELDS);
const MASKABLE = new Uint8Array(N_FIELDS);
const IS_UINT = new Uint8Array(N_FIELDS);
/** Prerequisites by field id: [depId, values, mask?] */
const PREREQS: { dep: number; values: readonly number[]; mask: number | undefined }[][] = [];

for (let id = 0; id < N_FIELDS; id++) {
  const d = OXM_FIELDS[id];
  const s = KEY_SLOTS[id];
  if (d.id !== id || s.field !== d) throw new Error('OXM descriptor table is not indexed by id');
  FIRST[id] = s.word;
  NWORDS[id] = s.words;
  HEAD[id] = d.width - 4 * (s.words - 1);
  LIMIT[id] = d.kind === 'uint' && d.bits < 8 * d.width ? 2 ** d.bits : 0;
  WIDTH[id] = d.width;
  MASKABLE[id] = d.maskable ? 1 : 0;
  IS_UINT[id] = d.kind === 'uint' ? 1 : 0;
  PREREQS.push(
    d.prereqs.map((p) => ({ dep: OXM_FIELDS.findIndex((f) => f.name === p.field), values: p.values as readonly number[], mask: p.mask as number | undefined })),
  );
}

const VALUE = new Uint32Array(KEY_WORDS);
const MASK = new Uint32Array(KEY_WORDS);
/** Words written by the last call (to zero before the next), and how many. */
const TOUCHED = new Int32Array(KEY_WORDS);
let nTouched = 0;

/** Fields seen by the current call (SEEN[id] === epoch), their raw numeric value and mask (-1: none) for prerequisites. */
const SEEN = new Float64Array(N_FIELDS);
const RAW_VALUE = new Float64Array(N_FIELDS);
const RAW_MASK = new Float64Array(N_FIELDS);
const ORDER = new Int32Array(N_FIELDS);
let epoch = 0;

/** Big-endian unsigned of n ≤ 4 bytes. */
function uintAt(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[p + i];
  return v;
}

/** Writes `width` bytes at p as the field's words at `out[w..]`. */
function wordsAt(b: Uint8Array, p: number, id: number, out: Uint32Array): void {
  const w = FIRST[id];
  const head = HEAD[id];
  out[w] = uintAt(b, p, head);
  p += head;
  for (let i = 1; i < NWORDS[id]; i++, p += 4) out[w + i] = uintAt(b, p, 4);
}

/** The result of a compile: the match, and where the bytes after its padding begin. */
export interface WireMatch {
  readonly compiled: CompiledMatch;
  /** Offset of the first byte after the padded match. */
  readonly next: number;
}

/** The one result every call returns (its match arrays shared, its words list its own): valid until the next call. */
const RESULT: { compiled: { value: Uint32Array; mask: Uint32Array; words: number[] }; next: number } = { compiled: { value: VALUE, mask: MASK, words: [] }, next: 0 };

/**
 * Compiles the ofp_match at `at` (no further than `end`) into shared
 * scratch arrays that the next call overwrites (copy before compiling
 * another); the returned object is shared likewise. Null: not accepted,
 * take the slow path.
 */
export function compileWireMatch(b: Uint8Array, at: number, end: number): WireMatch | null {
  if (at + 4 > end) return null;
  const type = (b[at] << 8) | b[at + 1];
  const length = (b[at + 2] << 8) | b[at + 3];
  if (type !== OFPMT.OXM || length < 4) return null;
  const mend = at + length;
  const next = at + ((length + 7) & ~7);
  if (next > end) return null;

  for (let i = 0; i < nTouched; i++) {
    VALUE[TOUCHED[i]] = 0;
    MASK[TOUCHED[i]] = 0;
  }
  nTouched = 0;
  const e = ++epoch;
  let nSeen = 0;
  // A fresh list (a few numbers): cheaper than emptying a shared one.
  const words: number[] = [];
  RESULT.compiled.words = words;

  let p = at + 4;
  while (p < mend) {
    if (p + 4 > mend) return null;
    if (((b[p] << 8) | b[p + 1]) !== OFPXMC.OPENFLOW_BASIC) return null;
    const id = b[p + 2] >>> 1;
    const hasMask = (b[p + 2] & 1) === 1;
    const len = b[p + 3];
    if (id >= N_FIELDS) return null;
    const width = WIDTH[id];
    if (len !== (hasMask ? 2 * width : width) || p + 4 + len > mend) return null;
    if (SEEN[id] === e) return null; // DUP_FIELD
    if (hasMask && MASKABLE[id] === 0) return null; // BAD_MASK
    const vp = p + 4;
    const limit = LIMIT[id];
    if (IS_UINT[id] === 1) {
      const v = uintAt(b, vp, width);
      const m = hasMask ? uintAt(b, vp + width, width) : -1;
      if (limit !== 0 && (v >= limit || m >= limit)) return null; // BAD_VALUE, BAD_MASK
      RAW_VALUE[id] = v;
      RAW_MASK[id] = m;
    }
    SEEN[id] = e;
    ORDER[nSeen++] = id;

    const w0 = FIRST[id];
    const wEnd = w0 + NWORDS[id];
    for (let w = w0; w < wEnd; w++) TOUCHED[nTouched++] = w;
    wordsAt(b, vp, id, VALUE);
    if (hasMask) {
      wordsAt(b, vp + width, id, MASK);
      for (let w = w0; w < wEnd; w++) MASK[w] &= FULL_MASK[w];
    } else for (let w = w0; w < wEnd; w++) MASK[w] = FULL_MASK[w];
    for (let w = w0; w < wEnd; w++) {
      VALUE[w] &= MASK[w];
      if (MASK[w] !== 0) {
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
    p = vp + len;
  }

  // Prerequisites, as validateMatch checks them (on the fields' values as given, not masked).
  for (let i = 0; i < nSeen; i++) {
    const prereqs = PREREQS[ORDER[i]];
    for (let j = 0; j < prereqs.length; j++) {
      const pre = prereqs[j];
      if (SEEN[pre.dep] !== e) return null;
      if (pre.values.length === 0) continue;
      if (IS_UINT[pre.dep] === 0) return null;
      const v = RAW_VALUE[pre.dep];
      const depMask = RAW_MASK[pre.dep];
      const covered = depMask < 0 || (pre.mask !== undefined && (depMask & pre.mask) === pre.mask);
      if (!covered || !pre.values.includes(pre.mask === undefined ? v : v & pre.mask)) return null;
    }
  }
  RESULT.next = next;
  return RESULT;
}
