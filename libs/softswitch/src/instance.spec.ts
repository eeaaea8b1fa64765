import {
  encodeMessage,
  FlowRemoved,
  OFP_NO_BUFFER,
  OFPAT,
  OFPBAC,
  OFPBIC,
  OFPBMC,
  OFPBRC,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPET,
  OFPFC,
  OFPFF,
  OFPFMFC,
  OFPHFC,
  OFPIT,
  OFPMMFC,
  OFPP,
  OFPPC,
  OFPPR,
  OFPR,
  OFPRR,
  OFPT,
  PacketIn,
  PortStatus,
  SwitchFeatures,
} from '@nicvisor/openflow';
import { applyActions, errorsOf, flowMod, inPort, output, TestSwitch, udpFrame, writeActions } from './spec-helpers.js';

describe('SwitchInstance: handshake', () => {
  it('sends HELLO first, then answers FEATURES_REQUEST', () => {
    const t = new TestSwitch();
    const c = t.controller(false);
    const first = c.take();
    expect(first.map((m) => m.type)).toEqual([OFPT.HELLO]);
    c.sendRaw(encodeMessage({ type: OFPT.HELLO, xid: 1, version: 4, elements: [] }));
    const [f] = c.send({ type: OFPT.FEATURES_REQUEST, xid: 7 }) as SwitchFeatures[];
    expect(f).toMatchObject({ type: OFPT.FEATURES_REPLY, xid: 7, datapathId: 0x1234n, nBuffers: 0, nTables: 64, auxiliaryId: 0 });
    expect(f.capabilities & 0xf).toBe(0xf);
  });

  it('answers a HELLO without 1.3 with HELLO_FAILED/INCOMPATIBLE and closes', () => {
    const t = new TestSwitch();
    let closed = false;
    const inbox: Buffer[] = [];
    const s = t.sw.openSession(
      (raw) => inbox.push(raw),
      () => (closed = true),
    );
    s.receive(encodeMessage({ type: OFPT.HELLO, xid: 9, version: 4, elements: [{ type: 1, bitmaps: [1 << 1] }] }));
    expect(inbox).toHaveLength(2);
    expect(inbox[1][1]).toBe(OFPT.ERROR);
    expect(inbox[1].readUInt32BE(4)).toBe(9);
    expect(inbox[1].readUInt16BE(8)).toBe(OFPET.HELLO_FAILED);
    expect(inbox[1].readUInt16BE(10)).toBe(OFPHFC.INCOMPATIBLE);
    expect(closed).toBe(true);
    s.receive(encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 1, data: Buffer.alloc(0) }));
    expect(inbox).toHaveLength(2);
  });
});

describe('SwitchInstance: pipeline', () => {
  it('forwards a frame by a flow entry and counts it', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(c.send(flowMod({ match: inPort(1), actions: [output(2)] }))).toEqual([]);
    const frame = udpFrame();
    t.sw.receiveFrame(1, frame);
    expect(t.takeFrames()).toEqual([{ port: 2, frame }]);
    expect(t.sw.tableStats(0)).toEqual({ lookupCount: 1n, matchedCount: 1n, activeCount: 1 });
    t.sw.receiveFrame(3, frame); // no entry: dropped
    expect(t.takeFrames()).toEqual([]);
    expect(t.sw.tableStats(0)).toEqual({ lookupCount: 2n, matchedCount: 1n, activeCount: 1 });
  });

  it('drops output to the input port unless it is OFPP_IN_PORT; floods to all other ports', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), actions: [output(1)] }));
    c.send(flowMod({ match: inPort(2), actions: [output(OFPP.IN_PORT)] }));
    c.send(flowMod({ match: inPort(3), actions: [output(OFPP.FLOOD)] }));
    c.send(flowMod({ match: inPort(4), actions: [output(OFPP.ALL)] }));
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toEqual([]);
    t.sw.receiveFrame(2, udpFrame());
    expect(t.takeFrames().map((f) => f.port)).toEqual([2]);
    t.sw.receiveFrame(3, udpFrame());
    expect(t.takeFrames().map((f) => f.port)).toEqual([1, 2, 4]);
    // A port with OFPPC_NO_FWD is skipped.
    const desc = t.sw.portDescs().find((p) => p.portNo === 2)!;
    c.send({ type: OFPT.PORT_MOD, xid: 1, portNo: 2, hwAddr: desc.hwAddr, config: OFPPC.NO_FWD, mask: OFPPC.NO_FWD, advertise: 0 });
    t.sw.receiveFrame(4, udpFrame());
    expect(t.takeFrames().map((f) => f.port)).toEqual([1, 3]);
  });

  it('sends a table miss to the controller only through a table-miss entry (reason NO_MATCH), with the whole frame', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const frame = udpFrame({ size: 300 });
    t.sw.receiveFrame(1, frame);
    expect(c.take()).toEqual([]);
    c.send(flowMod({ priority: 0, cookie: 0xabn, actions: [output(OFPP.CONTROLLER, 128)] }));
    t.sw.receiveFrame(1, frame);
    const [pin] = c.take() as PacketIn[];
    expect(pin).toMatchObject({ type: OFPT.PACKET_IN, bufferId: OFP_NO_BUFFER, totalLen: 300, reason: OFPR.NO_MATCH, tableId: 0, cookie: 0xabn });
    expect(pin.data).toEqual(frame);
    expect(pin.match).toEqual([{ field: 'in_port', value: 1 }]);
    // The same action in an ordinary entry is OFPR_ACTION, and the match has the metadata written.
    c.send(
      flowMod({
        match: inPort(2),
        cookie: 5n,
        instructions: [
          { type: OFPIT.WRITE_METADATA, metadata: 0x42n, metadataMask: 0xffn },
          { type: OFPIT.GOTO_TABLE, tableId: 3 },
        ],
      }),
    );
    c.send(flowMod({ tableId: 3, cookie: 6n, actions: [output(OFPP.CONTROLLER)] }));
    t.sw.receiveFrame(2, frame);
    const [pin2] = c.take() as PacketIn[];
    expect(pin2).toMatchObject({ reason: OFPR.ACTION, tableId: 3, cookie: 6n });
    expect(pin2.match).toEqual([
      { field: 'in_port', value: 2 },
      { field: 'metadata', value: 0x42n },
    ]);
  });

  it('runs the action set at the end of the pipeline in the spec order, group over output', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(
      flowMod({
        match: inPort(1),
        instructions: [
          writeActions(output(3), { type: OFPAT.SET_FIELD, field: { field: 'vlan_vid', value: 0x1005 } }, { type: OFPAT.PUSH_VLAN, ethertype: 0x8100 }),
          { type: OFPIT.GOTO_TABLE, tableId: 1 },
        ],
      }),
    );
    // Table 1 replaces the output: the set keeps one action per type.
    c.send(flowMod({ tableId: 1, instructions: [writeActions(output(2))] }));
    const frame = udpFrame();
    t.sw.receiveFrame(1, frame);
    const out = t.takeFrames();
    expect(out.map((f) => f.port)).toEqual([2]);
    // push_vlan ran before set-field (the set would have had no tag to change otherwise).
    expect(out[0].frame.length).toBe(frame.length + 4);
    expect(out[0].frame.readUInt16BE(12)).toBe(0x8100);
    expect(out[0].frame.readUInt16BE(14) & 0xfff).toBe(5);
    // clear-actions empties the set.
    c.send(flowMod({ tableId: 1, instructions: [{ type: OFPIT.CLEAR_ACTIONS, actions: [] }] }));
    t.sw.receiveFrame(1, frame);
    expect(t.takeFrames()).toEqual([]);
  });

  it('apply-actions outputs a copy, later actions do not change it', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(
      c.send(
        flowMod({
          match: [...inPort(1), { field: 'eth_type', value: 0x0800 }],
          actions: [output(2), { type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: '10.9.9.9' } }, output(3)],
        }),
      ),
    ).toEqual([]);
    const frame = udpFrame();
    t.sw.receiveFrame(1, frame);
    const [a, b] = t.takeFrames();
    expect(a.frame).toEqual(frame);
    expect(b.frame.readUInt32BE(30)).toBe(0x0a090909);
  });

  it('drops a packet whose TTL runs out, or sends it to the controller with OFPR_INVALID_TTL', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), actions: [{ type: OFPAT.DEC_NW_TTL }, output(2)] }));
    t.sw.receiveFrame(1, udpFrame({ ttl: 1 }));
    expect(t.takeFrames()).toEqual([]);
    expect(c.take()).toEqual([]);
    c.send({ type: OFPT.SET_CONFIG, xid: 1, flags: OFPC_INVALID_TTL_TO_CONTROLLER, missSendLen: 128 });
    t.sw.receiveFrame(1, udpFrame({ ttl: 1 }));
    expect(t.takeFrames()).toEqual([]);
    const [pin] = c.take() as PacketIn[];
    expect(pin.reason).toBe(OFPR.INVALID_TTL);
    t.sw.receiveFrame(1, udpFrame({ ttl: 9 }));
    expect(t.takeFrames()[0].frame[22]).toBe(8);
  });
});

describe('SwitchInstance: packet-out', () => {
  it('sends the frame through its actions, OFPP_TABLE through the pipeline', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const frame = udpFrame();
    expect(c.send({ type: OFPT.PACKET_OUT, xid: 3, bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [output(4)], data: frame })).toEqual([]);
    expect(t.takeFrames()).toEqual([{ port: 4, frame }]);
    c.send(flowMod({ match: inPort(2), actions: [output(3)] }));
    c.send({ type: OFPT.PACKET_OUT, xid: 4, bufferId: OFP_NO_BUFFER, inPort: 2, actions: [output(OFPP.TABLE)], data: frame });
    expect(t.takeFrames()).toEqual([{ port: 3, frame }]);
    // To the controller: no flow entry, so table OFPTT_ALL and an all-ones cookie.
    const [pin] = c.send({ type: OFPT.PACKET_OUT, xid: 5, bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [output(OFPP.CONTROLLER)], data: frame }) as PacketIn[];
    expect(pin).toMatchObject({ reason: OFPR.ACTION, tableId: 0xff, cookie: 0xffffffffffffffffn, data: frame });
  });

  it('refuses a buffer id, a bad in_port and OFPP_TABLE in a flow entry', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const frame = udpFrame();
    expect(errorsOf(c.send({ type: OFPT.PACKET_OUT, xid: 3, bufferId: 7, inPort: 1, actions: [output(2)], data: frame }))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, 3]]);
    expect(errorsOf(c.send({ type: OFPT.PACKET_OUT, xid: 4, bufferId: OFP_NO_BUFFER, inPort: 99, actions: [output(2)], data: frame }))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, 4]]);
    expect(errorsOf(c.send(flowMod({ xid: 5, actions: [output(OFPP.TABLE)] })))).toEqual([[OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT, 5]]);
    expect(t.takeFrames()).toEqual([]);
  });
});

describe('SwitchInstance: flow-mod errors', () => {
  const cases: Array<[string, Parameters<typeof flowMod>[0], number, number]> = [
    ['table id beyond n_tables', { tableId: 64 }, OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID],
    ['OFPTT_ALL for an add', { tableId: 0xff }, OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID],
    ['goto_table backwards', { tableId: 2, instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 1 }] }, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID],
    ['goto_table beyond the last table', { instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 64 }] }, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID],
    ['an unknown group', { actions: [{ type: OFPAT.GROUP, groupId: 9 }] }, OFPET.BAD_ACTION, OFPBAC.BAD_OUT_GROUP],
    ['an unknown meter', { instructions: [{ type: OFPIT.METER, meterId: 9 }] }, OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER],
    ['a missing match prerequisite', { match: [{ field: 'tcp_dst', value: 80 }] }, OFPET.BAD_MATCH, OFPBMC.BAD_PREREQ],
    ['a duplicate match field', { match: [...inPort(1), ...inPort(2)] }, OFPET.BAD_MATCH, OFPBMC.DUP_FIELD],
    ['output to port 0', { actions: [output(0)] }, OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT],
    ['set-field without its prerequisite', { actions: [{ type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: '1.2.3.4' } }] }, OFPET.BAD_ACTION, OFPBAC.MATCH_INCONSISTENT],
    ['a bad push_vlan ethertype', { actions: [{ type: OFPAT.PUSH_VLAN, ethertype: 0x0800 }] }, OFPET.BAD_ACTION, OFPBAC.BAD_ARGUMENT],
    ['an unknown command', { command: 9 }, OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND],
    ['unknown flags', { flags: 0x100 }, OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_FLAGS],
  ];
  it.each(cases)('%s', (_name, fm, type, code) => {
    const t = new TestSwitch();
    const c = t.controller();
    const raw = encodeMessage(flowMod({ xid: 77, ...fm }));
    const [err] = c.sendRaw(raw);
    expect(err).toMatchObject({ type: OFPT.ERROR, xid: 77, errorType: type, code });
    expect((err as { data: Buffer }).data).toEqual(raw.subarray(0, 64));
    expect(t.sw.tableStats(0).activeCount + t.sw.tableStats(2).activeCount).toBe(0);
  });

  it('refuses an overlapping entry with OFPFF_CHECK_OVERLAP', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), priority: 10, actions: [output(2)] }));
    const errs = errorsOf(c.send(flowMod({ xid: 8, priority: 10, flags: OFPFF.CHECK_OVERLAP, match: [{ field: 'eth_type', value: 0x800 }] })));
    expect(errs).toEqual([[OFPET.FLOW_MOD_FAILED, OFPFMFC.OVERLAP, 8]]);
  });

  it('installs a flow-mod with a buffer id but answers OFPBRC_BUFFER_UNKNOWN', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(errorsOf(c.send(flowMod({ xid: 5, bufferId: 3, actions: [output(2)] })))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, 5]]);
    expect(t.sw.tableStats(0).activeCount).toBe(1);
  });
});

describe('SwitchInstance: timeouts and FLOW_REMOVED', () => {
  it('removes entries on idle and hard timeouts, reporting those with OFPFF_SEND_FLOW_REM', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), idleTimeout: 5, flags: OFPFF.SEND_FLOW_REM, cookie: 1n, actions: [output(2)] }));
    c.send(flowMod({ match: inPort(2), hardTimeout: 8, flags: OFPFF.SEND_FLOW_REM, cookie: 2n, actions: [output(1)] }));
    c.send(flowMod({ match: inPort(3), hardTimeout: 8, cookie: 3n, actions: [output(1)] }));
    t.clock.advance(4000);
    t.sw.receiveFrame(1, udpFrame());
    t.sw.tick();
    expect(c.take()).toEqual([]);
    t.clock.advance(4500); // 8.5 s: the hard timeouts ran out; entry 1 was used at 4 s
    t.sw.tick();
    const removed = c.take() as FlowRemoved[];
    expect(removed.map((m) => [m.type, m.cookie, m.reason])).toEqual([[OFPT.FLOW_REMOVED, 2n, OFPRR.HARD_TIMEOUT]]);
    expect(removed[0]).toMatchObject({ tableId: 0, priority: 0x8000, hardTimeout: 8, durationSec: 8, match: inPort(2) });
    t.clock.advance(1000); // 9.5 s: idle since 4 s
    t.sw.tick();
    const [idle] = c.take() as FlowRemoved[];
    expect(idle).toMatchObject({ cookie: 1n, reason: OFPRR.IDLE_TIMEOUT, packetCount: 1n });
    expect(t.sw.tableStats(0).activeCount).toBe(0);
  });

  it('reports deleted entries with reason DELETE', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ tableId: 1, match: inPort(1), flags: OFPFF.SEND_FLOW_REM, actions: [output(2)] }));
    c.send(flowMod({ tableId: 2, match: inPort(1), actions: [output(2)] }));
    const msgs = c.send(flowMod({ tableId: 0xff, command: OFPFC.DELETE }));
    expect(msgs.map((m) => [m.type, (m as FlowRemoved).reason, (m as FlowRemoved).tableId])).toEqual([[OFPT.FLOW_REMOVED, OFPRR.DELETE, 1]]);
    expect(t.sw.tableStats(2).activeCount).toBe(0);
  });
});

describe('SwitchInstance: ports', () => {
  it('announces added, removed, changed ports with PORT_STATUS', () => {
    const t = new TestSwitch({ nPorts: 2 });
    const c = t.controller();
    t.sw.addPort({ portNo: 7, name: 'eth7', hwAddr: '02:00:00:00:00:07' });
    t.sw.setPortLinkDown(7, true);
    t.sw.removePort(7);
    const msgs = c.take() as PortStatus[];
    expect(msgs.map((m) => [m.type, m.reason, m.desc.portNo])).toEqual([
      [OFPT.PORT_STATUS, OFPPR.ADD, 7],
      [OFPT.PORT_STATUS, OFPPR.MODIFY, 7],
      [OFPT.PORT_STATUS, OFPPR.DELETE, 7],
    ]);
    expect(msgs[0].desc).toMatchObject({ name: 'eth7', hwAddr: '02:00:00:00:00:07', state: 4 /* LIVE */ });
    expect(msgs[1].desc.state & 1).toBe(1);
  });

  it('does not forward to a port whose link is down', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), actions: [output(2)] }));
    t.sw.setPortLinkDown(2, true);
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toEqual([]);
    t.sw.setPortLinkDown(2, false);
    t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toHaveLength(1);
  });

  it('pads frames shorter than 60 bytes on the way out', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), actions: [output(2)] }));
    t.sw.receiveFrame(1, udpFrame({ size: 42 }));
    const [f] = t.takeFrames();
    expect(f.frame.length).toBe(60);
  });
});

describe('SwitchInstance: apply-actions instruction reaches set-field', () => {
  it('keeps the IPv4 checksum right', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(
      flowMod({
        match: [...inPort(1), { field: 'eth_type', value: 0x0800 }],
        instructions: [applyActions({ type: OFPAT.SET_FIELD, field: { field: 'ipv4_src', value: '192.168.1.1' } }, output(2))],
      }),
    );
    t.sw.receiveFrame(1, udpFrame());
    const [f] = t.takeFrames();
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += f.frame.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });
});
