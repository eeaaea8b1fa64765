/**
 * Conformance against Ryu's OpenFlow 1.3 codec fixtures (test/fixtures/ryu-of13,
 * Apache-2.0, see LICENSE-ryu there): every packet decodes, re-encodes to the
 * identical bytes, has the computed length of its file, carries no length
 * fields, and agrees field by field with Ryu's JSON decoding of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage, messageLength, OFPBRC, OFPET, OfpError } from '@nicvisor/openflow';
import type { OfpMessage } from '@nicvisor/openflow';
import { compareWithRyu, firstDifference, lengthKeys, NOT_COMPARED, OURS_ONLY, parseRyuJson } from './ryu-json.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ryu-of13', 'codec');
const PACKETS = readdirSync(join(FIXTURES, 'packets'))
  .filter((f) => f.endsWith('.packet'))
  .sort();

type Path = (string | number)[];

function leafPaths(v: unknown, path: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leafPaths(x, [...path, i]));
  if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) {
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...path, k]));
  }
  return [path];
}

/**
 * The first and last leaf of each shape (the path with list indices dropped):
 * the table-features fixtures have thousands of leaves of a few shapes, and
 * whether a member is compared depends on its shape, not on its index.
 */
function sampleLeaves(paths: Path[]): Path[] {
  const first = new Map<string, Path>();
  const last = new Map<string, Path>();
  for (const p of paths) {
    const shape = p.map((k) => (typeof k === 'number' ? '#' : k)).join('.');
    if (!first.has(shape)) first.set(shape, p);
    last.set(shape, p);
  }
  return [...new Set([...first.values(), ...last.values()])];
}

/** A copy of `root` with the leaf at `path` changed to a different value of the same kind. */
function mutateAt(root: unknown, path: Path): unknown {
  if (path.length === 0) {
    if (typeof root === 'number') return root ^ 1;
    if (typeof root === 'bigint') return root ^ 1n;
    if (typeof root === 'boolean') return !root;
    if (Buffer.isBuffer(root)) return root.length === 0 ? Buffer.from([0]) : Buffer.concat([Buffer.from([root[0] ^ 1]), root.subarray(1)]);
    if (typeof root === 'string') return /[0-9a-f]$/i.test(root) ? root.slice(0, -1) + (root.endsWith('0') ? '1' : '0') : `${root}x`;
    throw new Error(`cannot mutate ${String(root)}`);
  }
  const [k, ...rest] = path;
  if (Array.isArray(root)) return root.map((x, i) => (i === k ? mutateAt(x, rest) : x));
  const o = root as Record<string, unknown>;
  return { ...o, [k]: mutateAt(o[k as string], rest) };
}

/** Every NOT_COMPARED entry some fixture actually met (checked at the end: no stale entries). */
const skipped = new Set<string>();

function load(name: string): { bytes: Buffer; json: unknown } {
  return {
    bytes: readFileSync(join(FIXTURES, 'packets', name)),
    json: parseRyuJson(readFileSync(join(FIXTURES, 'json', `${name}.json`), 'utf8')),
  };
}

function decodeOrFail(bytes: Buffer): OfpMessage {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    throw new Error(`decode failed: ${(e as Error).message}`);
  }
}

describe('Ryu OpenFlow 1.3 codec fixtures', () => {
  it('has all 81 packets, each with its JSON', () => {
    expect(PACKETS).toHaveLength(81);
    const json = new Set(readdirSync(join(FIXTURES, 'json')));
    expect(PACKETS.filter((p) => !json.has(`${p}.json`))).toEqual([]);
  });

  it('reads 64-bit JSON numbers losslessly', () => {
    const { json } = load('libofproto-OFP13-flow_mod_conjunction.packet');
    expect((json as { OFPFlowMod: { cookie_mask: unknown } }).OFPFlowMod.cookie_mask).toBe(18446744073709551615n);
  });

  describe.each(PACKETS)('%s', (name) => {
    const { bytes, json } = load(name);

    it('decodes', () => {
      expect(() => decodeMessage(bytes)).not.toThrow();
    });

    it('re-encodes byte for byte', () => {
      const encoded = encodeMessage(decodeOrFail(bytes));
      const diff = firstDifference(encoded, bytes);
      if (diff !== undefined) throw new Error(`${name}: re-encoding ${diff}`);
    });

    it('computes messageLength equal to the file size', () => {
      expect(messageLength(decodeOrFail(bytes))).toBe(bytes.length);
    });

    it('carries no length fields (lengths are computed)', () => {
      expect(lengthKeys(decodeOrFail(bytes))).toEqual([]);
    });

    it("agrees with Ryu's JSON", () => {
      expect(compareWithRyu(json, decodeOrFail(bytes), skipped)).toEqual([]);
    });
  });

  it('is not vacuous: changing any decoded value breaks the agreement with Ryu', () => {
    const missed: string[] = [];
    let mutations = 0;
    for (const name of PACKETS) {
      const { bytes, json } = load(name);
      const msg = decodeMessage(bytes);
      // Members of the message Ryu's JSON has no counterpart for (OURS_ONLY); byte-exact re-encoding covers them.
      const cls = Object.keys(json as object)[0];
      const unchecked = new Set([...Object.keys(OURS_ONLY['*message']), ...Object.keys(OURS_ONLY[cls] ?? {})]);
      for (const path of sampleLeaves(leafPaths(msg))) {
        if (unchecked.has(path.join('.'))) continue;
        mutations++;
        let errors: string[];
        try {
          errors = compareWithRyu(json, mutateAt(msg, path) as OfpMessage);
        } catch (e) {
          errors = [(e as Error).message];
        }
        if (errors.length === 0) missed.push(`${name}: ${path.join('.')}`);
      }
    }
    expect(missed).toEqual([]);
    expect(mutations).toBeGreaterThan(700);
  });

  it('uses every NOT_COMPARED entry (none is stale)', () => {
    const stale = NOT_COMPARED.filter((n) => !skipped.has(`${n.cls}.${n.key}`)).map((n) => `${n.cls}.${n.key}`);
    expect(stale).toEqual([]);
  });

  it('rejects the truncated flow-mod with OFPBRC_BAD_LEN at offset 0', () => {
    const buf = readFileSync(join(FIXTURES, 'truncated', 'libofproto-OFP13-flow_mod.first64.bin'));
    expect(buf).toHaveLength(64);
    let err: unknown;
    try {
      decodeMessage(buf);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OfpError);
    const e = err as OfpError;
    expect({ type: e.type, code: e.code, offset: e.offset }).toEqual({ type: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, offset: 0 });
  });
});
