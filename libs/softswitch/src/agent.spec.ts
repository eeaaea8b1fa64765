import {
  AsyncConfig,
  encodeMessage,
  FlowStatsReply,
  MultipartReply,
  OFP_NO_BUFFER,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPFF,
  OFPFC,
  OFPMP,
  OFPMPF,
  OFPP,
  OFPPR,
  OFPQOFC,
  OFPR,
  OFPRR,
  OFPRRFC,
  OFPSCFC,
  OFPTFPT,
  OFPTMFC,
  OFPT,
  OfpMessage,
  PacketIn,
  RoleMessage,
  TableFeatures,
} from '@nicvisor/openflow';
import { errorsOf, flowMod, inPort, output, TestController, TestSwitch, udpFrame } from './spec-helpers.js';

function mp(c: TestController, body: MultipartReply['body'] | { mpType: number; [k: string]: unknown }, xid = 50): MultipartReply[] {
  return c.send({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body } as OfpMessage) as MultipartReply[];
}

describe('agent: basic requests', () => {
  it('echoes, answers barriers and config requests', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(c.send({ type: OFPT.ECHO_REQUEST, xid: 3, data: Buffer.from('hi') })).toEqual([{ type: OFPT.ECHO_REPLY, xid: 3, data: Buffer.from('hi') }]);
    expect(c.send({ type: OFPT.BARRIER_REQUEST, xid: 4 })).toEqual([{ type: OFPT.BARRIER_REPLY, xid: 4 }]);
    expect(c.send({ type: OFPT.GET_CONFIG_REQUEST, xid: 5 })).toEqual([{ type: OFPT.GET_CONFIG_REPLY, xid: 5, flags: 0, missSendLen: 128 }]);
    expect(c.send({ type: OFPT.SET_CONFIG, xid: 6, flags: 1, missSendLen: 0xffff })).toEqual([]);
    expect(c.send({ type: OFPT.GET_CONFIG_REQUEST, xid: 7 })).toEqual([{ type: OFPT.GET_CONFIG_REPLY, xid: 7, flags: 1, missSendLen: 0xffff }]);
    expect(errorsOf(c.send({ type: OFPT.SET_CONFIG, xid: 8, flags: 2, missSendLen: 0 }))).toEqual([[OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, 8]]);
  });

  it('replies to the barrier after the effects of everything before it', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const raw = Buffer.concat([
      encodeMessage(flowMod({ xid: 1, match: inPort(1), actions: [output(2)] })),
      encodeMessage({ type: OFPT.PACKET_OUT, xid: 2, bufferId: OFP_NO_BUFFER, inPort: 1, actions: [output(OFPP.TABLE)], data: udpFrame() }),
    ]);
    c.sendRaw(raw.subarray(0, raw.readUInt16BE(2)));
    c.sendRaw(raw.subarray(raw.readUInt16BE(2)));
    expect(c.send({ type: OFPT.BARRIER_REQUEST, xid: 3 })).toEqual([{ type: OFPT.BARRIER_REPLY, xid: 3 }]);
    expect(t.takeFrames().map((f) => f.port)).toEqual([2]);
  });

  it('answers undecodable and unexpected messages with errors carrying the xid and 64 bytes, and never throws', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const bad = encodeMessage(flowMod({ xid: 0x99, match: inPort(1), actions: [output(2)] }));
    bad.writeUInt16BE(0x7777, bad.length - 16); // an unknown action type
    const [e1] = c.sendRaw(bad);
    expect(e1).toMatchObject({ type: OFPT.ERROR, xid: 0x99, errorType: OFPET.BAD_ACTION });
    expect((e1 as { data: Buffer }).data).toEqual(bad.subarray(0, 64));
    const v = encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 5, data: Buffer.alloc(0) });
    v[0] = 1;
    expect(errorsOf(c.sendRaw(v))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION, 5]]);
    const unk = Buffer.from('04ee000800000006', 'hex');
    expect(errorsOf(c.sendRaw(unk))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, 6]]);
    expect(errorsOf(c.send({ type: OFPT.PACKET_IN, xid: 7, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) }))).toEqual([
      [OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, 7],
    ]);
    expect(errorsOf(c.send({ type: OFPT.EXPERIMENTER, xid: 8, experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) }))).toEqual([
      [OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, 8],
    ]);
    const truncated = encodeMessage(flowMod({ xid: 9 })).subarray(0, 20);
    expect(errorsOf(c.sendRaw(truncated))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 9]]);
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.from(Array.from({ length: 8 + (i % 40) }, (_, k) => (i * 31 + k * 7) & 0xff));
      junk[0] = 4;
      junk.writeUInt16BE(junk.length, 2);
      expect(() => c.sendRaw(junk)).not.toThrow();
    }
    expect(t.sw.lastInternalError).toBeUndefined();
  });

  it('refuses table-mod of a missing table and port-mod of a missing port', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(errorsOf(c.send({ type: OFPT.TABLE_MOD, xid: 2, tableId: 70, config: 0 }))).toEqual([[OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, 2]]);
    expect(c.send({ type: OFPT.TABLE_MOD, xid: 3, tableId: 0xff, config: 3 })).toEqual([]);
    expect(errorsOf(c.send({ type: OFPT.PORT_MOD, xid: 4, portNo: 40, hwAddr: '00:00:00:00:00:00', config: 0, mask: 0, advertise: 0 }))).toEqual([[OFPET.PORT_MOD_FAILED, 0, 4]]);
    expect(errorsOf(c.send({ type: OFPT.PORT_MOD, xid: 5, portNo: 1, hwAddr: '00:00:00:00:00:01', config: 0, mask: 0, advertise: 0 }))).toEqual([[OFPET.PORT_MOD_FAILED, 1, 5]]);
  });

  it('has no queues', () => {
    const t = new TestSwitch();
    const c = t.controller();
    expect(c.send({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 2, port: 1 })).toEqual([{ type: OFPT.QUEUE_GET_CONFIG_REPLY, xid: 2, port: 1, queues: [] }]);
    expect(errorsOf(c.send({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 3, port: 33 }))).toEqual([[OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, 3]]);
    expect(mp(c, { mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: 0xffffffff })[0].body).toEqual({ mpType: OFPMP.QUEUE, entries: [] });
    expect(errorsOf(mp(c, { mpType: OFPMP.QUEUE, portNo: 1, queueId: 3 }, 4))).toEqual([[OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_QUEUE, 4]]);
  });
});

describe('agent: multipart', () => {
  it('desc, port desc, port stats, table stats', () => {
    const t = new TestSwitch({ nTables: 4, nPorts: 2 });
    const c = t.controller();
    expect(mp(c, { mpType: OFPMP.DESC })[0].body).toMatchObject({ mpType: OFPMP.DESC, mfrDesc: 'nicvisor', serialNum: '0000000000001234' });
    const ports = mp(c, { mpType: OFPMP.PORT_DESC })[0].body as { entries: Array<{ portNo: number; name: string }> };
    expect(ports.entries.map((p) => [p.portNo, p.name])).toEqual([
      [1, 'port1'],
      [2, 'port2'],
    ]);
    t.sw.receiveFrame(1, udpFrame({ size: 80 }));
    const stats = mp(c, { mpType: OFPMP.PORT_STATS, portNo: 1 })[0].body as { entries: Array<{ rxPackets: bigint; rxBytes: bigint }> };
    expect(stats.entries).toHaveLength(1);
    expect(stats.entries[0]).toMatchObject({ rxPackets: 1n, rxBytes: 80n });
    expect(errorsOf(mp(c, { mpType: OFPMP.PORT_STATS, portNo: 9 }, 9))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, 9]]);
    const tables = mp(c, { mpType: OFPMP.TABLE })[0].body as { entries: Array<{ tableId: number; lookupCount: bigint }> };
    expect(tables.entries.map((e) => [e.tableId, e.lookupCount])).toEqual([
      [0, 1n],
      [1, 0n],
      [2, 0n],
      [3, 0n],
    ]);
  });

  it('flow and aggregate stats, selected by table, match, cookie and out_port', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.send(flowMod({ match: inPort(1), cookie: 1n, actions: [output(2)] }));
    c.send(flowMod({ match: inPort(2), cookie: 2n, actions: [output(3)] }));
    c.send(flowMod({ tableId: 5, match: [...inPort(1), { field: 'eth_type', value: 0x800 }], cookie: 3n, actions: [output(2)] }));
    t.sw.receiveFrame(1, udpFrame({ size: 70 }));
    const req = { mpType: OFPMP.FLOW, tableId: 0xff, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] };
    const all = (mp(c, req)[0].body as FlowStatsReply).entries;
    expect(all.map((f) => [f.tableId, f.cookie, f.packetCount])).toEqual([
      [0, 1n, 1n],
      [0, 2n, 0n],
      [5, 3n, 0n],
    ]);
    const byPort = (mp(c, { ...req, outPort: 2 })[0].body as FlowStatsReply).entries;
    expect(byPort.map((f) => f.cookie).sort()).toEqual([1n, 3n]);
    const byMatch = (mp(c, { ...req, match: inPort(1) })[0].body as FlowStatsReply).entries;
    expect(byMatch.map((f) => f.cookie).sort()).toEqual([1n, 3n]);
    const byCookie = (mp(c, { ...req, cookie: 2n, cookieMask: 0xffn })[0].body as FlowStatsReply).entries;
    expect(byCookie.map((f) => f.cookie)).toEqual([2n]);
    expect(mp(c, { ...req, mpType: OFPMP.AGGREGATE })[0].body).toEqual({ mpType: OFPMP.AGGREGATE, packetCount: 1n, byteCount: 70n, flowCount: 3 });
    expect(errorsOf(mp(c, { ...req, tableId: 99 }, 7))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, 7]]);
  });

  it('splits a large reply into parts under 64 KiB with REPLY_MORE', () => {
    const t = new TestSwitch();
    const c = t.controller();
    for (let i = 0; i < 1500; i++) c.send(flowMod({ match: [...inPort(1), { field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: `10.0.${i >> 8}.${i & 255}` }], cookie: BigInt(i), actions: [output(2)] }));
    const parts = mp(c, { mpType: OFPMP.FLOW, tableId: 0, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.flags)).toEqual([...parts.slice(1).map(() => OFPMPF.REPLY_MORE), 0]);
    for (const p of parts) expect(encodeMessage(p).length).toBeLessThanOrEqual(0xffff);
    expect(parts.reduce((n, p) => n + (p.body as FlowStatsReply).entries.length, 0)).toBe(1500);
  });

  it('table features: every table, the eight required properties, in parts', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const parts = mp(c, { mpType: OFPMP.TABLE_FEATURES, entries: [] });
    const tables = parts.flatMap((p) => (p.body as { entries: TableFeatures[] }).entries);
    expect(tables.map((x) => x.tableId)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    for (const tf of tables) {
      expect(tf.properties.map((p) => p.type)).toEqual([
        OFPTFPT.INSTRUCTIONS,
        OFPTFPT.NEXT_TABLES,
        OFPTFPT.WRITE_ACTIONS,
        OFPTFPT.APPLY_ACTIONS,
        OFPTFPT.MATCH,
        OFPTFPT.WILDCARDS,
        OFPTFPT.WRITE_SETFIELD,
        OFPTFPT.APPLY_SETFIELD,
      ]);
    }
    expect(tables[63].properties[1]).toEqual({ type: OFPTFPT.NEXT_TABLES, nextTableIds: [] });
    expect(parts.map((p) => p.flags).at(-1)).toBe(0);
    // Changing the features is refused.
    const [e] = mp(c, { mpType: OFPMP.TABLE_FEATURES, entries: [tables[0]] }, 8);
    expect(e).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.TABLE_FEATURES_FAILED, xid: 8 });
  });

  it('refuses unknown multipart types', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const raw = Buffer.from('04120010000000070063000000000000', 'hex');
    expect(errorsOf(c.sendRaw(raw))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, 7]]);
  });
});

describe('agent: roles and async configuration', () => {
  const role = (c: TestController, r: number, generationId = 0n, xid = 20) => c.send({ type: OFPT.ROLE_REQUEST, xid, role: r, generationId });

  it('one master at a time; stale generation ids refused', () => {
    const t = new TestSwitch();
    const a = t.controller();
    const b = t.controller();
    expect(role(a, OFPCR_ROLE.NOCHANGE)).toEqual([{ type: OFPT.ROLE_REPLY, xid: 20, role: OFPCR_ROLE.EQUAL, generationId: 0n }]);
    expect(role(a, OFPCR_ROLE.MASTER, 5n)).toEqual([{ type: OFPT.ROLE_REPLY, xid: 20, role: OFPCR_ROLE.MASTER, generationId: 5n }]);
    expect((role(b, OFPCR_ROLE.MASTER, 6n) as RoleMessage[])[0].role).toBe(OFPCR_ROLE.MASTER);
    expect((role(a, OFPCR_ROLE.NOCHANGE) as RoleMessage[])[0]).toMatchObject({ role: OFPCR_ROLE.SLAVE, generationId: 6n });
    expect(errorsOf(role(a, OFPCR_ROLE.MASTER, 4n, 21))).toEqual([[OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, 21]]);
    // Wrap-around comparison: 2^64 - 1 is "before" 6.
    expect(errorsOf(role(a, OFPCR_ROLE.SLAVE, 0xffffffffffffffffn, 22))).toEqual([[OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, 22]]);
    expect(errorsOf(role(a, 7, 0n, 23))).toEqual([[OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, 23]]);
    // EQUAL does not look at the generation id.
    expect((role(a, OFPCR_ROLE.EQUAL, 1n) as RoleMessage[])[0].role).toBe(OFPCR_ROLE.EQUAL);
  });

  it('a slave may not change the switch and gets only port-status', () => {
    const t = new TestSwitch();
    const master = t.controller();
    const slave = t.controller();
    role(master, OFPCR_ROLE.MASTER, 1n);
    role(slave, OFPCR_ROLE.SLAVE, 1n);
    expect(errorsOf(slave.send(flowMod({ xid: 30, actions: [output(2)] })))).toEqual([[OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 30]]);
    expect(errorsOf(slave.send({ type: OFPT.PACKET_OUT, xid: 31, bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [], data: udpFrame() }))).toEqual([
      [OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 31],
    ]);
    // Reads are fine.
    expect(slave.send({ type: OFPT.FEATURES_REQUEST, xid: 32 })[0].type).toBe(OFPT.FEATURES_REPLY);
    master.send(flowMod({ priority: 0, flags: OFPFF.SEND_FLOW_REM, actions: [output(OFPP.CONTROLLER)] }));
    t.sw.receiveFrame(1, udpFrame());
    expect((master.take() as PacketIn[]).map((m) => m.reason)).toEqual([OFPR.NO_MATCH]);
    expect(slave.take()).toEqual([]);
    t.sw.setPortLinkDown(2, true);
    expect(master.take().map((m) => m.type)).toEqual([OFPT.PORT_STATUS]);
    expect(slave.take().map((m) => m.type)).toEqual([OFPT.PORT_STATUS]);
    master.send(flowMod({ command: OFPFC.DELETE, tableId: 0xff }));
    expect(slave.take()).toEqual([]);
  });

  it('SET_ASYNC filters what a connection gets; GET_ASYNC reports it', () => {
    const t = new TestSwitch();
    const c = t.controller();
    const [cfg] = c.send({ type: OFPT.GET_ASYNC_REQUEST, xid: 40 }) as AsyncConfig[];
    expect(cfg).toMatchObject({ type: OFPT.GET_ASYNC_REPLY, xid: 40, packetInMask: [7, 0], portStatusMask: [7, 7], flowRemovedMask: [31, 0] });
    // Only OFPR_ACTION packet-ins, no port-status, only DELETE flow-removed.
    c.send({ type: OFPT.SET_ASYNC, xid: 41, packetInMask: [1 << OFPR.ACTION, 0], portStatusMask: [0, 0], flowRemovedMask: [1 << OFPRR.DELETE, 0] });
    c.send(flowMod({ priority: 0, actions: [output(OFPP.CONTROLLER)] }));
    c.send(flowMod({ match: inPort(2), actions: [output(OFPP.CONTROLLER)] }));
    c.send(flowMod({ match: inPort(3), hardTimeout: 1, flags: OFPFF.SEND_FLOW_REM, actions: [output(1)] }));
    t.sw.receiveFrame(1, udpFrame()); // NO_MATCH: filtered
    t.sw.receiveFrame(2, udpFrame()); // ACTION
    t.sw.setPortLinkDown(4, true);
    t.clock.advance(2000);
    t.sw.tick(); // HARD_TIMEOUT: filtered
    expect((c.take() as PacketIn[]).map((m) => [m.type, m.reason])).toEqual([[OFPT.PACKET_IN, OFPR.ACTION]]);
    c.send(flowMod({ match: inPort(4), flags: OFPFF.SEND_FLOW_REM, actions: [output(1)] }));
    expect(c.send(flowMod({ command: OFPFC.DELETE, tableId: 0xff })).map((m) => m.type)).toEqual([OFPT.FLOW_REMOVED]);
    expect(OFPPR.ADD).toBe(0);
  });

  it('a closed session gets nothing more', () => {
    const t = new TestSwitch();
    const c = t.controller();
    c.session.close();
    t.sw.setPortLinkDown(1, true);
    expect(c.take()).toEqual([]);
  });
});
