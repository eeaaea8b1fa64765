/**
 * Differential spec of the FLOW_MOD fast path: random valid and invalid
 * FLOW_MODs through an agent (fast path first) and through the slow path
 * (decodeMessage + SwitchInstance.flowMod) give the same outcome: the same
 * installed entries (compiled words, priority, cookie, flags, timeouts,
 * instructions) and the same error type/code.
 */
import fc from 'fast-check';
import {
  decodeMatch,
  encodeMessage,
  ErrorMessage,
  ETH_TYPE,
  FlowMod,
  Instruction,
  IP_PROTO,
  Match,
  OFP_NO_BUFFER,
  OFPFC,
  OFPT,
  OfpError,
  OxmDescriptor,
  OxmField,
  OXM_FIELDS,
  OxmValue,
  Reader,
  decodeMessage,
} from '@nicvisor/openflow';
import { compileMatchScratch } from './classifier.js';
import { compileWireMatch } from './fast-flowmod.js';
import { TestSwitch } from './spec-helpers.js';

const N_TABLES = 4;

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join('.'));
const ipv6 = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(':'));

/** Values mostly within the field's bits, sometimes not (BAD_VALUE). */
function value(d: OxmDescriptor): fc.Arbitrary<OxmValue> {
  switch (d.kind) {
    case 'uint':
      return fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 ** d.bits - 1 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** (8 * d.width) - 1 }) },
      );
    case 'u64':
      return fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
    case 'mac':
      return mac;
    case 'ipv4':
      return ipv4;
    case 'ipv6':
      return ipv6;
  }
}

const byName = (n: string) => OXM_FIELDS.find((d) => d.name === n)!;

/** Any field, masked sometimes (also where the field is not maskable: BAD_MASK). */
const anyField: fc.Arbitrary<OxmField> = fc.constantFrom(...OXM_FIELDS).chain((d) =>
  fc.tuple(value(d), fc.option(value(d), { nil: undefined, freq: d.maskable ? 2 : 12 })).map(([v, m]) => (m === undefined ? { field: d.name, value: v } : { field: d.name, value: v, mask: m })),
);

/** Prerequisite-friendly building blocks, so that many matches are valid. */
const ethType = fc.constantFrom(ETH_TYPE.IPV4, ETH_TYPE.IPV6, ETH_TYPE.ARP, ETH_TYPE.MPLS, 0x88cc).map((v): OxmField => ({ field: 'eth_type', value: v }));
const ipProto = fc.constantFrom(IP_PROTO.TCP, IP_PROTO.UDP, 1, 58, 132).map((v): OxmField => ({ field: 'ip_proto', value: v }));
const vlan = fc
  .tuple(fc.integer({ min: 0, max: 0x1fff }), fc.option(fc.constantFrom(0x1000, 0x1fff, 0x0fff, 0), { nil: undefined }))
  .map(([v, m]): OxmField => (m === undefined ? { field: 'vlan_vid', value: v } : { field: 'vlan_vid', value: v, mask: m }));
const icmpv6Type = fc.constantFrom(133, 134, 135, 136, 1).map((v): OxmField => ({ field: 'icmpv6_type', value: v }));
const common = fc.constantFrom(...['in_port', 'eth_dst', 'eth_src', 'metadata', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst', 'udp_dst', 'ipv6_src', 'ipv6_nd_target', 'vlan_pcp', 'ip_dscp', 'arp_op', 'mpls_label', 'icmpv4_type'].map(byName)).chain((d) =>
  fc.tuple(value(d), fc.option(value(d), { nil: undefined, freq: d.maskable ? 2 : 20 })).map(([v, m]): OxmField => (m === undefined ? { field: d.name, value: v } : { field: d.name, value: v, mask: m })),
);

/** Fields in OXM-id order or shuffled, duplicates rare. */
const matchArb: fc.Arbitrary<Match> = fc
  .tuple(
    fc.option(ethType, { freq: 4 }),
    fc.option(ipProto, { freq: 3 }),
    fc.option(vlan, { freq: 5 }),
    fc.option(icmpv6Type, { freq: 6 }),
    fc.array(common, { maxLength: 4 }),
    fc.array(anyField, { maxLength: 1 }),
    fc.boolean(),
  )
  .map(([et, ip, vl, ic, rest, any, shuffle]) => {
    const m: Match = [];
    for (const f of [et, ip, vl, ic]) if (f !== null) m.push(f);
    m.push(...rest, ...any);
    if (shuffle) m.reverse();
    return m;
  });

/** A field of the given name, masked sometimes where maskable, its value within its bits. */
function fieldArb(name: string): fc.Arbitrary<OxmField> {
  const d = byName(name);
  const v = d.kind === 'uint' ? fc.integer({ min: 0, max: 2 ** d.bits - 1 }) : value(d);
  if (!d.maskable) return v.map((x) => ({ field: d.name, value: x }));
  return fc.tuple(v, fc.option(d.kind === 'uint' ? fc.integer({ min: 0, max: 2 ** d.bits - 1 }) : value(d), { nil: undefined })).map(([x, m]) => (m === undefined ? { field: d.name, value: x } : { field: d.name, value: x, mask: m }));
}

function pick(names: readonly string[]): fc.Arbitrary<OxmField[]> {
  return fc.subarray([...names]).chain((ns) => (ns.length === 0 ? fc.constant([]) : fc.tuple(...ns.map(fieldArb))));
}

const eq = (field: string, value: number): OxmField => ({ field, value }) as OxmField;

/** Matches that satisfy their prerequisites: the common case the fast path is for. */
const validMatchArb: fc.Arbitrary<Match> = fc
  .tuple(
    pick(['in_port', 'metadata', 'eth_dst', 'eth_src']),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 0xfff }), fc.boolean(), fc.integer({ min: 0, max: 7 })), { freq: 3 }),
    fc.oneof(
      fc.constant<OxmField[]>([]),
      pick(['ipv4_src', 'ipv4_dst', 'ip_dscp']).map((f) => [eq('eth_type', ETH_TYPE.IPV4), ...f]),
      fc.tuple(pick(['ipv4_src', 'ipv4_dst']), fc.constantFrom(['tcp_src', 'tcp_dst'], ['udp_src', 'udp_dst']).chain((l4) => pick(l4).map((f) => ({ l4, f })))).map(([f3, { l4, f }]) => [
        eq('eth_type', ETH_TYPE.IPV4),
        eq('ip_proto', l4[0].startsWith('tcp') ? IP_PROTO.TCP : IP_PROTO.UDP),
        ...f3,
        ...f,
      ]),
      pick(['ipv6_src', 'ipv6_dst', 'ipv6_flabel']).map((f) => [eq('eth_type', ETH_TYPE.IPV6), ...f]),
      pick(['ipv6_nd_target', 'ipv6_nd_sll']).map((f) => [eq('eth_type', ETH_TYPE.IPV6), eq('ip_proto', IP_PROTO.ICMPV6), eq('icmpv6_type', 135), ...f]),
      pick(['arp_op', 'arp_spa', 'arp_tha']).map((f) => [eq('eth_type', ETH_TYPE.ARP), ...f]),
      pick(['mpls_label', 'mpls_tc']).map((f) => [eq('eth_type', ETH_TYPE.MPLS), ...f]),
    ),
    fc.boolean(),
  )
  .map(([l2, vl, l3, shuffle]) => {
    const m: Match = [...l2];
    if (vl !== null) {
      const [vid, masked, pcp] = vl;
      m.push(masked ? { field: 'vlan_vid', value: 0x1000, mask: 0x1000 } : { field: 'vlan_vid', value: 0x1000 | vid });
      if (pcp > 3) m.push(eq('vlan_pcp', pcp));
    }
    m.push(...l3);
    if (shuffle) m.reverse();
    return m;
  });

const instructionsArb: fc.Arbitrary<Instruction[]> = fc.oneof(
  fc.constant<Instruction[]>([]),
  fc.integer({ min: 0, max: N_TABLES + 1 }).map((t): Instruction[] => [{ type: 1, tableId: t }]),
  fc.integer({ min: 1, max: 5 }).map((p): Instruction[] => [{ type: 4, actions: [{ type: 0, port: p, maxLen: 0 }] }]),
  // set-field: its prerequisites are checked against the match
  fc.constantFrom<OxmField>({ field: 'ipv4_src', value: '1.2.3.4' }, { field: 'tcp_dst', value: 80 }, { field: 'eth_dst', value: '00:00:00:00:00:01' }).map((f): Instruction[] => [
    { type: 4, actions: [{ type: 25, field: f }] },
  ]),
  fc.integer({ min: 1, max: 3 }).map((m): Instruction[] => [{ type: 6, meterId: m }]),
);

const flowModArb: fc.Arbitrary<FlowMod> = fc.record({
  type: fc.constant(OFPT.FLOW_MOD),
  xid: fc.constant(7),
  cookie: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  cookieMask: fc.constant(0n),
  tableId: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: N_TABLES - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(N_TABLES, 0xff) }),
  command: fc.oneof({ weight: 8, arbitrary: fc.constant(OFPFC.ADD) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }) }),
  idleTimeout: fc.constantFrom(0, 10),
  hardTimeout: fc.constantFrom(0, 30),
  priority: fc.constantFrom(0, 100, 0x8000),
  bufferId: fc.oneof({ weight: 9, arbitrary: fc.constant(OFP_NO_BUFFER) }, { weight: 1, arbitrary: fc.constant(5) }),
  outPort: fc.constant(0xffffffff),
  outGroup: fc.constant(0xffffffff),
  flags: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1, 2, 4) }, { weight: 1, arbitrary: fc.constant(0x100) }),
  match: fc.oneof(matchArb, validMatchArb, validMatchArb),
  instructions: instructionsArb,
});

/** Encodes, then maybe damages the match: a byte changed, the length field changed, a hasmask bit flipped, a class changed. */
const rawArb: fc.Arbitrary<Buffer> = fc
  .tuple(flowModArb, fc.option(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { freq: 4 }))
  .map(([fm, damage]) => {
    let raw: Buffer;
    try {
      raw = encodeMessage(fm);
    } catch {
      // A value the encoder refuses (a bigger-than-bits value is fine; a bad one is not): encode without the match.
      raw = encodeMessage({ ...fm, match: [] });
    }
    if (damage === null) return raw;
    const [kind, pos, byte] = damage;
    const mlen = raw.readUInt16BE(50);
    const at = 52 + (mlen > 4 ? pos % (mlen - 4) : 0);
    const b = Buffer.from(raw);
    switch (kind) {
      case 0:
        if (mlen > 4) b[at] = byte;
        break;
      case 1:
        b.writeUInt16BE((mlen + (byte % 9) - 4) & 0xffff, 50);
        break;
      case 2:
        if (mlen > 4) b[54] ^= 1;
        break;
      case 3:
        if (mlen > 4) b.writeUInt16BE(byte & 1 ? 0xffff : 0x0001, 52);
        break;
      default:
        b[48] = byte & 1; // match type
    }
    return b;
  });

interface Outcome {
  errors: Array<[number, number]>;
  entries: unknown[];
}

function snapshot(t: TestSwitch): unknown[] {
  const out: unknown[] = [];
  for (let id = 0; id < N_TABLES; id++) {
    for (const e of t.sw.tables[id].entries()) {
      const c = e.compiled;
      out.push({
        table: id,
        priority: e.priority,
        cookie: e.cookie,
        flags: e.flags,
        idle: e.idleTimeout,
        hard: e.hardTimeout,
        words: [...c.words],
        value: c.words.map((w) => c.value[w]),
        mask: c.words.map((w) => c.mask[w]),
        match: e.match,
        instructions: e.instructions,
      });
    }
  }
  return out;
}

function rig(): TestSwitch {
  const t = new TestSwitch({ nTables: N_TABLES });
  // Meter 1 exists; meter 2 and 3 do not.
  t.controller().send({ type: OFPT.METER_MOD, xid: 1, command: 0, flags: 1, meterId: 1, bands: [{ type: 1, rate: 1000, burstSize: 0 }] });
  // A flow to overlap with (CHECK_OVERLAP) and to replace.
  t.controller().send({
    type: OFPT.FLOW_MOD, xid: 2, cookie: 1n, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0, priority: 100,
    bufferId: OFP_NO_BUFFER, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0, match: [], instructions: [],
  });
  return t;
}

/** Through the agent: the fast path where it applies. */
function viaAgent(raw: Buffer): Outcome & { fast: boolean } {
  const t = rig();
  const c = t.controller();
  let fast = false;
  const orig = t.sw.flowModWire.bind(t.sw);
  t.sw.flowModWire = (r: Buffer) => (fast = orig(r));
  const replies = c.sendRaw(raw);
  const errors = replies.filter((m): m is ErrorMessage => m.type === OFPT.ERROR).map((m): [number, number] => [m.errorType, m.code]);
  return { errors, entries: snapshot(t), fast };
}

/** The slow path, as the agent takes it without the fast path. */
function viaSlowPath(raw: Buffer): Outcome {
  const t = rig();
  const errors: Array<[number, number]> = [];
  try {
    const msg = decodeMessage(raw);
    if (msg.type !== OFPT.FLOW_MOD) throw new Error('not a flow-mod');
    t.sw.flowMod(msg, raw);
  } catch (e) {
    if (!(e instanceof OfpError)) throw e;
    errors.push([e.type, e.code]);
  }
  return { errors, entries: snapshot(t) };
}

describe('FLOW_MOD fast path', () => {
  it('gives the slow path’s outcome for random valid and invalid flow-mods', () => {
    let fast = 0;
    let total = 0;
    let failed = 0;
    fc.assert(
      fc.property(rawArb, (raw) => {
        const a = viaAgent(raw);
        const b = viaSlowPath(raw);
        total++;
        if (a.fast) fast++;
        if (b.errors.length > 0) failed++;
        expect(a.errors).toEqual(b.errors);
        expect(a.entries).toEqual(b.entries);
        if (a.fast) expect(a.errors).toEqual([]);
      }),
      { numRuns: 3000, seed: 0x5eed },
    );
    // Both paths were exercised.
    expect(fast).toBeGreaterThan(total / 20);
    expect(failed).toBeGreaterThan(total / 5);
  });

  it('compiles exactly the words compileMatchScratch gives, and accepts only what the slow path accepts', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rawArb, (raw) => {
        const len = raw.readUInt16BE(2);
        const fastRes = compileWireMatch(raw, 48, len);
        const fastCopy = fastRes && {
          words: [...fastRes.compiled.words],
          value: Array.from(fastRes.compiled.value),
          mask: Array.from(fastRes.compiled.mask),
          next: fastRes.next,
        };
        let slow: { words: number[]; value: number[]; mask: number[]; next: number } | Error;
        try {
          const r = new Reader(raw, 48, len);
          const m = decodeMatch(r);
          const c = compileMatchScratch(m);
          slow = { words: [...c.words], value: Array.from(c.value), mask: Array.from(c.mask), next: r.pos };
        } catch (e) {
          slow = e as Error;
        }
        if (fastCopy !== null) {
          accepted++;
          expect(slow).not.toBeInstanceOf(Error);
          expect(fastCopy).toEqual(slow);
        }
      }),
      { numRuns: 3000, seed: 0xbeef },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('gives the slow path’s outcome for a run of ADDs repeating instruction bytes (validated once per table)', () => {
    const add = (xid: number, tableId: number, port: number, instructions: Instruction[]): FlowMod => ({
      type: OFPT.FLOW_MOD, xid, cookie: 0n, cookieMask: 0n, tableId, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0, priority: 10,
      bufferId: OFP_NO_BUFFER, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0,
      match: [{ field: 'in_port', value: port }],
      instructions,
    });
    const goto2: Instruction[] = [{ type: 1, tableId: 2 }];
    const out: Instruction[] = [{ type: 4, actions: [{ type: 0, port: 2, maxLen: 0 }] }];
    const meter2: Instruction[] = [{ type: 6, meterId: 2 }, ...out];
    const run = [add(1, 0, 1, goto2), add(2, 0, 2, goto2), add(3, 3, 1, goto2), add(4, 2, 1, goto2), add(5, 3, 2, goto2), add(6, 1, 1, out), add(7, 1, 2, out), add(8, 1, 3, meter2), add(9, 1, 4, meter2)];
    const fast = rig();
    const c = fast.controller();
    let taken = 0;
    const orig = fast.sw.flowModWire.bind(fast.sw);
    fast.sw.flowModWire = (r: Buffer) => {
      const ok = orig(r);
      if (ok) taken++;
      return ok;
    };
    const fastErrors = run.map((fm) => c.send(fm).filter((m): m is ErrorMessage => m.type === OFPT.ERROR).map((m) => [m.errorType, m.code]));
    const slow = rig();
    const slowErrors = run.map((fm) => {
      const raw = encodeMessage(fm);
      try {
        slow.sw.flowMod(decodeMessage(raw) as FlowMod, raw);
        return [];
      } catch (e) {
        if (!(e instanceof OfpError)) throw e;
        return [[e.type, e.code]];
      }
    });
    expect(fastErrors).toEqual(slowErrors);
    // goto_table 2 from tables 2 and 3 (BAD_TABLE_ID), meter 2 (UNKNOWN_METER): refused each time, whatever the table already holds.
    expect(fastErrors.filter((e) => e.length > 0)).toHaveLength(5);
    expect(snapshot(fast)).toEqual(snapshot(slow));
    expect(taken).toBe(4);
  });

  it('keeps the decoded match available: stats show the canonical match', () => {
    const t = rig();
    const c = t.controller();
    const fm: FlowMod = {
      type: OFPT.FLOW_MOD, xid: 9, cookie: 5n, cookieMask: 0n, tableId: 1, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0, priority: 7,
      bufferId: OFP_NO_BUFFER, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0,
      match: [{ field: 'eth_type', value: ETH_TYPE.IPV4 }, { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' }],
      instructions: [{ type: 4, actions: [{ type: 0, port: 2, maxLen: 0 }] }],
    };
    expect(c.send(fm)).toEqual([]);
    const [e] = t.sw.tables[1].entries();
    expect(e.match).toEqual(fm.match);
    expect(e.instructions).toEqual(fm.instructions);
  });
});
