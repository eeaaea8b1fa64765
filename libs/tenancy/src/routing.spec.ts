import { OFP_NO_BUFFER, OFPPR, OFPR, OFPRR, OFPT } from '@nicvisor/openflow';
import type { FlowRemoved, PacketIn, PortStatus } from '@nicvisor/openflow';
import { OPERATOR, tenantPrincipal } from './model.js';
import { fullPacketInBucket, routeFlowRemoved, routePacketIn, routePortStatus, takePacketIn } from './routing.js';
import { CUSTOM, OWN } from '../test/fixtures.js';

const pin = (tableId: number): PacketIn => ({
  type: OFPT.PACKET_IN,
  xid: 0,
  bufferId: OFP_NO_BUFFER,
  totalLen: 60,
  reason: OFPR.ACTION,
  tableId,
  cookie: 5n,
  match: [{ field: 'in_port', value: 1 }],
  data: Buffer.alloc(60),
});

const fr = (tableId: number): FlowRemoved => ({
  type: OFPT.FLOW_REMOVED,
  xid: 0,
  cookie: 1n,
  priority: 10,
  reason: OFPRR.IDLE_TIMEOUT,
  tableId,
  durationSec: 3,
  durationNsec: 0,
  idleTimeout: 3,
  hardTimeout: 0,
  packetCount: 0n,
  byteCount: 0n,
  match: [],
});

const ps = (portNo: number): PortStatus => ({
  type: OFPT.PORT_STATUS,
  xid: 0,
  reason: OFPPR.MODIFY,
  desc: { portNo, hwAddr: '02:00:00:00:00:01', name: 'p', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 },
});

describe('routing from the NIC', () => {
  it('packet-in from a tenant table → the vNF, table id translated to its view', () => {
    const r = routePacketIn(OWN, pin(3));
    expect(r).toEqual({ to: 'vnf', principal: tenantPrincipal('acme'), vnf: 'fw1', message: { ...pin(3), tableId: 2 } });
  });

  it('packet-in from the operator table → the operator, untranslated', () => {
    const r = routePacketIn(OWN, pin(0));
    expect([r.to, r.principal, r.message]).toEqual(['operator', OPERATOR, pin(0)]);
    expect(routePacketIn(CUSTOM, pin(3)).to).toBe('operator');
  });

  it('packet-in from a table beyond the instance\'s → the operator', () => {
    expect(routePacketIn(OWN, pin(200)).to).toBe('operator');
  });

  it('packet-in of a packet-out\'s output to CONTROLLER (no table, OFPTT_ALL) → the vNF that sent it, untranslated', () => {
    expect(routePacketIn(OWN, pin(0xff))).toEqual({ to: 'vnf', principal: tenantPrincipal('acme'), vnf: 'fw1', message: pin(0xff) });
    expect(routePacketIn(CUSTOM, pin(0xff)).to).toBe('vnf');
  });

  it('flow-removed of a tenant entry → the vNF, table id translated', () => {
    expect(routeFlowRemoved(OWN, fr(1), tenantPrincipal('acme'))).toMatchObject({ to: 'vnf', message: { tableId: 0 } });
    expect(routeFlowRemoved(OWN, fr(7))).toMatchObject({ to: 'vnf', message: { tableId: 6 } });
  });

  it('flow-removed of an operator entry → the operator, whatever its table', () => {
    expect(routeFlowRemoved(OWN, fr(0)).to).toBe('operator');
    expect(routeFlowRemoved(OWN, fr(2), OPERATOR).to).toBe('operator');
    expect(routeFlowRemoved(OWN, fr(2), tenantPrincipal('other')).to).toBe('operator');
  });

  it('port-status → the vNF only for the instance\'s ports', () => {
    expect(routePortStatus(OWN, ps(2))).toEqual({ to: 'vnf', principal: tenantPrincipal('acme'), vnf: 'fw1', message: ps(2) });
    expect(routePortStatus(OWN, ps(3)).to).toBe('operator');
  });

  it('packet-in quota: a burst of one second\'s worth, then the rate', () => {
    const quotas = { packetInsPerSecond: 2 };
    let bucket = fullPacketInBucket(quotas, 0);
    const at = (now: number) => {
      const r = takePacketIn(bucket, now, quotas);
      bucket = r.bucket;
      return r.allowed;
    };
    expect([at(0), at(0), at(0)]).toEqual([true, true, false]);
    expect(at(499)).toBe(false);
    expect(at(500)).toBe(true);
    expect(at(10_000)).toBe(true);
  });
});
