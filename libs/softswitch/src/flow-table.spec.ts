import {
  Instruction,
  Match,
  OFPAT,
  OFPBMC,
  OFPET,
  OFPFC,
  OFPFF,
  OFPFMFC,
  OFPG,
  OFPIT,
  OFPP,
  OFPRR,
  OfpError,
} from '@nicvisor/openflow';
import { ManualClock, splitDuration, SystemClock } from './clock.js';
import { FlowModRequest, FlowTable } from './flow-table.js';
import { newKey, slotOf } from './key.js';

const output = (port: number): Instruction[] => [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port, maxLen: 0 }] }];
const writeGroup = (groupId: number): Instruction[] => [{ type: OFPIT.WRITE_ACTIONS, actions: [{ type: OFPAT.GROUP, groupId }] }];

function fm(over: Partial<FlowModRequest>): FlowModRequest {
  return {
    command: OFPFC.ADD,
    cookie: 0n,
    cookieMask: 0n,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...over,
  };
}

const port = (p: number): Match => [{ field: 'in_port', value: p }];
const ip4 = (dst: string, mask?: string): Match => [
  { field: 'eth_type', value: 0x800 },
  mask === undefined ? { field: 'ipv4_dst', value: dst } : { field: 'ipv4_dst', value: dst, mask },
];

function key(inPort: number, dst?: string): Uint32Array {
  const k = newKey();
  k[slotOf('in_port').word] = inPort;
  if (dst !== undefined) {
    k[slotOf('eth_type').word] = 0x800;
    k[slotOf('ipv4_dst').word] = dst.split('.').reduce((a, p) => a * 256 + Number(p), 0);
  }
  return k;
}

function expectFlowModError(fn: () => unknown, type: number, code: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OfpError);
    expect([(e as OfpError).type, (e as OfpError).code]).toEqual([type, code]);
    return;
  }
  throw new Error('expected an OfpError');
}

let clock: ManualClock;
let table: FlowTable;
beforeEach(() => {
  clock = new ManualClock(1000);
  table = new FlowTable(clock, { tableId: 3 });
});

describe('ADD', () => {
  it('installs an entry with its fields and the install time', () => {
    const r = table.apply(
      fm({ match: port(1), priority: 7, cookie: 0xfedcba9876543210n, flags: OFPFF.SEND_FLOW_REM, idleTimeout: 5, hardTimeout: 9, instructions: output(2) }),
    );
    const e = r.added!;
    expect(r.replaced).toBeUndefined();
    expect(table.size).toBe(1);
    expect(e.priority).toBe(7);
    expect(e.cookie).toBe(0xfedcba9876543210n);
    expect(e.flags).toBe(OFPFF.SEND_FLOW_REM);
    expect([e.idleTimeout, e.hardTimeout]).toEqual([5, 9]);
    expect(e.instructions).toEqual(output(2));
    expect(e.match).toEqual(port(1));
    expect([e.installedAt, e.lastUsed, e.packetCount, e.byteCount]).toEqual([1000, 1000, 0, 0]);
    expect(table.find(port(1), 7)).toBe(e);
  });

  it('replaces an identical match and priority, keeping counters unless RESET_COUNTS', () => {
    const first = table.apply(fm({ match: port(1), instructions: output(2) })).added!;
    table.lookup(key(1), 60);
    table.lookup(key(1), 40);
    clock.advance(500);
    const r = table.apply(fm({ match: port(1), instructions: output(3), cookie: 5n }));
    expect(r.replaced).toBe(first);
    expect(r.removed).toEqual([]);
    const second = r.added!;
    expect(table.size).toBe(1);
    expect([second.packetCount, second.byteCount]).toEqual([2, 100]);
    expect(second.installedAt).toBe(1500);
    expect(second.cookie).toBe(5n);
    expect(table.lookup(key(1), 1)).toBe(second);
    // The replaced entry still describes itself.
    expect(first.match).toEqual(port(1));
    const third = table.apply(fm({ match: port(1), instructions: output(4), flags: OFPFF.RESET_COUNTS })).added!;
    expect([third.packetCount, third.byteCount]).toEqual([0, 0]);
    // Another priority is another entry.
    table.apply(fm({ match: port(1), priority: 99 }));
    expect(table.size).toBe(2);
  });

  it('refuses overlaps at the same priority under CHECK_OVERLAP', () => {
    table.apply(fm({ match: ip4('10.0.0.0', '255.0.0.0') }));
    const overlap = fm({ match: [{ field: 'in_port', value: 1 }, ...ip4('10.1.0.0', '255.255.0.0')], flags: OFPFF.CHECK_OVERLAP });
    expectFlowModError(() => table.apply(overlap), OFPET.FLOW_MOD_FAILED, OFPFMFC.OVERLAP);
    // An identical entry overlaps too.
    expectFlowModError(
      () => table.apply(fm({ match: ip4('10.0.0.0', '255.0.0.0'), flags: OFPFF.CHECK_OVERLAP })),
      OFPET.FLOW_MOD_FAILED,
      OFPFMFC.OVERLAP,
    );
    // A port-only match overlaps an IP match (a packet can match both).
    expectFlowModError(() => table.apply(fm({ match: port(4), flags: OFPFF.CHECK_OVERLAP })), OFPET.FLOW_MOD_FAILED, OFPFMFC.OVERLAP);
    expect(table.size).toBe(1);
    table.apply({ ...overlap, priority: 101 });
    table.apply(fm({ match: ip4('11.0.0.0', '255.0.0.0'), flags: OFPFF.CHECK_OVERLAP }));
    table.apply(fm({ match: [{ field: 'eth_type', value: 0x806 }], flags: OFPFF.CHECK_OVERLAP }));
    expect(table.size).toBe(4);
    // Without the flag, overlaps are fine.
    table.apply({ ...overlap, flags: 0 });
    expect(table.size).toBe(5);
  });

  it('fails with TABLE_FULL beyond maxEntries, but may still replace', () => {
    table = new FlowTable(clock, { maxEntries: 2 });
    table.apply(fm({ match: port(1) }));
    table.apply(fm({ match: port(2) }));
    expectFlowModError(() => table.apply(fm({ match: port(3) })), OFPET.FLOW_MOD_FAILED, OFPFMFC.TABLE_FULL);
    expect(table.apply(fm({ match: port(2), instructions: output(1) })).replaced).toBeDefined();
    table.apply(fm({ match: port(1), command: OFPFC.DELETE_STRICT }));
    table.apply(fm({ match: port(3) }));
    expect(table.size).toBe(2);
  });

  it('rejects bad matches, unknown flags and commands without changing the table', () => {
    expectFlowModError(() => table.apply(fm({ match: [{ field: 'tcp_dst', value: 80 }] })), OFPET.BAD_MATCH, OFPBMC.BAD_PREREQ);
    expectFlowModError(
      () => table.apply(fm({ match: [{ oxmClass: 1, field: 2, hasMask: false, payload: Buffer.alloc(4) }] })),
      OFPET.BAD_MATCH,
      OFPBMC.BAD_FIELD,
    );
    expectFlowModError(() => table.apply(fm({ flags: 1 << 7 })), OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_FLAGS);
    expectFlowModError(() => table.apply(fm({ command: 9 })), OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND);
    expect(table.size).toBe(0);
  });

  it('shares identical instruction lists between entries', () => {
    const a = table.apply(fm({ match: port(1), instructions: output(2) })).added!;
    const b = table.apply(fm({ match: port(2), instructions: output(2) })).added!;
    const c = table.apply(fm({ match: port(3), instructions: output(3) })).added!;
    expect(a.instructions).toBe(b.instructions);
    expect(c.instructions).not.toBe(a.instructions);
    expect(Object.isFrozen(a.instructions)).toBe(true);
  });
});

describe('MODIFY and MODIFY_STRICT', () => {
  beforeEach(() => {
    table.apply(fm({ match: ip4('10.0.0.0', '255.0.0.0'), priority: 10, cookie: 0x11n, instructions: output(1), idleTimeout: 30 }));
    table.apply(fm({ match: ip4('10.1.0.0', '255.255.0.0'), priority: 20, cookie: 0x12n, instructions: output(1) }));
    table.apply(fm({ match: ip4('11.0.0.0', '255.0.0.0'), priority: 10, cookie: 0x21n, instructions: output(1) }));
    table.apply(fm({ match: [], priority: 0, cookie: 0x22n, instructions: output(OFPP.CONTROLLER) }));
  });

  const dsts = (es: { match: Match }[]) =>
    es.map((e) => (e.match.find((f) => 'field' in f && f.field === 'ipv4_dst') as { value: string } | undefined)?.value ?? '*').sort();

  it('non-strict updates every equal or more specific entry, whatever its priority', () => {
    table.lookup(key(1, '10.1.2.3'), 100);
    const r = table.apply(fm({ command: OFPFC.MODIFY, match: ip4('10.0.0.0', '255.0.0.0'), priority: 1, instructions: output(9) }));
    expect(dsts(r.modified)).toEqual(['10.0.0.0', '10.1.0.0']);
    for (const e of r.modified) expect(e.instructions).toEqual(output(9));
    const e20 = table.find(ip4('10.1.0.0', '255.255.0.0'), 20)!;
    // Cookie, timeouts, flags and counters are left as they were.
    expect([e20.cookie, e20.packetCount, e20.byteCount]).toEqual([0x12n, 1, 100]);
    expect(table.find(ip4('10.0.0.0', '255.0.0.0'), 10)!.idleTimeout).toBe(30);
    expect(table.find(ip4('11.0.0.0', '255.0.0.0'), 10)!.instructions).toEqual(output(1));
  });

  it('an empty match modifies everything; RESET_COUNTS clears counters', () => {
    table.lookup(key(1, '10.1.2.3'), 100);
    const r = table.apply(fm({ command: OFPFC.MODIFY, instructions: output(5), flags: OFPFF.RESET_COUNTS }));
    expect(r.modified).toHaveLength(4);
    for (const e of table.entries()) {
      expect(e.instructions).toEqual(output(5));
      expect(e.packetCount).toBe(0);
    }
  });

  it('filters by cookie under cookie_mask', () => {
    const r = table.apply(fm({ command: OFPFC.MODIFY, cookie: 0x10n, cookieMask: 0xf0n, instructions: output(6) }));
    expect(r.modified.map((e) => e.cookie).sort()).toEqual([0x11n, 0x12n]);
    const none = table.apply(fm({ command: OFPFC.MODIFY, cookie: 0x30n, cookieMask: 0xf0n, instructions: output(6) }));
    expect(none.modified).toEqual([]);
  });

  it('strict needs the same match and priority', () => {
    expect(table.apply(fm({ command: OFPFC.MODIFY_STRICT, match: ip4('10.0.0.0', '255.0.0.0'), priority: 11 })).modified).toEqual([]);
    expect(table.apply(fm({ command: OFPFC.MODIFY_STRICT, match: ip4('10.0.0.0', '255.255.0.0'), priority: 10 })).modified).toEqual([]);
    const r = table.apply(fm({ command: OFPFC.MODIFY_STRICT, match: ip4('10.0.0.0', '255.0.0.0'), priority: 10, instructions: output(7) }));
    expect(r.modified).toHaveLength(1);
    expect(r.modified[0].instructions).toEqual(output(7));
    expect(table.apply(fm({ command: OFPFC.MODIFY_STRICT, cookie: 1n, cookieMask: 0xffn, priority: 0 })).modified).toEqual([]);
    expect(table.apply(fm({ command: OFPFC.MODIFY_STRICT, cookie: 0x22n, cookieMask: 0xffn, priority: 0 })).modified).toHaveLength(1);
  });

  it('a modify that matches nothing adds nothing', () => {
    const r = table.apply(fm({ command: OFPFC.MODIFY, match: port(42), instructions: output(1) }));
    expect(r).toEqual({ modified: [], removed: [] });
    expect(table.size).toBe(4);
  });
});

describe('DELETE and DELETE_STRICT', () => {
  beforeEach(() => {
    table.apply(fm({ match: port(1), priority: 10, cookie: 0x1n, instructions: output(2) }));
    table.apply(fm({ match: port(2), priority: 10, cookie: 0x2n, instructions: writeGroup(7) }));
    table.apply(fm({ match: ip4('10.0.0.1'), priority: 20, cookie: 0x3n, instructions: [...output(3), ...writeGroup(8)] }));
    table.apply(
      fm({
        match: [{ field: 'in_port', value: 1 }, ...ip4('10.0.0.2')],
        priority: 30,
        cookie: 0x4n,
        instructions: [{ type: OFPIT.WRITE_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] }],
      }),
    );
  });

  const cookies = (r: { removed: { entry: { cookie: bigint } }[] }) => r.removed.map((x) => x.entry.cookie).sort();

  it('non-strict removes equal or more specific entries, reporting them with OFPRR_DELETE', () => {
    clock.advance(2500);
    const r = table.apply(fm({ command: OFPFC.DELETE, match: port(1) }));
    expect(cookies(r)).toEqual([0x1n, 0x4n]);
    for (const x of r.removed) {
      expect(x.reason).toBe(OFPRR.DELETE);
      expect(x.at).toBe(3500);
      expect(x.entry.duration(x.at)).toEqual({ sec: 2, nsec: 500_000_000 });
    }
    expect(r.removed.find((x) => x.entry.cookie === 0x4n)!.entry.match).toEqual([{ field: 'in_port', value: 1 }, ...ip4('10.0.0.2')]);
    expect(table.size).toBe(2);
    expect(table.lookup(key(1), 1)).toBeUndefined();
  });

  it('a removed entry keeps its match after new entries take its place in the table', () => {
    const r = table.apply(fm({ command: OFPFC.DELETE, match: [] }));
    for (let p = 5; p < 9; p++) table.apply(fm({ match: port(p), priority: 10, instructions: output(2) }));
    table.apply(fm({ match: [{ field: 'in_port', value: 6 }, ...ip4('10.9.9.9')], priority: 30, instructions: output(2) }));
    const matchOf = (c: bigint) => r.removed.find((x) => x.entry.cookie === c)!.entry.match;
    expect(matchOf(0x1n)).toEqual(port(1));
    expect(matchOf(0x2n)).toEqual(port(2));
    expect(matchOf(0x3n)).toEqual(ip4('10.0.0.1'));
    expect(matchOf(0x4n)).toEqual([{ field: 'in_port', value: 1 }, ...ip4('10.0.0.2')]);
  });

  it('an empty match deletes everything', () => {
    expect(table.apply(fm({ command: OFPFC.DELETE })).removed).toHaveLength(4);
    expect(table.size).toBe(0);
  });

  it('filters on out_port in apply and write actions', () => {
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, outPort: 2 })))).toEqual([0x1n, 0x4n]);
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, outPort: 5 })))).toEqual([]);
    expect(table.size).toBe(2);
  });

  it('filters on out_group', () => {
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, outGroup: 8 })))).toEqual([0x3n]);
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, outGroup: 7, outPort: 3 })))).toEqual([]);
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, outGroup: 7 })))).toEqual([0x2n]);
  });

  it('filters on cookie under cookie_mask', () => {
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE, cookie: 0x2n, cookieMask: 0x2n })))).toEqual([0x2n, 0x3n]);
  });

  it('strict removes only the same match and priority, with filters', () => {
    expect(table.apply(fm({ command: OFPFC.DELETE_STRICT, match: port(1), priority: 11 })).removed).toEqual([]);
    expect(table.apply(fm({ command: OFPFC.DELETE_STRICT, match: port(1), priority: 10, outPort: 9 })).removed).toEqual([]);
    expect(cookies(table.apply(fm({ command: OFPFC.DELETE_STRICT, match: port(1), priority: 10, outPort: 2 })))).toEqual([0x1n]);
    expect(table.size).toBe(3);
    expect(table.find([{ field: 'in_port', value: 1 }, ...ip4('10.0.0.2')], 30)).toBeDefined();
  });

  it('removes entries for the agent with its own reason', () => {
    const victims = table.select({ match: [], cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: 7 });
    const r = table.remove(victims, OFPRR.GROUP_DELETE);
    expect(r.map((x) => [x.entry.cookie, x.reason])).toEqual([[0x2n, OFPRR.GROUP_DELETE]]);
    expect(table.remove(victims, OFPRR.GROUP_DELETE)).toEqual([]);
  });
});

describe('lookup and counters', () => {
  it('counts packets, bytes, table lookups and matches, and stamps last use', () => {
    const low = table.apply(fm({ match: [], priority: 0 })).added!;
    const hi = table.apply(fm({ match: ip4('10.0.0.0', '255.255.255.0'), priority: 5 })).added!;
    clock.advance(10);
    expect(table.lookup(key(1, '10.0.0.9'), 64)).toBe(hi);
    expect(table.lookup(key(1, '10.0.1.9'), 100)).toBe(low);
    expect(table.lookup(key(1, '10.0.0.1'), 36, 2000)).toBe(hi);
    expect([hi.packetCount, hi.byteCount, hi.lastUsed]).toEqual([2, 100, 2000]);
    expect([low.packetCount, low.byteCount, low.lastUsed]).toEqual([1, 100, 1010]);
    table.apply(fm({ command: OFPFC.DELETE_STRICT, priority: 0 }));
    expect(table.lookup(key(1, '10.0.1.9'), 100)).toBeUndefined();
    expect([table.lookupCount, table.matchedCount]).toEqual([4, 3]);
    expect(table.peek(key(1, '10.0.0.9'))).toBe(hi);
    expect(table.lookupCount).toBe(4);
  });
});

describe('timeouts', () => {
  it('expires by hard timeout regardless of use', () => {
    const e = table.apply(fm({ match: port(1), hardTimeout: 10, flags: OFPFF.SEND_FLOW_REM })).added!;
    clock.advance(9_999);
    table.lookup(key(1), 1);
    expect(table.expire()).toEqual([]);
    expect(table.nextExpiry()).toBe(11_000);
    clock.advance(1);
    expect(table.expire()).toEqual([{ entry: e, reason: OFPRR.HARD_TIMEOUT, at: 11_000 }]);
    expect(table.size).toBe(0);
    expect(table.expire()).toEqual([]);
    expect(table.nextExpiry()).toBe(Infinity);
  });

  it('expires by idle timeout, which use pushes back', () => {
    const e = table.apply(fm({ match: port(1), idleTimeout: 5 })).added!;
    table.apply(fm({ match: port(2) })); // no timeout: never expires
    clock.advance(4_000);
    table.lookup(key(1), 1);
    clock.advance(4_000);
    expect(table.expire()).toEqual([]);
    clock.advance(1_000);
    const r = table.expire();
    expect(r).toEqual([{ entry: e, reason: OFPRR.IDLE_TIMEOUT, at: 10_000 }]);
    expect(e.match).toEqual(port(1));
    expect(table.size).toBe(1);
  });

  it('reports whichever timeout ran out first', () => {
    const idleFirst = table.apply(fm({ match: port(1), idleTimeout: 2, hardTimeout: 10 })).added!;
    const hardFirst = table.apply(fm({ match: port(2), idleTimeout: 10, hardTimeout: 3 })).added!;
    const tie = table.apply(fm({ match: port(3), idleTimeout: 4, hardTimeout: 4 })).added!;
    clock.advance(60_000);
    const r = table.expire();
    const reason = (x: unknown) => r.find((y) => y.entry === x)!.reason;
    expect(reason(idleFirst)).toBe(OFPRR.IDLE_TIMEOUT);
    expect(reason(hardFirst)).toBe(OFPRR.HARD_TIMEOUT);
    expect(reason(tie)).toBe(OFPRR.HARD_TIMEOUT);
  });

  it('a replacing ADD restarts the timers; deleted entries no longer expire', () => {
    table.apply(fm({ match: port(1), hardTimeout: 2 }));
    clock.advance(1_500);
    const again = table.apply(fm({ match: port(1), hardTimeout: 2 })).added!;
    clock.advance(1_000);
    expect(table.expire()).toEqual([]);
    clock.advance(1_000);
    expect(table.expire().map((x) => x.entry)).toEqual([again]);
    table.apply(fm({ match: port(2), idleTimeout: 1 }));
    table.apply(fm({ command: OFPFC.DELETE }));
    clock.advance(5_000);
    expect(table.expire()).toEqual([]);
  });
});

describe('flow and aggregate stats', () => {
  it('select the non-strict match with filters; statsOf reports one entry', () => {
    const a = table.apply(fm({ match: ip4('10.0.0.1'), priority: 5, cookie: 0xan, instructions: output(1) })).added!;
    table.apply(fm({ match: ip4('10.0.0.2'), priority: 6, cookie: 0xbn, instructions: output(2) }));
    table.apply(fm({ match: port(1), priority: 7, cookie: 0xcn, instructions: output(1) }));
    table.lookup(key(0, '10.0.0.1'), 1500);
    table.lookup(key(0, '10.0.0.2'), 500);
    const sel = { match: ip4('10.0.0.0', '255.0.0.0'), cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: OFPG.ANY };
    expect(table.select(sel)).toHaveLength(2);
    expect(table.select({ ...sel, outPort: 1 })).toEqual([a]);
    expect(table.select({ ...sel, match: [] })).toHaveLength(3);
    expect(table.select({ ...sel, match: [], cookie: 0xcn, cookieMask: 0xffn })).toHaveLength(1);
    expect(table.aggregate(sel)).toEqual({ packetCount: 2n, byteCount: 2000n, flowCount: 2 });
    expect(table.aggregate({ ...sel, outPort: 9 })).toEqual({ packetCount: 0n, byteCount: 0n, flowCount: 0 });
    clock.advance(1234.5);
    expect(table.statsOf(a)).toEqual({
      tableId: 3,
      durationSec: 1,
      durationNsec: 234_500_000,
      priority: 5,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      cookie: 0xan,
      packetCount: 1n,
      byteCount: 1500n,
      match: ip4('10.0.0.1'),
      instructions: output(1),
    });
  });

  it('clear() empties the table', () => {
    table.apply(fm({ match: port(1), idleTimeout: 1 }));
    table.clear();
    expect(table.size).toBe(0);
    clock.advance(5000);
    expect(table.expire()).toEqual([]);
  });
});

describe('clock', () => {
  it('manual clock only moves forward; durations split into sec and nsec', () => {
    const c = new ManualClock();
    c.advance(1500);
    expect(c.now()).toBe(1500);
    expect(() => c.advance(-1)).toThrow(RangeError);
    expect(() => c.set(10)).toThrow(RangeError);
    c.set(2000);
    expect(splitDuration(2000.000001)).toEqual({ sec: 2, nsec: 1 });
    expect(splitDuration(-5)).toEqual({ sec: 0, nsec: 0 });
  });

  it('system clock is monotonic and starts near zero', () => {
    const c = new SystemClock();
    const a = c.now();
    const b = c.now();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
