import fc from 'fast-check';
import { Match, OFPBMC, OFPET, OfpError, OxmField, OxmValue } from '@nicvisor/openflow';
import {
  Classifier,
  ClassifierRule,
  CompiledMatch,
  compiledEqual,
  compiledOverlap,
  compileMatch,
  decompileMatch,
  FULL_MASK,
  isCoveredBy,
  matchesKey,
} from './classifier.js';
import { KEY_WORDS, newKey, slotOf } from './key.js';

// ---- helpers ---------------------------------------------------------------

class Rule implements ClassifierRule {
  clsSubtable: object | null = null;
  clsSlot = -1;
  constructor(
    readonly priority: number,
    readonly c: CompiledMatch,
    readonly id: number,
  ) {}
}

function ipv4(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** A packet key with the given fields set (independent of compileMatch's conversions). */
function keyOf(fields: Record<string, OxmValue>): Uint32Array {
  const key = newKey();
  for (const [name, v] of Object.entries(fields)) {
    const slot = slotOf(name as OxmField['field']);
    const kind = slot.field.kind;
    if (kind === 'uint') key[slot.word] = v as number;
    else if (kind === 'ipv4') key[slot.word] = ipv4(v as string);
    else if (kind === 'mac') {
      const hex = (v as string).replace(/:/g, '');
      key[slot.word] = parseInt(hex.slice(0, 4), 16);
      key[slot.word + 1] = parseInt(hex.slice(4), 16);
    } else if (kind === 'u64') {
      key[slot.word] = Number((v as bigint) >> 32n);
      key[slot.word + 1] = Number((v as bigint) & 0xffffffffn);
    } else throw new Error(`keyOf: ${kind} not needed here`);
  }
  return key;
}

function bruteBest(rules: readonly Rule[], key: Uint32Array): number {
  let best = -1;
  for (const r of rules) if (r.priority > best && matchesKey(r.c, key)) best = r.priority;
  return best;
}

function expectOfpError(fn: () => unknown, type: number, code: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OfpError);
    expect([(e as OfpError).type, (e as OfpError).code]).toEqual([type, code]);
    return;
  }
  throw new Error('expected an OfpError');
}

// ---- compileMatch ----------------------------------------------------------

describe('compileMatch', () => {
  it('lays unmasked fields out with full masks over their bits', () => {
    const c = compileMatch([
      { field: 'in_port', value: 0xfffffffe },
      { field: 'eth_dst', value: '01:02:03:04:05:06' },
      { field: 'vlan_vid', value: 0x1005 },
    ]);
    const port = slotOf('in_port').word;
    const mac = slotOf('eth_dst').word;
    const vid = slotOf('vlan_vid').word;
    expect(c.value[port]).toBe(0xfffffffe);
    expect(c.mask[port]).toBe(0xffffffff);
    expect([c.value[mac], c.value[mac + 1]]).toEqual([0x0102, 0x03040506]);
    expect([c.mask[mac], c.mask[mac + 1]]).toEqual([0xffff, 0xffffffff]);
    expect([c.value[vid], c.mask[vid]]).toEqual([0x1005, 0x1fff]);
    expect(c.words).toEqual([port, mac, mac + 1, vid].sort((a, b) => a - b));
    expect(c.value.length).toBe(KEY_WORDS);
  });

  it('applies masks and pre-masks values', () => {
    const c = compileMatch([
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: '10.1.2.3', mask: '255.255.0.0' },
      { field: 'metadata', value: 0x123456789abcdef0n, mask: 0xffff00000000ffffn },
    ]);
    const dst = slotOf('ipv4_dst').word;
    const md = slotOf('metadata').word;
    expect([c.value[dst], c.mask[dst]]).toEqual([ipv4('10.1.0.0'), 0xffff0000]);
    expect([c.value[md], c.value[md + 1]]).toEqual([0x12340000, 0x0000def0]);
    expect([c.mask[md], c.mask[md + 1]]).toEqual([0xffff0000, 0x0000ffff]);
  });

  it('lays IPv6 addresses out as four words, high first', () => {
    const c = compileMatch([
      { field: 'eth_type', value: 0x86dd },
      { field: 'ipv6_src', value: '2001:db8::1', mask: 'ffff:ffff:ffff:ffff::' },
    ]);
    const w = slotOf('ipv6_src').word;
    expect(Array.from(c.value.subarray(w, w + 4))).toEqual([0x20010db8, 0, 0, 0]);
    expect(Array.from(c.mask.subarray(w, w + 4))).toEqual([0xffffffff, 0xffffffff, 0, 0]);
  });

  it('drops a zero mask from the used words', () => {
    const c = compileMatch([
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_src', value: '0.0.0.0', mask: '0.0.0.0' },
    ]);
    expect(c.words).toEqual([slotOf('eth_type').word]);
  });

  it('rejects what the codec rejects, and opaque OXMs as BAD_FIELD', () => {
    expectOfpError(() => compileMatch([{ field: 'tcp_dst', value: 80 }]), OFPET.BAD_MATCH, OFPBMC.BAD_PREREQ);
    expectOfpError(
      () =>
        compileMatch([
          { field: 'in_port', value: 1 },
          { field: 'in_port', value: 2 },
        ]),
      OFPET.BAD_MATCH,
      OFPBMC.DUP_FIELD,
    );
    expectOfpError(() => compileMatch([{ field: 'in_port', value: 1, mask: 1 }]), OFPET.BAD_MATCH, OFPBMC.BAD_MASK);
    expectOfpError(() => compileMatch([{ field: 'vlan_vid', value: 0x2000 }]), OFPET.BAD_MATCH, OFPBMC.BAD_VALUE);
    expectOfpError(() => compileMatch([{ field: 'in_port', value: 'x' }]), OFPET.BAD_MATCH, OFPBMC.BAD_VALUE);
    expectOfpError(() => compileMatch([{ field: 'eth_dst', value: 'nope' }]), OFPET.BAD_MATCH, OFPBMC.BAD_VALUE);
    expectOfpError(
      () => compileMatch([{ oxmClass: 0xffff, field: 1, hasMask: false, payload: Buffer.from([0, 0, 0x23, 0x20, 1, 2]) }]),
      OFPET.BAD_MATCH,
      OFPBMC.BAD_FIELD,
    );
    expectOfpError(() => compileMatch([{ field: 'no_such' as 'in_port', value: 1 }]), OFPET.BAD_MATCH, OFPBMC.BAD_FIELD);
    expectOfpError(
      () => compileMatch([{ oxmClass: 0x0001, field: 3, hasMask: false, payload: Buffer.from([1, 2]) }]),
      OFPET.BAD_MATCH,
      OFPBMC.BAD_FIELD,
    );
  });

  it('decompiles to the canonical match and back', () => {
    const m: Match = [
      { field: 'in_port', value: 3 },
      { field: 'metadata', value: 0xff00n, mask: 0xff00n },
      { field: 'eth_src', value: 'aa:bb:cc:00:00:00', mask: 'ff:ff:ff:00:00:00' },
      { field: 'eth_type', value: 0x86dd },
      { field: 'ip_proto', value: 6 },
      { field: 'tcp_src', value: 22 },
      { field: 'ipv6_dst', value: 'fe80::', mask: 'ffff::' },
    ];
    const c = compileMatch(m);
    expect(decompileMatch(c)).toEqual(m);
    // Full masks become unmasked, order becomes OXM id order.
    expect(
      decompileMatch(
        compileMatch([
          { field: 'ipv4_src', value: '1.2.3.4', mask: '255.255.255.255' },
          { field: 'eth_type', value: 0x800 },
        ]),
      ),
    ).toEqual([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_src', value: '1.2.3.4' },
    ]);
    expect(compiledEqual(compileMatch(decompileMatch(c)), c)).toBe(true);
  });

  it('matchesKey, isCoveredBy and compiledOverlap agree with the definitions', () => {
    const wide = compileMatch([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' },
    ]);
    const narrow = compileMatch([
      { field: 'in_port', value: 1 },
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '10.9.0.0', mask: '255.255.0.0' },
    ]);
    const other = compileMatch([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '11.0.0.0', mask: '255.0.0.0' },
    ]);
    const key = keyOf({ in_port: 1, eth_type: 0x800, ipv4_dst: '10.9.8.7' });
    expect(matchesKey(wide, key)).toBe(true);
    expect(matchesKey(narrow, key)).toBe(true);
    expect(matchesKey(other, key)).toBe(false);
    expect(isCoveredBy(narrow, wide)).toBe(true);
    expect(isCoveredBy(wide, narrow)).toBe(false);
    expect(isCoveredBy(wide, wide)).toBe(true);
    expect(isCoveredBy(other, wide)).toBe(false);
    expect(isCoveredBy(wide, compileMatch([]))).toBe(true);
    expect(compiledOverlap(wide, narrow)).toBe(true);
    expect(compiledOverlap(narrow, other)).toBe(false);
    expect(FULL_MASK[slotOf('ipv6_flabel').word]).toBe(0xfffff);
  });
});

// ---- the classifier against a brute-force matcher --------------------------

const PORTS = [1, 2, 3];
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.1.0.1', '192.168.0.1'];
const MACS = ['00:00:00:00:00:01', '00:00:00:00:00:02', '02:00:00:00:00:01'];
const PREFIX = ['255.0.0.0', '255.255.0.0', '255.255.255.0', '255.255.255.255'];

/** Random flows over a handful of templates (→ a few dozen distinct masks), small value domains so keys hit. */
const matchArb: fc.Arbitrary<Match> = fc.oneof(
  fc.constant<Match>([]),
  fc.constantFrom(...PORTS).map((p): Match => [{ field: 'in_port', value: p }]),
  fc
    .tuple(fc.constantFrom(...IPS), fc.constantFrom(...PREFIX))
    .map(([ip, m]): Match => [
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: ip, mask: m },
    ]),
  fc
    .tuple(fc.option(fc.constantFrom(...PORTS)), fc.constantFrom(...IPS), fc.constantFrom(...PREFIX), fc.constantFrom(80, 443))
    .map(([port, ip, m, dport]): Match => [
      ...(port === null ? [] : [{ field: 'in_port' as const, value: port }]),
      { field: 'eth_type', value: 0x800 },
      { field: 'ip_proto', value: 6 },
      { field: 'ipv4_src', value: ip, mask: m },
      { field: 'tcp_dst', value: dport },
    ]),
  fc
    .tuple(fc.constantFrom(...PORTS), fc.constantFrom(...MACS), fc.boolean())
    .map(([p, mac, masked]): Match => [
      { field: 'in_port', value: p },
      masked ? { field: 'eth_dst', value: mac, mask: '01:00:00:00:00:00' } : { field: 'eth_dst', value: mac },
    ]),
  fc
    .tuple(fc.bigInt(0n, 3n), fc.constantFrom(0x1n, 0x3n, 0xffffffff00000003n))
    .map(([md, m]): Match => [{ field: 'metadata', value: md, mask: m }]),
);

const ruleArb = fc.record({ match: matchArb, priority: fc.integer({ min: 0, max: 12 }) });

const keyArb = fc
  .record({
    in_port: fc.constantFrom(...PORTS, 9),
    eth_type: fc.constantFrom(0x800, 0x806),
    ip_proto: fc.constantFrom(6, 17),
    ipv4_src: fc.constantFrom(...IPS, '172.16.0.1'),
    ipv4_dst: fc.constantFrom(...IPS),
    tcp_dst: fc.constantFrom(80, 443, 22),
    eth_dst: fc.constantFrom(...MACS, '03:00:00:00:00:00'),
    metadata: fc.bigInt(0n, 4n).map((x) => x | (x << 32n)),
  })
  .map((f) => keyOf(f));

function check(cls: Classifier<Rule>, rules: readonly Rule[], key: Uint32Array): void {
  const best = bruteBest(rules, key);
  const got = cls.lookup(key);
  if (best < 0) {
    expect(got).toBeUndefined();
    return;
  }
  expect(got).toBeDefined();
  expect(got!.priority).toBe(best);
  expect(matchesKey(got!.c, key)).toBe(true);
  expect(rules).toContain(got);
}

describe('Classifier', () => {
  it('finds what a linear scan finds (random flows, random keys)', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 150 }), fc.array(keyArb, { minLength: 1, maxLength: 40 }), (specs, keys) => {
        const cls = new Classifier<Rule>();
        const live = new Map<string, Rule>();
        specs.forEach((s, id) => {
          const c = compileMatch(s.match);
          const r = new Rule(s.priority, c, id);
          const prev = cls.insert(c, r);
          const sig = `${s.priority}|${JSON.stringify(decompileMatch(c), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
          expect(prev).toBe(live.get(sig));
          live.set(sig, r);
        });
        const rules = [...live.values()];
        expect(cls.size).toBe(rules.length);
        for (const key of keys) check(cls, rules, key);
      }),
      { numRuns: 300 },
    );
  });

  it('stays right through interleaved inserts and removals (subtable order, max priorities)', () => {
    const opArb = fc.oneof(
      { weight: 3, arbitrary: ruleArb.map((r) => ({ kind: 'add' as const, ...r })) },
      { weight: 2, arbitrary: fc.nat().map((i) => ({ kind: 'del' as const, i })) },
      { weight: 2, arbitrary: keyArb.map((key) => ({ kind: 'look' as const, key })) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 250 }), (ops) => {
        const cls = new Classifier<Rule>();
        let rules: Rule[] = [];
        let id = 0;
        for (const op of ops) {
          if (op.kind === 'add') {
            const c = compileMatch(op.match);
            const r = new Rule(op.priority, c, id++);
            const prev = cls.insert(c, r);
            if (prev) {
              expect(prev.priority).toBe(r.priority);
              expect(compiledEqual(prev.c, c)).toBe(true);
              expect(prev.clsSubtable).toBeNull();
              rules = rules.filter((x) => x !== prev);
            }
            rules.push(r);
          } else if (op.kind === 'del') {
            if (rules.length === 0) continue;
            const r = rules[op.i % rules.length];
            expect(cls.remove(r)).toBe(true);
            expect(cls.remove(r)).toBe(false);
            rules = rules.filter((x) => x !== r);
          } else check(cls, rules, op.key);
          expect(cls.size).toBe(rules.length);
        }
        // Max priorities are exact and subtables are ordered by them.
        const info = cls.subtableInfo();
        for (let i = 1; i < info.length; i++) expect(info[i - 1].maxPriority).toBeGreaterThanOrEqual(info[i].maxPriority);
        expect(info.reduce((n, s) => n + s.rules, 0)).toBe(rules.length);
      }),
      { numRuns: 200 },
    );
  });

  it('selects covered rules and overlaps as the definitions do', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 100 }), matchArb, fc.integer({ min: 0, max: 12 }), (specs, q, prio) => {
        const cls = new Classifier<Rule>();
        specs.forEach((s, id) => {
          const c = compileMatch(s.match);
          cls.insert(c, new Rule(s.priority, c, id));
        });
        const rules = cls.all();
        const qc = compileMatch(q);
        const ids = (rs: Rule[]) => rs.map((r) => r.id).sort((a, b) => a - b);
        expect(ids(cls.covered(qc))).toEqual(ids(rules.filter((r) => isCoveredBy(r.c, qc))));
        const ov = cls.overlapping(qc, prio);
        const expected = rules.filter((r) => r.priority === prio && compiledOverlap(r.c, qc));
        if (expected.length === 0) expect(ov).toBeUndefined();
        else expect(expected).toContain(ov);
        const exact = rules.find((r) => r.priority === prio && compiledEqual(r.c, qc));
        expect(cls.find(qc, prio)).toBe(exact);
        for (const r of rules) expect(compiledEqual(cls.compiledOf(r), r.c)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('breaks priority ties within a subtable by match and across subtables arbitrarily', () => {
    const cls = new Classifier<Rule>();
    const a = compileMatch([{ field: 'in_port', value: 1 }]);
    const b = compileMatch([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '10.0.0.1' },
    ]);
    const ra = new Rule(5, a, 1);
    const rb = new Rule(5, b, 2);
    cls.insert(a, ra);
    cls.insert(b, rb);
    const both = keyOf({ in_port: 1, eth_type: 0x800, ipv4_dst: '10.0.0.1' });
    expect([ra, rb]).toContain(cls.lookup(both));
    expect(cls.lookup(keyOf({ in_port: 1 }))).toBe(ra);
    expect(cls.lookup(keyOf({ in_port: 2, eth_type: 0x800, ipv4_dst: '10.0.0.1' }))).toBe(rb);
    // A higher priority in either subtable wins.
    const rc = new Rule(6, b, 3);
    cls.insert(b, rc);
    expect(cls.lookup(both)).toBe(rc);
    cls.remove(rc);
    expect([ra, rb]).toContain(cls.lookup(both));
  });

  it('prunes lower subtables but not those that can still win', () => {
    const cls = new Classifier<Rule>();
    const all = compileMatch([]);
    const port = compileMatch([{ field: 'in_port', value: 1 }]);
    const low = new Rule(0, all, 1);
    const mid = new Rule(10, port, 2);
    cls.insert(all, low);
    cls.insert(port, mid);
    expect(cls.subtableInfo().map((s) => s.maxPriority)).toEqual([10, 0]);
    expect(cls.lookup(keyOf({ in_port: 1 }))).toBe(mid);
    expect(cls.lookup(keyOf({ in_port: 2 }))).toBe(low);
    // The catch-all subtable gains a higher rule: it moves first.
    const high = new Rule(20, all, 3);
    cls.insert(all, high);
    expect(cls.subtableInfo().map((s) => s.maxPriority)).toEqual([20, 10]);
    expect(cls.lookup(keyOf({ in_port: 1 }))).toBe(high);
    cls.remove(high);
    expect(cls.subtableInfo().map((s) => s.maxPriority)).toEqual([10, 0]);
    expect(cls.lookup(keyOf({ in_port: 1 }))).toBe(mid);
    cls.remove(mid);
    expect(cls.subtableCount).toBe(1);
    cls.remove(low);
    expect(cls.subtableCount).toBe(0);
    expect(cls.lookup(keyOf({ in_port: 1 }))).toBeUndefined();
  });

  it('keeps many priorities of one match in one bucket, best first', () => {
    const cls = new Classifier<Rule>();
    const c = compileMatch([{ field: 'in_port', value: 7 }]);
    const rules = [3, 9, 1, 7, 5].map((p, i) => new Rule(p, c, i));
    for (const r of rules) cls.insert(c, r);
    const key = keyOf({ in_port: 7 });
    expect(cls.lookup(key)!.priority).toBe(9);
    cls.remove(rules[1]);
    expect(cls.lookup(key)!.priority).toBe(7);
    expect(cls.covered(c)).toHaveLength(4);
  });

  it('grows, compacts and rehashes without losing rules', () => {
    const cls = new Classifier<Rule>();
    const rules: Rule[] = [];
    for (let i = 0; i < 6000; i++) {
      const c = compileMatch([
        { field: 'eth_type', value: 0x800 },
        { field: 'ipv4_dst', value: `10.0.${i >> 8}.${i & 255}` },
      ]);
      const r = new Rule(i % 7, c, i);
      cls.insert(c, r);
      rules.push(r);
    }
    const key = (i: number) => keyOf({ eth_type: 0x800, ipv4_dst: `10.0.${i >> 8}.${i & 255}` });
    for (let i = 0; i < 6000; i += 97) expect(cls.lookup(key(i))).toBe(rules[i]);
    for (let i = 0; i < 6000; i++) if (i % 10 !== 0) cls.remove(rules[i]);
    expect(cls.size).toBe(600);
    for (let i = 0; i < 6000; i += 7) expect(cls.lookup(key(i))).toBe(i % 10 === 0 ? rules[i] : undefined);
    for (let i = 0; i < 6000; i += 10) expect(cls.compiledOf(rules[i]).value).toEqual(rules[i].c.value);
    cls.clear();
    expect(cls.size).toBe(0);
    expect(rules[0].clsSubtable).toBeNull();
    expect(cls.lookup(key(0))).toBeUndefined();
  });

  it('refuses a rule that is already installed', () => {
    const cls = new Classifier<Rule>();
    const c = compileMatch([]);
    const r = new Rule(1, c, 1);
    cls.insert(c, r);
    expect(() => cls.insert(c, r)).toThrow();
    expect(new Classifier<Rule>().remove(r)).toBe(false);
  });
});
