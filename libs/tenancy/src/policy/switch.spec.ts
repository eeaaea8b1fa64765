import { OFPET, OFPP, OFPPC, OFPPF, OFPPMFC, OFPQOFC, OFPQT, OFPT, OFPTMFC, OFPTT } from '@nicvisor/openflow';
import type { PortMod, QueueGetConfigReply, TableMod } from '@nicvisor/openflow';
import { filterQueueGetConfigReply, verifyPortMod, verifyQueueGetConfig, verifyTableMod } from './switch.js';
import { accepted, CUSTOM, denied, OWN, PHYS } from '../../test/fixtures.js';

const tableMod = (tableId: number): TableMod => ({ type: OFPT.TABLE_MOD, xid: 3, tableId, config: 0 });

function portMod(fields: Partial<PortMod> = {}): PortMod {
  return { type: OFPT.PORT_MOD, xid: 4, portNo: 1, hwAddr: '02:00:00:00:00:01', config: OFPPC.NO_PACKET_IN, mask: OFPPC.NO_PACKET_IN, advertise: 0, ...fields };
}

describe('table-mod', () => {
  it('table-mod: an owned table is translated', () => {
    expect(accepted(verifyTableMod(OWN, tableMod(0)))).toEqual([tableMod(1)]);
  });

  it('table-mod: a table visible but not owned → OFPTMFC_EPERM', () => {
    expect(denied(verifyTableMod(PHYS, tableMod(0)))).toEqual([OFPET.TABLE_MOD_FAILED, OFPTMFC.EPERM]);
    expect(denied(verifyTableMod(CUSTOM, tableMod(3)))).toEqual([OFPET.TABLE_MOD_FAILED, OFPTMFC.EPERM]);
  });

  it('table-mod: a table outside the view → OFPTMFC_BAD_TABLE', () => {
    expect(denied(verifyTableMod(OWN, tableMod(7)))).toEqual([OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE]);
  });

  it('table-mod: OFPTT_ALL is narrowed to one table-mod per owned table', () => {
    expect(accepted(verifyTableMod(CUSTOM, tableMod(OFPTT.ALL))).map((m) => m.tableId)).toEqual([1, 2, 4, 5, 6, 7]);
  });
});

describe('port-mod', () => {
  it('port-mod: NO_RECV / NO_FWD / NO_PACKET_IN on its own port is allowed, unchanged', () => {
    const pm = portMod({ config: OFPPC.NO_FWD, mask: OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN });
    expect(accepted(verifyPortMod(OWN, pm))).toEqual([pm]);
  });

  it('port-mod: a port not the instance\'s (or LOCAL) → OFPPMFC_EPERM', () => {
    expect(denied(verifyPortMod(OWN, portMod({ portNo: 3 })))).toEqual([OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM]);
    expect(denied(verifyPortMod(OWN, portMod({ portNo: OFPP.LOCAL })))).toEqual([OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM]);
  });

  it('port-mod: PORT_DOWN in the mask on its own port → OFPPMFC_EPERM', () => {
    expect(denied(verifyPortMod(OWN, portMod({ config: OFPPC.PORT_DOWN, mask: OFPPC.PORT_DOWN })))).toEqual([OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM]);
  });

  it('port-mod: a non-zero advertise on its own port → OFPPMFC_EPERM', () => {
    expect(denied(verifyPortMod(OWN, portMod({ advertise: OFPPF['10GB_FD'] })))).toEqual([OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM]);
  });
});

describe('queue-get-config', () => {
  it('queue-get-config: own port or ANY allowed; another port → OFPQOFC_BAD_PORT', () => {
    const req = (port: number) => ({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 5, port }) as const;
    expect(accepted(verifyQueueGetConfig(OWN, req(2)))).toEqual([req(2)]);
    expect(accepted(verifyQueueGetConfig(OWN, req(OFPP.ANY)))).toHaveLength(1);
    expect(denied(verifyQueueGetConfig(OWN, req(3)))).toEqual([OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT]);
  });

  it('queue-get-config: the reply keeps only the instance\'s ports\' queues', () => {
    const q = (port: number) => ({ queueId: 1, port, properties: [{ property: OFPQT.MIN_RATE, rate: 100 }] });
    const reply: QueueGetConfigReply = { type: OFPT.QUEUE_GET_CONFIG_REPLY, xid: 5, port: OFPP.ANY, queues: [q(1), q(3), q(2)] };
    expect(filterQueueGetConfigReply(OWN, reply).queues.map((x) => x.port)).toEqual([1, 2]);
  });
});
