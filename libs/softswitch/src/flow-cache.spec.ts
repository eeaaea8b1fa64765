import {
  Action,
  FlowRemoved,
  FlowStats,
  FlowStatsRequest,
  Instruction,
  Match,
  OFPAT,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPFC,
  OFPFF,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMF,
  OFPMP,
  OFPP,
  OFPPC,
  OFPT,
  OFPTT,
  OfpMessage,
  PacketIn,
} from '@nicvisor/openflow';
import { applyActions, bucket, flowMod, group, groupMod, meterMod, output, TestController, TestSwitch, udpFrame, writeActions } from './spec-helpers.js';

const IPV4 = { field: 'eth_type', value: 0x0800 } as const;
const goto = (tableId: number): Instruction => ({ type: OFPIT.GOTO_TABLE, tableId });

function rig(flowCache: boolean): { t: TestSwitch; c: TestController } {
  const t = new TestSwitch({ nTables: 4, flowCache });
  return { t, c: t.controller() };
}

describe('FlowCache: hits and misses', () => {
  it('caches a walk through several tables and replays it with the same outcome and counters', () => {
    const { t, c } = rig(true);
    c.send(flowMod({ tableId: 0, priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [goto(1)] }));
    c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }], actions: [output(2)] }));
    const f = udpFrame({ dst: 0x0a000005 });
    t.sw.receiveFrame(1, f);
    expect(t.sw.flowCacheStats()).toMatchObject({ entries: 1, hits: 0, misses: 1 });
    t.sw.receiveFrame(1, f);
    // Another destination in the same /24 (the bits the lookups looked at are equal): a hit.
    t.sw.receiveFrame(1, udpFrame({ dst: 0x0a000007, sport: 9 }));
    expect(t.sw.flowCacheStats()).toMatchObject({ entries: 1, hits: 2, misses: 1 });
    expect(t.takeFrames().map((x) => x.port)).toEqual([2, 2, 2]);
    expect(t.sw.tableStats(0)).toMatchObject({ lookupCount: 3n, matchedCount: 3n });
    expect(t.sw.tableStats(1)).toMatchObject({ lookupCount: 3n, matchedCount: 3n });
    const [e] = t.sw.tables[1].entries();
    expect([e.packetCount, e.byteCount]).toEqual([3, 3 * 64]);
    // Outside the /24: a different megaflow.
    t.sw.receiveFrame(1, udpFrame({ dst: 0x0a000105 }));
    expect(t.sw.flowCacheStats()).toMatchObject({ entries: 2, misses: 2 });
    expect(t.sw.tableStats(1)).toMatchObject({ lookupCount: 4n, matchedCount: 3n });
  });

  it('counts a cached table miss as a lookup without a match', () => {
    const { t, c } = rig(true);
    c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [goto(2)] }));
    for (let i = 0; i < 3; i++) t.sw.receiveFrame(1, udpFrame());
    expect(t.sw.flowCacheStats()).toMatchObject({ hits: 2, misses: 1 });
    expect(t.sw.tableStats(2)).toMatchObject({ lookupCount: 3n, matchedCount: 0n });
    expect(t.takeFrames()).toEqual([]);
  });

  it('is off with flowCache: false, and can be switched at run time', () => {
    const { t, c } = rig(false);
    c.send(flowMod({ match: [], actions: [output(2)] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.sw.flowCacheStats()).toBeUndefined();
    t.sw.setFlowCache(true);
    t.sw.receiveFrame(1, udpFrame());
    t.sw.receiveFrame(1, udpFrame());
    expect(t.sw.flowCacheStats()).toMatchObject({ hits: 1, misses: 1 });
    expect(t.takeFrames()).toHaveLength(3);
  });

  it('does not change the caller frame, and never changes a frame a listener was given (zero-copy outputs, copy on write)', () => {
    const { t, c } = rig(true);
    c.send(flowMod({ match: [], actions: [output(2), { type: OFPAT.DEC_NW_TTL }, output(3)] }));
    const f = udpFrame({ ttl: 9 });
    const copy = Buffer.from(f);
    const seen: Buffer[] = [];
    t.sw.onTransmit((_, frame) => seen.push(frame));
    t.sw.receiveFrame(1, f);
    t.sw.receiveFrame(1, f);
    expect(f).toEqual(copy);
    // Kept frames keep what they had when sent, though the packet was edited after its first output.
    expect(seen.map((b) => b[22])).toEqual([9, 8, 9, 8]);
    // The unedited output is the caller's frame itself (not copied); the edited one a copy.
    expect(seen.map((b) => b === f)).toEqual([true, false, true, false]);
  });
});

describe('FlowCache: invalidation', () => {
  function primed() {
    const r = rig(true);
    r.c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [goto(1)] }));
    r.c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4], actions: [output(2)] }));
    r.t.sw.receiveFrame(1, udpFrame());
    r.t.sw.receiveFrame(1, udpFrame());
    expect(r.t.sw.flowCacheStats()).toMatchObject({ hits: 1, misses: 1 });
    expect(r.t.takeFrames().map((x) => x.port)).toEqual([2, 2]);
    return r;
  }

  it('follows a flow-mod ADD of a better entry', () => {
    const { t, c } = primed();
    c.send(flowMod({ tableId: 1, priority: 20, match: [IPV4, { field: 'ip_proto', value: 17 }], actions: [output(3)] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([3]);
    expect(t.sw.flowCacheStats()!.misses).toBe(2);
  });

  it('follows a MODIFY of the cached entry instructions', () => {
    const { t, c } = primed();
    c.send(flowMod({ tableId: 1, command: OFPFC.MODIFY, match: [], actions: [output(4)] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([4]);
  });

  it('follows a DELETE (the packet now misses) and a timeout', () => {
    const { t, c } = primed();
    c.send(flowMod({ tableId: 1, command: OFPFC.DELETE, match: [] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toEqual([]);
    expect(t.sw.tableStats(1)).toMatchObject({ lookupCount: 3n, matchedCount: 2n });

    c.send(flowMod({ tableId: 1, priority: 5, hardTimeout: 1, match: [], actions: [output(3)] }));
    t.sw.receiveFrame(1, udpFrame());
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([3, 3]);
    t.clock.advance(1000);
    t.sw.tick();
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toEqual([]);
  });

  it('follows a group-mod and a port going down (fast-failover)', () => {
    const { t, c } = rig(true);
    c.send(groupMod({ command: OFPGC.ADD, groupType: OFPGT.FF, groupId: 7, buckets: [bucket([output(2)], 0, 2), bucket([output(3)], 0, 3)] }));
    c.send(flowMod({ match: [], actions: [group(7)] }));
    t.sw.receiveFrame(1, udpFrame());
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([2, 2]);
    const flushes = t.sw.flowCacheStats()!.flushes;
    t.sw.setPortLinkDown(2, true);
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([3]);
    expect(t.sw.flowCacheStats()!.flushes).toBe(flushes + 1);
    c.send(groupMod({ command: OFPGC.MODIFY, groupType: OFPGT.INDIRECT, groupId: 7, buckets: [bucket([output(4)])] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([4]);
    c.send({ type: OFPT.PORT_MOD, xid: 1, portNo: 4, hwAddr: t.sw.portDescs()[3].hwAddr, config: OFPPC.NO_FWD, mask: OFPPC.NO_FWD, advertise: 0 });
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toEqual([]);
    expect(t.sw.flowCacheStats()!.flushes).toBe(flushes + 3);
  });

  it('does not record a walk whose key an apply-action changed before the next lookup', () => {
    const { t, c } = rig(true);
    c.send(flowMod({ tableId: 0, match: [IPV4], instructions: [applyActions({ type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: '10.9.9.9' } }), goto(1)] }));
    c.send(flowMod({ tableId: 1, priority: 20, match: [IPV4, { field: 'ipv4_dst', value: '10.9.9.9' }], actions: [output(3)] }));
    c.send(flowMod({ tableId: 1, priority: 10, match: [], actions: [output(2)] }));
    for (let i = 0; i < 3; i++) t.sw.receiveFrame(1, udpFrame({ dst: 0x0a000000 + i }));
    expect(t.takeFrames().map((x) => [x.port, x.frame.readUInt32BE(30)])).toEqual([
      [3, 0x0a090909],
      [3, 0x0a090909],
      [3, 0x0a090909],
    ]);
    // Table 0's step is cached; table 1 is looked up with the rewritten key every time.
    expect(t.sw.tableStats(1)).toMatchObject({ lookupCount: 3n, matchedCount: 3n });
  });
});

describe('FlowCache: per-packet work stays per packet', () => {
  it('evaluates meters per packet (a cached walk is still dropped by the band)', () => {
    const { t, c } = rig(true);
    c.send(meterMod({ command: 0, flags: OFPMF.PKTPS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 2, burstSize: 0 }] }));
    c.send(flowMod({ match: [], instructions: [{ type: OFPIT.METER, meterId: 1 }, applyActions(output(2))] }));
    for (let i = 0; i < 10; i++) t.sw.receiveFrame(1, udpFrame());
    const passed = t.takeFrames().length;
    const off = rig(false);
    off.c.send(meterMod({ command: 0, flags: OFPMF.PKTPS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 2, burstSize: 0 }] }));
    off.c.send(flowMod({ match: [], instructions: [{ type: OFPIT.METER, meterId: 1 }, applyActions(output(2))] }));
    for (let i = 0; i < 10; i++) off.t.sw.receiveFrame(1, udpFrame());
    expect(passed).toBe(off.t.takeFrames().length);
    expect(passed).toBeLessThan(10);
  });

  it('looks up the tables after a DSCP-remark meter with the remarked key', () => {
    const outcome = (flowCache: boolean) => {
      const { t, c } = rig(flowCache);
      c.send(meterMod({ command: 0, flags: OFPMF.PKTPS, meterId: 1, bands: [{ type: OFPMBT.DSCP_REMARK, rate: 2, burstSize: 0, precLevel: 1 }] }));
      c.send(flowMod({ tableId: 0, match: [], instructions: [{ type: OFPIT.METER, meterId: 1 }, goto(1)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4, { field: 'ip_dscp', value: 0 }], actions: [output(2)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4, { field: 'ip_dscp', value: 2 }], actions: [output(3)] }));
      for (let i = 0; i < 10; i++) t.sw.receiveFrame(1, udpFrame());
      return t.takeFrames().map((x) => x.port);
    };
    const on = outcome(true);
    expect(on).toEqual(outcome(false));
    expect(on).toContain(2);
    expect(on).toContain(3);
  });

  it('checks the TTL of every packet (TTL is not in the key)', () => {
    const { t, c } = rig(true);
    c.send({ type: OFPT.SET_CONFIG, xid: 1, flags: OFPC_INVALID_TTL_TO_CONTROLLER, missSendLen: 128 });
    c.send(flowMod({ match: [], actions: [{ type: OFPAT.DEC_NW_TTL }, output(2)] }));
    t.sw.receiveFrame(1, udpFrame({ ttl: 5 }));
    t.sw.receiveFrame(1, udpFrame({ ttl: 1 }));
    t.sw.receiveFrame(1, udpFrame({ ttl: 5 }));
    expect(t.takeFrames().map((x) => x.frame[22])).toEqual([4, 4]);
    expect(c.take().filter((m) => m.type === OFPT.PACKET_IN)).toHaveLength(1);
    expect(t.sw.flowCacheStats()).toMatchObject({ hits: 2, misses: 1 });
  });

  it('survives a transmit listener that sends frames back into the instance', () => {
    const { t, c } = rig(true);
    c.send(flowMod({ priority: 10, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }));
    c.send(flowMod({ priority: 10, match: [{ field: 'in_port', value: 3 }], actions: [output(4)] }));
    let depth = 0;
    t.sw.onTransmit((port, frame) => {
      if (port === 2 && depth++ < 1) t.sw.receiveFrame(3, frame);
    });
    t.sw.receiveFrame(1, udpFrame());
    depth = 0;
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((x) => x.port)).toEqual([2, 4, 2, 4]);
  });
});

describe('FlowCache: plain-forwarding megaflows (a plan instead of the steps)', () => {
  /** The same flow-mods and frames with the cache on and off: outputs, packet-ins and counters. */
  function both(setup: (c: TestController) => void, frames: Array<[number, Buffer]>, between?: (t: TestSwitch, c: TestController, i: number) => void) {
    const run = (flowCache: boolean) => {
      const { t, c } = rig(flowCache);
      setup(c);
      c.take();
      frames.forEach(([port, f], i) => {
        between?.(t, c, i);
        t.sw.receiveFrame(port, f);
      });
      return {
        frames: t.takeFrames().map((x) => [x.port, x.frame.toString('hex')]),
        packetIns: c.take().filter((m) => m.type === OFPT.PACKET_IN).length,
        tables: t.sw.allTableStats().map((x) => [x.lookupCount, x.matchedCount]),
        entries: t.sw.tables.flatMap((tb) => tb.entries().map((e) => [tb.tableId, e.priority, e.packetCount, e.byteCount])),
        stats: t.sw.flowCacheStats(),
      };
    };
    const off = run(false);
    const on = run(true);
    expect(on.frames).toEqual(off.frames);
    expect(on.packetIns).toEqual(off.packetIns);
    expect(on.tables).toEqual(off.tables);
    expect(on.entries).toEqual(off.entries);
    return { on, off };
  }
  const many = (n: number, port = 1, f = udpFrame()): Array<[number, Buffer]> => Array.from({ length: n }, () => [port, f]);

  it('forwards a goto / write-actions / apply-output walk by its plan, with the outputs in the order of the steps', () => {
    const { on } = both((c) => {
      c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [writeActions(output(3)), goto(1)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4], instructions: [{ type: OFPIT.WRITE_METADATA, metadata: 5n, metadataMask: 0xffn }, goto(2)] }));
      c.send(flowMod({ tableId: 2, priority: 10, match: [], instructions: [applyActions(output(2), { type: OFPAT.SET_QUEUE, queueId: 0 }, output(4))] }));
    }, many(5));
    expect(on.frames.map(([p]) => p)).toEqual([2, 4, 3, 2, 4, 3, 2, 4, 3, 2, 4, 3, 2, 4, 3]);
    expect(on.stats).toMatchObject({ hits: 4, misses: 1, forwarded: 4 });
  });

  it('keeps the action set semantics: clear-actions, a later write replacing the output, a table miss dropping it all', () => {
    const { on } = both((c) => {
      c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [writeActions(output(2)), goto(1)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [{ type: OFPIT.CLEAR_ACTIONS, actions: [] }, goto(2)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [{ field: 'in_port', value: 2 }], instructions: [writeActions(output(4)), goto(2)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [{ field: 'in_port', value: 3 }], instructions: [goto(3)] }));
      c.send(flowMod({ tableId: 2, priority: 10, match: [], instructions: [] }));
    }, [...many(2, 1), ...many(2, 2), ...many(2, 3)]);
    expect(on.frames.map(([p]) => p)).toEqual([4, 4]);
    expect(on.stats).toMatchObject({ misses: 3, forwarded: 3 });
  });

  it('sends to IN_PORT, FLOOD, ALL and LOCAL as the steps do, and never back out of the in_port by number', () => {
    const { on } = both((c) => {
      c.send(flowMod({ priority: 10, match: [{ field: 'in_port', value: 1 }], actions: [output(OFPP.IN_PORT), output(OFPP.FLOOD), output(1)] }));
      c.send(flowMod({ priority: 10, match: [{ field: 'in_port', value: 2 }], actions: [output(OFPP.ALL), output(OFPP.LOCAL)] }));
    }, [...many(3, 1), ...many(3, 2)]);
    expect(on.frames.map(([p]) => p)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 3, 4, OFPP.LOCAL, 1, 3, 4, OFPP.LOCAL, 1, 3, 4, OFPP.LOCAL]);
    expect(on.stats!.forwarded).toBe(4);
  });

  it('takes the steps instead for anything else: controller output, groups, meters, header actions, outputs before a later lookup', () => {
    const cases: Instruction[][] = [
      [applyActions(output(OFPP.CONTROLLER))],
      [writeActions(group(7))],
      [{ type: OFPIT.METER, meterId: 1 }, applyActions(output(2))],
      [applyActions({ type: OFPAT.DEC_NW_TTL }, output(2))],
      [writeActions({ type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: '10.1.1.1' } }, output(2))],
      [applyActions(output(3)), goto(1)],
    ];
    for (const instructions of cases) {
      const { on } = both((c) => {
        c.send(meterMod({ command: 0, flags: OFPMF.PKTPS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }] }));
        c.send(groupMod({ command: OFPGC.ADD, groupType: OFPGT.INDIRECT, groupId: 7, buckets: [bucket([output(4)])] }));
        c.send(flowMod({ tableId: 0, priority: 10, match: [IPV4], instructions }));
        c.send(flowMod({ tableId: 1, priority: 10, match: [], actions: [output(2)] }));
      }, many(3));
      expect(on.stats).toMatchObject({ hits: 2, forwarded: 0 });
    }
  });

  it('never outlives a change: ADD, MODIFY, DELETE, timeouts, port and group changes between packets', () => {
    const changes: Array<(t: TestSwitch, c: TestController) => void> = [
      (_, c) => c.send(flowMod({ tableId: 1, priority: 20, match: [IPV4, { field: 'ip_proto', value: 17 }], actions: [output(3)] })),
      (_, c) => c.send(flowMod({ tableId: 1, command: OFPFC.MODIFY, match: [], actions: [output(4)] })),
      (_, c) => c.send(flowMod({ tableId: 1, command: OFPFC.MODIFY_STRICT, priority: 20, match: [IPV4, { field: 'ip_proto', value: 17 }], actions: [output(OFPP.FLOOD)] })),
      (t) => t.sw.setPortLinkDown(3, true),
      (t, c) => c.send({ type: OFPT.PORT_MOD, xid: 1, portNo: 2, hwAddr: t.sw.portDescs()[1].hwAddr, config: OFPPC.NO_FWD, mask: OFPPC.NO_FWD, advertise: 0 }),
      (_, c) => c.send(flowMod({ tableId: 1, command: OFPFC.DELETE_STRICT, priority: 20, match: [IPV4, { field: 'ip_proto', value: 17 }] })),
      (_, c) => c.send(flowMod({ tableId: 0, priority: 30, hardTimeout: 1, match: [IPV4], instructions: [writeActions(output(2)), goto(2)] })),
      (t) => {
        t.clock.advance(1000);
        t.sw.tick();
      },
      (_, c) => c.send(groupMod({ command: OFPGC.ADD, groupType: OFPGT.INDIRECT, groupId: 9, buckets: [bucket([output(4)])] })),
      (_, c) => c.send(flowMod({ tableId: 1, command: OFPFC.DELETE, match: [] })),
    ];
    const { on, off } = both(
      (c) => {
        c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [goto(1)] }));
        c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4], actions: [output(2)] }));
      },
      many(3 * changes.length),
      (t, c, i) => {
        if (i % 3 === 0 && i > 0) changes[i / 3 - 1](t, c);
      },
    );
    expect(new Set(off.frames.map(([p]) => p)).size).toBeGreaterThan(2);
    expect(on.stats!.forwarded).toBeGreaterThan(changes.length);
    expect(on.stats!.flushes).toBeGreaterThanOrEqual(changes.length);
  });

  it('counts exactly for a transmit listener reading stats or changing flows in the middle of a planned packet', () => {
    const seen = (flowCache: boolean) => {
      const { t, c } = rig(flowCache);
      c.send(flowMod({ tableId: 0, priority: 10, match: [], instructions: [writeActions(output(3)), goto(1)] }));
      c.send(flowMod({ tableId: 1, priority: 10, match: [IPV4], actions: [output(2)] }));
      const log: unknown[] = [];
      let n = 0;
      t.sw.onTransmit((port) => {
        n++;
        log.push(port, t.sw.allTableStats().map((x) => [x.lookupCount, x.matchedCount]), t.sw.tables[1].entries().map((e) => e.packetCount));
        if (n === 5) c.send(flowMod({ tableId: 1, command: OFPFC.MODIFY, match: [], actions: [output(4)] }));
      });
      for (let i = 0; i < 6; i++) t.sw.receiveFrame(1, udpFrame());
      return { log, stats: t.sw.flowCacheStats() };
    };
    const on = seen(true);
    expect(on.log).toEqual(seen(false).log);
    expect(on.stats!.forwarded).toBeGreaterThan(2);
  });
});

// ---------------------------------------------------------------------------
// Differential: the same flow-mods, group-mods, port changes and traffic on
// an instance with the cache and one without; every output, packet-in and
// counter must be the same.

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

type Op = { kind: 'flow'; fm: ReturnType<typeof flowMod> } | { kind: 'group'; gm: ReturnType<typeof groupMod> } | { kind: 'link'; port: number; down: boolean } | { kind: 'frame'; port: number; frame: Buffer } | { kind: 'tick'; ms: number };

function scenario(seed: number): Op[] {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const ops: Op[] = [];
  const prefix = (len: number) => ['0.0.0.0', '255.0.0.0', '255.255.0.0', '255.255.255.0', '255.255.255.255'][len / 8];
  const ip4 = () => `10.${Math.floor(rnd() * 2)}.${Math.floor(rnd() * 3)}.${Math.floor(rnd() * 4)}`;
  const outs: Action[][] = [[output(2)], [output(3)], [group(1)], [group(2)], [{ type: OFPAT.DEC_NW_TTL }, output(4)], [output(OFPP.CONTROLLER)], []];
  const randomFlow = (): ReturnType<typeof flowMod> => {
    const tableId = Math.floor(rnd() * 3);
    const match: Match = [];
    if (rnd() < 0.3) match.push({ field: 'in_port', value: 1 + Math.floor(rnd() * 3) });
    if (rnd() < 0.8) {
      match.push(IPV4);
      if (rnd() < 0.6) match.push({ field: 'ipv4_dst', value: ip4(), mask: prefix(pick([8, 16, 24, 32])) });
      if (rnd() < 0.4) match.push({ field: 'ipv4_src', value: ip4(), mask: prefix(pick([16, 24, 32])) });
      if (rnd() < 0.3) {
        match.push({ field: 'ip_proto', value: 17 });
        match.push({ field: 'udp_dst', value: 2000 + Math.floor(rnd() * 3) });
      }
    }
    if (tableId > 0 && rnd() < 0.2) match.push({ field: 'metadata', value: BigInt(Math.floor(rnd() * 4)), mask: 3n });
    const instructions: Instruction[] = [];
    const r = rnd();
    if (r < 0.1) instructions.push({ type: OFPIT.METER, meterId: 1 });
    if (rnd() < 0.5) instructions.push(applyActions(...pick(outs)));
    else if (rnd() < 0.3) instructions.push(applyActions({ type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: ip4() } }));
    if (rnd() < 0.3) instructions.push(writeActions(...pick(outs)));
    if (tableId < 2 && rnd() < 0.3) instructions.push({ type: OFPIT.WRITE_METADATA, metadata: BigInt(Math.floor(rnd() * 4)), metadataMask: 3n });
    if (tableId < 2 && rnd() < 0.7) instructions.push(goto(tableId + 1 + Math.floor(rnd() * (2 - tableId))));
    // Some with timeouts and FLOW_REMOVED: the counts they report and when they expire must not depend on the cache.
    const timed = rnd() < 0.25;
    return flowMod({
      tableId,
      priority: Math.floor(rnd() * 5) * 10,
      match,
      instructions,
      cookie: BigInt(ops.length),
      ...(timed ? { idleTimeout: 1 + Math.floor(rnd() * 2), hardTimeout: rnd() < 0.3 ? 3 : 0, flags: OFPFF.SEND_FLOW_REM } : {}),
    });
  };
  // Plain forwarding for some of the traffic, so that megaflows with a plan (no steps run) are in the mix.
  ops.push({
    kind: 'flow',
    fm: flowMod({ priority: 45, match: [{ field: 'in_port', value: 3 }, IPV4, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 2002 }], instructions: [applyActions(output(2)), writeActions(output(4))], cookie: 999n }),
  });
  for (let i = 0; i < 60; i++) ops.push({ kind: 'flow', fm: randomFlow() });
  const frames = Array.from({ length: 40 }, () =>
    udpFrame({ src: 0x0a000000 | Math.floor(rnd() * 0x20000), dst: 0x0a000000 | (Math.floor(rnd() * 2) << 16) | (Math.floor(rnd() * 3) << 8) | Math.floor(rnd() * 4), dport: 2000 + Math.floor(rnd() * 3), ttl: rnd() < 0.1 ? 1 : 64, size: 64 + Math.floor(rnd() * 3) * 10 }),
  );
  for (let i = 0; i < 1500; i++) {
    const r = rnd();
    if (r < 0.02) ops.push({ kind: 'flow', fm: randomFlow() });
    else if (r < 0.03) ops.push({ kind: 'flow', fm: flowMod({ tableId: Math.floor(rnd() * 3), command: OFPFC.DELETE, match: [IPV4, { field: 'ipv4_dst', value: ip4(), mask: prefix(24) }] }) });
    else if (r < 0.035) ops.push({ kind: 'group', gm: groupMod({ command: OFPGC.MODIFY, groupType: OFPGT.SELECT, groupId: 2, buckets: [bucket([output(pick([2, 3, 4]))], 1 + Math.floor(rnd() * 3)), bucket([output(pick([2, 3]))], 1)] }) });
    else if (r < 0.04) ops.push({ kind: 'link', port: pick([2, 3]), down: rnd() < 0.5 });
    else if (r < 0.05) ops.push({ kind: 'tick', ms: Math.floor(rnd() * 300) });
    else ops.push({ kind: 'frame', port: 1 + Math.floor(rnd() * 3), frame: pick(frames) });
  }
  return ops;
}

interface Observed {
  frames: Array<[number, string]>;
  packetIns: Array<[number, number, bigint, string]>;
  flowRemoved: Array<[number, bigint, number, number, bigint, bigint]>;
  /** What a reentrant transmit listener read mid-walk (see play's `reentrant`). */
  midWalk: unknown[];
  flows: FlowStats[];
  tables: Array<[bigint, bigint]>;
  groups: unknown;
  meters: unknown;
  hits: number;
  forwarded: number;
  errors: number;
}

/**
 * `reentrant`: a transmit listener that, for some outputs, reads table and
 * flow stats, and sends a flow-mod (an ADD or a DELETE in a later table),
 * while the packet's walk is under way.
 */
function play(ops: Op[], flowCache: boolean, reentrant = false): Observed {
  const t = new TestSwitch({ nTables: 3, flowCache });
  const c = t.controller();
  const midWalk: unknown[] = [];
  if (reentrant) {
    let n = 0;
    const all = { mpType: OFPMP.FLOW, tableId: OFPTT.ALL, cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: 0xffffffff, match: [] } as FlowStatsRequest;
    t.sw.onTransmit((port) => {
      n++;
      if (n % 7 === 0) midWalk.push(t.sw.allTableStats().map((x) => [x.lookupCount, x.matchedCount]), t.sw.flowStats(all).map((f) => [f.cookie, f.packetCount, f.byteCount]));
      if (n % 23 === 0) {
        const fm =
          port === 2
            ? flowMod({ tableId: 2, command: OFPFC.DELETE, match: [IPV4, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.0.0' }] })
            : flowMod({ tableId: 1 + (n % 2), priority: 40, match: [IPV4, { field: 'ipv4_dst', value: `10.${n % 2}.${n % 3}.0`, mask: '255.255.255.0' }], actions: [output(3)], cookie: 1000n + BigInt(n) });
        midWalk.push(c.send(fm).length);
      }
    });
  }
  c.send({ type: OFPT.SET_CONFIG, xid: 1, flags: OFPC_INVALID_TTL_TO_CONTROLLER, missSendLen: 0xffff });
  c.send(meterMod({ command: 0, flags: OFPMF.PKTPS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 5, burstSize: 0 }] }));
  c.send(groupMod({ command: OFPGC.ADD, groupType: OFPGT.ALL, groupId: 1, buckets: [bucket([output(2)]), bucket([{ type: OFPAT.DEC_NW_TTL }, output(3)])] }));
  c.send(groupMod({ command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 2, buckets: [bucket([output(2)], 1), bucket([output(3)], 2)] }));
  c.take();
  const inbox: OfpMessage[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'flow':
        inbox.push(...c.send(op.fm));
        break;
      case 'group':
        inbox.push(...c.send(op.gm));
        break;
      case 'link':
        t.sw.setPortLinkDown(op.port, op.down);
        break;
      case 'tick':
        t.clock.advance(op.ms);
        t.sw.tick();
        break;
      case 'frame':
        t.sw.receiveFrame(op.port, op.frame);
        inbox.push(...c.take());
        break;
    }
  }
  return {
    frames: t.takeFrames().map((f) => [f.port, f.frame.toString('hex')]),
    packetIns: inbox.filter((m): m is PacketIn => m.type === OFPT.PACKET_IN).map((m) => [m.reason, m.tableId, m.cookie, m.data.toString('hex')]),
    flowRemoved: inbox
      .filter((m): m is FlowRemoved => m.type === OFPT.FLOW_REMOVED)
      .map((m) => [m.reason, m.cookie, m.durationSec, m.durationNsec, m.packetCount, m.byteCount]),
    midWalk,
    flows: t.sw.flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: 0xffffffff, match: [] } as FlowStatsRequest),
    tables: t.sw.allTableStats().map((s) => [s.lookupCount, s.matchedCount]),
    groups: t.sw.groups.stats(0xfffffffc, () => 0),
    meters: t.sw.meters.stats(0xffffffff, () => 0),
    hits: t.sw.flowCacheStats()?.hits ?? 0,
    forwarded: t.sw.flowCacheStats()?.forwarded ?? 0,
    errors: inbox.filter((m) => m.type === OFPT.ERROR).length,
  };
}

describe('FlowCache: differential (cache on vs off, same traffic)', () => {
  for (const seed of [2, 3, 4, 5, 6, 7]) {
    it(`seed ${seed}: identical outputs, packet-ins and counters`, () => {
      const ops = scenario(seed);
      const off = play(ops, false);
      const on = play(ops, true);
      expect(off.frames.length + off.packetIns.length).toBeGreaterThan(100);
      expect(on.hits).toBeGreaterThan(100);
      expect(on.forwarded).toBeGreaterThan(0);
      expect(on.frames).toEqual(off.frames);
      expect(on.packetIns).toEqual(off.packetIns);
      expect(on.flowRemoved).toEqual(off.flowRemoved);
      expect(off.flowRemoved.length).toBeGreaterThan(0);
      expect(on.flows).toEqual(off.flows);
      expect(on.tables).toEqual(off.tables);
      expect(on.groups).toEqual(off.groups);
      expect(on.meters).toEqual(off.meters);
    });
  }

  for (const seed of [2, 5, 8]) {
    it(`seed ${seed}: identical with a transmit listener reading stats and sending flow-mods mid-walk`, () => {
      const ops = scenario(seed);
      const off = play(ops, false, true);
      const on = play(ops, true, true);
      expect(on.hits).toBeGreaterThan(100);
      expect(on.forwarded).toBeGreaterThan(0);
      expect(off.midWalk.length).toBeGreaterThan(20);
      expect(on.midWalk).toEqual(off.midWalk);
      expect(on.frames).toEqual(off.frames);
      expect(on.packetIns).toEqual(off.packetIns);
      expect(on.flowRemoved).toEqual(off.flowRemoved);
      expect(on.flows).toEqual(off.flows);
      expect(on.tables).toEqual(off.tables);
      expect(on.groups).toEqual(off.groups);
      expect(on.meters).toEqual(off.meters);
    });
  }

  it('the cache is actually used by the differential traffic', () => {
    const t = new TestSwitch({ nTables: 3, flowCache: true });
    const c = t.controller();
    for (const op of scenario(2)) if (op.kind === 'flow' && op.fm.command === OFPFC.ADD && !op.fm.instructions.some((i) => i.type === OFPIT.METER)) c.send(op.fm);
    for (let i = 0; i < 200; i++) t.sw.receiveFrame(1, udpFrame({ dst: 0x0a000000 | (i % 5) }));
    expect(t.sw.flowCacheStats()!.hits).toBeGreaterThan(150);
  });
});
