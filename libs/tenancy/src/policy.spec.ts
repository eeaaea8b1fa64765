import { decodeMessage, encodeMessage, OFPBRC, OFPCR_ROLE, OFPET, OFPFC, OFPFMFC, OFPMP, OFPT, OFPTT } from '@nicvisor/openflow';
import type { FlowMod, OfpMessage } from '@nicvisor/openflow';
import { CHANNEL_LOCAL, errorReply, verifyFromVnf } from './policy.js';
import { EMPTY, flowMod, goto, OWN } from '../test/fixtures.js';

describe('verifyFromVnf: dispatch', () => {
  it('dispatch: a flow-mod goes to the NIC translated, and the rewritten message encodes and decodes', () => {
    const h = verifyFromVnf(OWN, flowMod({ tableId: 0, instructions: [goto(2)] }), EMPTY);
    if (!h.ok || h.to !== 'nic') throw new Error('expected to: nic');
    const [m] = h.messages as FlowMod[];
    expect(decodeMessage(encodeMessage(m))).toEqual(flowMod({ tableId: 1, instructions: [goto(3)] }));
  });

  it('dispatch: an OFPTT_ALL delete fans out to the NIC', () => {
    const h = verifyFromVnf(OWN, flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE }), EMPTY);
    expect(h.ok && h.to === 'nic' && h.messages.length).toBe(7);
  });

  it('dispatch: a denial carries the exact type/code', () => {
    const h = verifyFromVnf(OWN, flowMod({ tableId: 9 }), EMPTY);
    expect(h.ok ? null : [h.error.type, h.error.code]).toEqual([OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID]);
  });

  it('dispatch: ECHO, FEATURES, GET/SET_CONFIG, ROLE, GET/SET_ASYNC, HELLO are answered by the channel', () => {
    const msgs: OfpMessage[] = [
      { type: OFPT.ECHO_REQUEST, xid: 1, data: Buffer.alloc(0) },
      { type: OFPT.FEATURES_REQUEST, xid: 1 },
      { type: OFPT.GET_CONFIG_REQUEST, xid: 1 },
      { type: OFPT.SET_CONFIG, xid: 1, flags: 0, missSendLen: 128 },
      { type: OFPT.ROLE_REQUEST, xid: 1, role: OFPCR_ROLE.MASTER, generationId: 1n },
      { type: OFPT.GET_ASYNC_REQUEST, xid: 1 },
      { type: OFPT.SET_ASYNC, xid: 1, packetInMask: [1, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
      { type: OFPT.HELLO, xid: 1, version: 4, elements: [] },
    ];
    for (const m of msgs) {
      const h = verifyFromVnf(OWN, m, EMPTY);
      expect(h.ok && h.to).toBe('channel');
      expect(CHANNEL_LOCAL[m.type]).toBeDefined();
    }
  });

  it('dispatch: BARRIER_REQUEST passes to the NIC unchanged (its reply means all earlier messages are done)', () => {
    const b: OfpMessage = { type: OFPT.BARRIER_REQUEST, xid: 3 };
    expect(verifyFromVnf(OWN, b, EMPTY)).toEqual({ ok: true, to: 'nic', messages: [b] });
  });

  it('dispatch: EXPERIMENTER → OFPBRC_BAD_EXPERIMENTER', () => {
    const h = verifyFromVnf(OWN, { type: OFPT.EXPERIMENTER, xid: 1, experimenter: 0x2320, expType: 20, data: Buffer.alloc(0) }, EMPTY);
    expect(h.ok ? null : [h.error.type, h.error.code]).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER]);
  });

  it('dispatch: a switch-only message from the vNF (PACKET_IN, BARRIER_REPLY) → OFPBRC_BAD_TYPE', () => {
    const h = verifyFromVnf(OWN, { type: OFPT.BARRIER_REPLY, xid: 1 }, EMPTY);
    expect(h.ok ? null : [h.error.type, h.error.code]).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE]);
  });

  it('dispatch: a multipart aggregate over OFPTT_ALL carries its reply plan', () => {
    const h = verifyFromVnf(
      OWN,
      {
        type: OFPT.MULTIPART_REQUEST,
        xid: 2,
        flags: 0,
        body: { mpType: OFPMP.AGGREGATE, tableId: OFPTT.ALL, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] },
      },
      EMPTY,
    );
    expect(h.ok && h.to === 'nic' && [h.messages.length, h.reply]).toEqual([7, 'aggregate']);
  });

  it('errorReply: the vNF\'s xid, the type/code, and the first 64 bytes of the offending message', () => {
    const raw = encodeMessage(flowMod({ tableId: 9 }));
    const err = errorReply({ type: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID, reason: 'x' }, 42, raw);
    expect(err).toEqual({ type: OFPT.ERROR, xid: 42, errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID, data: raw.subarray(0, 64) });
    expect(decodeMessage(encodeMessage(err))).toEqual(err);
  });
});
