import {
  FlowRemoved,
  GroupStatsReply,
  GroupDescReply,
  MultipartReply,
  OFPAT,
  OFPET,
  OFPFF,
  OFPG,
  OFPGC,
  OFPGMFC,
  OFPGT,
  OFPMP,
  OFPP,
  OFPRR,
  OFPT,
} from '@nicvisor/openflow';
import { bucket, errorsOf, flowMod, group, groupMod, inPort, output, TestSwitch, udpFrame } from './spec-helpers.js';
import { hashKey } from './groups.js';

function setup() {
  const t = new TestSwitch();
  const c = t.controller();
  return { t, c };
}

describe('groups: types', () => {
  it('ALL: a copy of the packet through every bucket', () => {
    const { t, c } = setup();
    expect(c.send(groupMod({ groupId: 1, groupType: OFPGT.ALL, buckets: [bucket([output(2)]), bucket([{ type: OFPAT.SET_FIELD, field: { field: 'eth_dst', value: '02:aa:aa:aa:aa:aa' } }, output(3)])] }))).toEqual([]);
    c.send(flowMod({ match: inPort(1), actions: [group(1)] }));
    const frame = udpFrame();
    t.sw.receiveFrame(1, frame);
    const out = t.takeFrames();
    expect(out.map((f) => f.port)).toEqual([2, 3]);
    expect(out[0].frame).toEqual(frame); // the second bucket's change is its own
    expect(out[1].frame.subarray(0, 6).toString('hex')).toBe('02aaaaaaaaaa');
  });

  it('INDIRECT: its one bucket; from the action set too', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 5, groupType: OFPGT.INDIRECT, buckets: [bucket([output(4)])] }));
    c.send(flowMod({ match: inPort(1), instructions: [{ type: 3 /* write */, actions: [group(5), output(2)] }] }));
    t.sw.receiveFrame(1, udpFrame());
    // The action set's output is ignored when it has a group.
    expect(t.takeFrames().map((f) => f.port)).toEqual([4]);
  });

  it('SELECT: one bucket per flow, the same for every packet of it, spread by weight across flows', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 2, groupType: OFPGT.SELECT, buckets: [bucket([output(2)], 1), bucket([output(3)], 3)] }));
    c.send(flowMod({ match: inPort(1), actions: [group(2)] }));
    const perPort = new Map<number, number>();
    for (let flow = 0; flow < 4000; flow++) {
      const frame = udpFrame({ src: 0x0a000000 + flow, sport: 1000 + (flow % 7) });
      t.sw.receiveFrame(1, frame);
      t.sw.receiveFrame(1, frame);
      const out = t.takeFrames();
      expect(out).toHaveLength(2);
      expect(out[0].port).toBe(out[1].port);
      perPort.set(out[0].port, (perPort.get(out[0].port) ?? 0) + 1);
    }
    const share = perPort.get(3)! / 4000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it('SELECT skips buckets whose watched port is down', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 2, groupType: OFPGT.SELECT, buckets: [bucket([output(2)], 1, 2), bucket([output(3)], 1, 3)] }));
    c.send(flowMod({ match: inPort(1), actions: [group(2)] }));
    t.sw.setPortLinkDown(3, true);
    for (let flow = 0; flow < 50; flow++) t.sw.receiveFrame(1, udpFrame({ src: flow }));
    expect(new Set(t.takeFrames().map((f) => f.port))).toEqual(new Set([2]));
  });

  it('FAST_FAILOVER: the first live bucket, by watched port and by watched group', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 10, groupType: OFPGT.FF, buckets: [bucket([output(4)], 0, 4)] }));
    c.send(
      groupMod({
        groupId: 1,
        groupType: OFPGT.FF,
        buckets: [bucket([output(2)], 0, 2), bucket([output(3)], 0, 3), bucket([group(10)], 0, OFPP.ANY, 10)],
      }),
    );
    c.send(flowMod({ match: inPort(1), actions: [group(1)] }));
    const send = () => {
      t.sw.receiveFrame(1, udpFrame());
      return t.takeFrames().map((f) => f.port);
    };
    expect(send()).toEqual([2]);
    t.sw.setPortLinkDown(2, true);
    expect(send()).toEqual([3]);
    const desc = t.sw.portDescs().find((p) => p.portNo === 3)!;
    c.send({ type: OFPT.PORT_MOD, xid: 1, portNo: 3, hwAddr: desc.hwAddr, config: 1, mask: 1, advertise: 0 }); // PORT_DOWN
    expect(send()).toEqual([4]);
    t.sw.setPortLinkDown(4, true);
    expect(send()).toEqual([]);
    t.sw.setPortLinkDown(2, false);
    expect(send()).toEqual([2]);
  });

  it('hashKey is a pure function of the key', () => {
    const a = new Uint32Array([1, 2, 3]);
    expect(hashKey(a)).toBe(hashKey(new Uint32Array([1, 2, 3])));
    expect(hashKey(a)).not.toBe(hashKey(new Uint32Array([1, 2, 4])));
  });
});

describe('groups: group-mod errors', () => {
  const cases: Array<[string, Array<Parameters<typeof groupMod>[0]>, number]> = [
    ['ADD of an existing group', [{ groupId: 1 }, { groupId: 1 }], OFPGMFC.GROUP_EXISTS],
    ['MODIFY of a missing group', [{ command: OFPGC.MODIFY, groupId: 3 }], OFPGMFC.UNKNOWN_GROUP],
    ['a reserved group id', [{ groupId: OFPG.ALL }], OFPGMFC.INVALID_GROUP],
    ['an unknown group type', [{ groupType: 7 }], OFPGMFC.BAD_TYPE],
    ['an unknown command', [{ command: 5 }], OFPGMFC.BAD_COMMAND],
    ['an indirect group with two buckets', [{ groupType: OFPGT.INDIRECT, buckets: [bucket([output(2)]), bucket([output(3)])] }], OFPGMFC.INVALID_GROUP],
    ['a fast-failover bucket watching nothing', [{ groupType: OFPGT.FF, buckets: [bucket([output(2)])] }], OFPGMFC.BAD_WATCH],
    ['a group forwarding to itself', [{ groupId: 4, buckets: [bucket([group(4)])] }], OFPGMFC.LOOP],
    [
      'a loop through a chain',
      [{ groupId: 1, buckets: [bucket([output(2)])] }, { groupId: 2, buckets: [bucket([group(1)])] }, { command: OFPGC.MODIFY, groupId: 1, buckets: [bucket([group(2)])] }],
      OFPGMFC.LOOP,
    ],
    ['deleting a group another forwards to', [{ groupId: 1, buckets: [bucket([output(2)])] }, { groupId: 2, buckets: [bucket([group(1)])] }, { command: OFPGC.DELETE, groupId: 1 }], OFPGMFC.CHAINED_GROUP],
    ['weights in an ALL group', [{ groupType: OFPGT.ALL, buckets: [bucket([output(2)], 3)] }], OFPGMFC.WEIGHT_UNSUPPORTED],
  ];
  it.each(cases)('%s', (_name, mods, code) => {
    const { c } = setup();
    const replies = mods.map((m, i) => c.send(groupMod({ xid: i + 1, ...m })));
    expect(replies.slice(0, -1).flat()).toEqual([]);
    expect(errorsOf(replies[replies.length - 1])).toEqual([[OFPET.GROUP_MOD_FAILED, code, mods.length]]);
  });

  it('checks bucket actions: an unknown group in a bucket is OFPBAC_BAD_OUT_GROUP', () => {
    const { c } = setup();
    expect(errorsOf(c.send(groupMod({ xid: 3, buckets: [bucket([group(77)])] })))).toEqual([[OFPET.BAD_ACTION, 9 /* BAD_OUT_GROUP */, 3]]);
  });
});

describe('groups: delete, counters, stats', () => {
  it('deleting a group removes the flows that forward to it (FLOW_REMOVED reason GROUP_DELETE)', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 1, buckets: [bucket([output(2)])] }));
    c.send(groupMod({ groupId: 2, buckets: [bucket([output(3)])] }));
    c.send(flowMod({ match: inPort(1), flags: OFPFF.SEND_FLOW_REM, cookie: 11n, actions: [group(1)] }));
    c.send(flowMod({ match: inPort(2), flags: OFPFF.SEND_FLOW_REM, cookie: 12n, actions: [group(2)] }));
    c.send(flowMod({ tableId: 1, match: inPort(3), flags: OFPFF.SEND_FLOW_REM, cookie: 13n, instructions: [{ type: 3, actions: [group(1)] }] }));
    const msgs = c.send(groupMod({ command: OFPGC.DELETE, groupId: 1 })) as FlowRemoved[];
    expect(msgs.map((m) => [m.type, m.reason, m.cookie])).toEqual([
      [OFPT.FLOW_REMOVED, OFPRR.GROUP_DELETE, 11n],
      [OFPT.FLOW_REMOVED, OFPRR.GROUP_DELETE, 13n],
    ]);
    expect(t.sw.tableStats(0).activeCount).toBe(1);
    // Deleting a missing group is not an error; OFPG_ALL deletes every group.
    expect(c.send(groupMod({ command: OFPGC.DELETE, groupId: 1 }))).toEqual([]);
    const all = c.send(groupMod({ command: OFPGC.DELETE, groupId: OFPG.ALL })) as FlowRemoved[];
    expect(all.map((m) => m.cookie)).toEqual([12n]);
    const [desc] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 4, flags: 0, body: { mpType: OFPMP.GROUP_DESC } }) as MultipartReply[];
    expect((desc.body as GroupDescReply).entries).toEqual([]);
  });

  it('counts packets per group and bucket; describes groups', () => {
    const { t, c } = setup();
    const buckets = [bucket([output(2)]), bucket([output(3)])];
    c.send(groupMod({ groupId: 3, buckets }));
    c.send(flowMod({ match: inPort(1), actions: [group(3)] }));
    t.sw.receiveFrame(1, udpFrame({ size: 100 }));
    t.sw.receiveFrame(1, udpFrame({ size: 100 }));
    const [stats] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 4, flags: 0, body: { mpType: OFPMP.GROUP, groupId: OFPG.ALL } }) as MultipartReply[];
    const [g] = (stats.body as GroupStatsReply).entries;
    expect(g).toMatchObject({ groupId: 3, refCount: 1, packetCount: 2n, byteCount: 200n });
    expect(g.bucketStats).toEqual([
      { packetCount: 2n, byteCount: 200n },
      { packetCount: 2n, byteCount: 200n },
    ]);
    const [desc] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 5, flags: 0, body: { mpType: OFPMP.GROUP_DESC } }) as MultipartReply[];
    expect((desc.body as GroupDescReply).entries).toEqual([{ groupType: OFPGT.ALL, groupId: 3, buckets }]);
    const [features] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 6, flags: 0, body: { mpType: OFPMP.GROUP_FEATURES } }) as MultipartReply[];
    expect(features.body).toMatchObject({ mpType: OFPMP.GROUP_FEATURES, types: 0xf });
  });

  it('MODIFY replaces the buckets and keeps the group', () => {
    const { t, c } = setup();
    c.send(groupMod({ groupId: 3, buckets: [bucket([output(2)])] }));
    c.send(flowMod({ match: inPort(1), actions: [group(3)] }));
    expect(c.send(groupMod({ command: OFPGC.MODIFY, groupId: 3, groupType: OFPGT.INDIRECT, buckets: [bucket([output(4)])] }))).toEqual([]);
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames().map((f) => f.port)).toEqual([4]);
  });
});
