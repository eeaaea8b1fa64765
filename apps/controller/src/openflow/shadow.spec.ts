/**
 * The shadow's flow set finds entries by the hash of their key: two
 * different flows whose keys hash alike (found here by search) must stay
 * two entries, each found, replaced and removed on its own.
 */
import { encodeMessage, FlowMod, OFPFC } from '@nicvisor/openflow';
import { rawFlowKeyHash, Shadow } from './shadow.js';
import { flowMod, output } from './spec-helpers.js';

/** The i-th of a sequence of IPv4 host routes with scattered addresses (a multiplicative step through all 2^32 of them). */
const matchOf = (i: number): FlowMod['match'] => {
  const a = Math.imul(i, 0x9e3779b1) >>> 0;
  return [
    { field: 'eth_type', value: 0x800 },
    { field: 'ipv4_dst', value: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}` },
  ];
};

/** Two host routes whose keys have the same 32-bit hash (a birthday search: expected within ~80,000 keys). */
function collidingMatches(): [FlowMod['match'], FlowMod['match']] {
  const seen = new Map<number, number>();
  for (let i = 0; i < 1 << 20; i++) {
    const h = rawFlowKeyHash(encodeMessage(flowMod({ tableId: 1, priority: 100, match: matchOf(i) })));
    const j = seen.get(h);
    if (j !== undefined) return [matchOf(j), matchOf(i)];
    seen.set(h, i);
  }
  throw new Error('no collision found');
}

describe('shadow flows with colliding key hashes', () => {
  const [a, b] = collidingMatches();
  const add = (s: Shadow, match: FlowMod['match'], owner: string, port = 2) => s.applyFlowAdd(1n, encodeMessage(flowMod({ tableId: 1, priority: 100, match, actions: [output(port)] })), owner);
  const del = (s: Shadow, match: FlowMod['match']) => s.applyFlowMod(1n, flowMod({ tableId: 1, priority: 100, command: OFPFC.DELETE_STRICT, match }), 'x');

  it('are two entries, each found by its own match', () => {
    expect(rawFlowKeyHash(encodeMessage(flowMod({ tableId: 1, priority: 100, match: a })))).toBe(rawFlowKeyHash(encodeMessage(flowMod({ tableId: 1, priority: 100, match: b }))));
    const s = new Shadow();
    add(s, a, 'fw1');
    add(s, b, 'fw2');
    expect(s.flows(1n).map((f) => f.match)).toEqual([a, b]);
    expect([s.ownerOfFlow(1n, 1, 100, a), s.ownerOfFlow(1n, 1, 100, b)]).toEqual(['fw1', 'fw2']);
    expect([s.flowCount(1n, 'fw1'), s.flowCount(1n, 'fw2')]).toEqual([1, 1]);
  });

  it('an ADD replaces only its own flow, in the first or the second place of the chain', () => {
    for (const [first, second] of [
      [a, b],
      [b, a],
    ]) {
      const s = new Shadow();
      add(s, first, 'fw1');
      add(s, second, 'fw2');
      add(s, second, 'fw3', 3);
      add(s, first, 'fw1', 4);
      expect(s.flows(1n)).toHaveLength(2);
      expect([s.ownerOfFlow(1n, 1, 100, first), s.ownerOfFlow(1n, 1, 100, second)]).toEqual(['fw1', 'fw3']);
      expect([s.flowCount(1n, 'fw1'), s.flowCount(1n, 'fw2'), s.flowCount(1n, 'fw3')]).toEqual([1, 0, 1]);
    }
  });

  it('a strict delete removes only its own flow, whichever of the two goes first', () => {
    for (const [gone, kept] of [
      [a, b],
      [b, a],
    ]) {
      const s = new Shadow();
      add(s, a, 'fw1');
      add(s, b, 'fw1');
      del(s, gone);
      expect(s.flows(1n).map((f) => f.match)).toEqual([kept]);
      expect(s.ownerOfFlow(1n, 1, 100, gone)).toBeUndefined();
      del(s, kept);
      expect(s.flows(1n)).toEqual([]);
      // The same keys come back as new entries.
      add(s, gone, 'fw2');
      expect(s.ownerOfFlow(1n, 1, 100, gone)).toBe('fw2');
      expect(s.flowCount(1n, 'fw1')).toBe(0);
    }
  });
});
