import {
  FlowRemoved,
  MeterConfigReply,
  MeterStatsReply,
  MultipartReply,
  OFPET,
  OFPFF,
  OFPIT,
  OFPM,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMMFC,
  OFPMP,
  OFPRR,
  OFPT,
} from '@nicvisor/openflow';
import { ManualClock } from './clock.js';
import { MeterTable, remarkDscp } from './meters.js';
import { applyActions, errorsOf, flowMod, inPort, meterMod, output, TestSwitch, udpFrame } from './spec-helpers.js';

/** Sends `pps` frames of `size` bytes per second for `seconds` on port 1; returns what left port 2 (bits/s, packets/s, frames). */
function stream(t: TestSwitch, opts: { pps: number; size: number; seconds: number; dscp?: number }) {
  const start = t.clock.now();
  const n = opts.pps * opts.seconds;
  const frame = udpFrame({ size: opts.size, dscp: opts.dscp });
  let bytes = 0;
  let packets = 0;
  const dscps = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    t.clock.set(start + (i * 1000) / opts.pps);
    t.sw.receiveFrame(1, frame);
    for (const f of t.takeFrames()) {
      if (f.port !== 2) continue;
      bytes += f.frame.length;
      packets++;
      const d = f.frame[15] >>> 2;
      dscps.set(d, (dscps.get(d) ?? 0) + 1);
    }
  }
  return { bps: (bytes * 8) / opts.seconds, pps: packets / opts.seconds, dscps };
}

function meteredSwitch(mm: Parameters<typeof meterMod>[0]) {
  const t = new TestSwitch();
  const c = t.controller();
  expect(c.send(meterMod(mm))).toEqual([]);
  expect(c.send(flowMod({ match: inPort(1), instructions: [{ type: OFPIT.METER, meterId: mm.meterId ?? 1 }, applyActions(output(2))] }))).toEqual([]);
  return { t, c };
}

describe('meters: rates on a ManualClock', () => {
  it('a 2 Mb/s stream through a 1 Mb/s drop band gives ~1 Mb/s out', () => {
    const { t } = meteredSwitch({ flags: OFPMF.KBPS, bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }] });
    // 1500-byte frames at 167 pps: 2.004 Mb/s.
    const r = stream(t, { pps: 167, size: 1500, seconds: 30 });
    expect(r.bps).toBeGreaterThan(0.97e6);
    expect(r.bps).toBeLessThan(1.03e6);
  });

  it('a stream under the band rate passes untouched', () => {
    const { t } = meteredSwitch({ flags: OFPMF.KBPS, bands: [{ type: OFPMBT.DROP, rate: 10000, burstSize: 0 }] });
    const r = stream(t, { pps: 167, size: 1500, seconds: 10 });
    expect(r.pps).toBe(167);
  });

  it('PKTPS: 200 pps through a 100 pps band gives ~100 pps', () => {
    const { t } = meteredSwitch({ flags: OFPMF.PKTPS, bands: [{ type: OFPMBT.DROP, rate: 100, burstSize: 0 }] });
    const r = stream(t, { pps: 200, size: 100, seconds: 20 });
    expect(r.pps).toBeGreaterThan(97);
    expect(r.pps).toBeLessThan(103);
  });

  it('BURST: the burst size lets that much through at once', () => {
    const { t } = meteredSwitch({ flags: OFPMF.PKTPS | OFPMF.BURST, bands: [{ type: OFPMBT.DROP, rate: 1, burstSize: 50 }] });
    for (let i = 0; i < 80; i++) t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toHaveLength(50);
  });

  it('DSCP_REMARK raises the drop precedence of what exceeds the band, and lets it through', () => {
    const { t } = meteredSwitch({ flags: OFPMF.PKTPS, bands: [{ type: OFPMBT.DSCP_REMARK, rate: 100, burstSize: 0, precLevel: 1 }] });
    const r = stream(t, { pps: 200, size: 100, seconds: 20, dscp: 18 });
    expect(r.pps).toBe(200);
    expect(r.dscps.get(18)! / 20).toBeGreaterThan(97);
    expect(r.dscps.get(20)! / 20).toBeGreaterThan(97);
  });

  it('remarkDscp: AF drop precedence up, capped at high', () => {
    expect(remarkDscp(18, 1)).toBe(20); // AF21 -> AF22
    expect(remarkDscp(18, 2)).toBe(22); // AF21 -> AF23
    expect(remarkDscp(22, 1)).toBe(22);
    expect(remarkDscp(10, 5)).toBe(14);
  });

  it('the band of highest rate below the offered rate applies', () => {
    const clock = new ManualClock(0);
    const mt = new MeterTable(clock);
    mt.apply({
      command: OFPMC.ADD,
      flags: OFPMF.PKTPS,
      meterId: 1,
      bands: [
        { type: OFPMBT.DROP, rate: 100, burstSize: 0 },
        { type: OFPMBT.DSCP_REMARK, rate: 50, burstSize: 0, precLevel: 1 },
      ],
    });
    const m = mt.get(1)!;
    const seen = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      clock.set(i * 5); // 200 pps
      const band = m.offer(100, clock.now());
      const k = band === undefined ? 0 : band.type;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    // 50 pps conform, 50 pps exceed only the 50 pps band (remarked), 100 pps exceed both (dropped by the 100 pps band).
    expect(seen.get(0)! / 10).toBeCloseTo(50, -1);
    expect(seen.get(OFPMBT.DSCP_REMARK)! / 10).toBeCloseTo(50, -1);
    expect(seen.get(OFPMBT.DROP)! / 10).toBeCloseTo(100, -1);
  });
});

describe('meters: meter-mod', () => {
  const cases: Array<[string, Array<Parameters<typeof meterMod>[0]>, number]> = [
    ['ADD of an existing meter', [{ meterId: 1 }, { meterId: 1 }], OFPMMFC.METER_EXISTS],
    ['MODIFY of a missing meter', [{ command: OFPMC.MODIFY, meterId: 4 }], OFPMMFC.UNKNOWN_METER],
    ['meter id 0', [{ meterId: 0 }], OFPMMFC.INVALID_METER],
    ['a virtual meter id', [{ meterId: OFPM.CONTROLLER }], OFPMMFC.INVALID_METER],
    ['an unknown command', [{ command: 7 }], OFPMMFC.BAD_COMMAND],
    ['KBPS and PKTPS', [{ flags: OFPMF.KBPS | OFPMF.PKTPS }], OFPMMFC.BAD_FLAGS],
    ['unknown flags', [{ flags: 0x40 }], OFPMMFC.BAD_FLAGS],
    ['a rate of 0', [{ bands: [{ type: OFPMBT.DROP, rate: 0, burstSize: 0 }] }], OFPMMFC.BAD_RATE],
    ['BURST with a burst size of 0', [{ flags: OFPMF.KBPS | OFPMF.BURST, bands: [{ type: OFPMBT.DROP, rate: 10, burstSize: 0 }] }], OFPMMFC.BAD_BURST],
    ['an experimenter band', [{ bands: [{ type: OFPMBT.EXPERIMENTER, rate: 10, burstSize: 0, experimenter: 1, data: Buffer.alloc(0) }] }], OFPMMFC.BAD_BAND],
  ];
  it.each(cases)('%s', (_name, mods, code) => {
    const t = new TestSwitch();
    const c = t.controller();
    const replies = mods.map((m, i) => c.send(meterMod({ xid: i + 1, bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }], ...m })));
    expect(replies.slice(0, -1).flat()).toEqual([]);
    expect(errorsOf(replies[replies.length - 1])).toEqual([[OFPET.METER_MOD_FAILED, code, mods.length]]);
  });

  it('deleting a meter removes the flows using it (FLOW_REMOVED reason METER_DELETE)', () => {
    const { t, c } = meteredSwitch({ bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }] });
    c.send(flowMod({ match: inPort(2), flags: OFPFF.SEND_FLOW_REM, cookie: 9n, instructions: [{ type: OFPIT.METER, meterId: 1 }] }));
    const msgs = c.send(meterMod({ command: OFPMC.DELETE, meterId: 1 })) as FlowRemoved[];
    expect(msgs.map((m) => [m.type, m.reason, m.cookie])).toEqual([[OFPT.FLOW_REMOVED, OFPRR.METER_DELETE, 9n]]);
    expect(t.sw.tableStats(0).activeCount).toBe(0);
  });

  it('answers meter stats, config and features', () => {
    const { t, c } = meteredSwitch({ flags: OFPMF.PKTPS | OFPMF.STATS, bands: [{ type: OFPMBT.DROP, rate: 1, burstSize: 0 }] });
    for (let i = 0; i < 5; i++) t.sw.receiveFrame(1, udpFrame({ size: 100 }));
    const [stats] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 2, flags: 0, body: { mpType: OFPMP.METER, meterId: OFPM.ALL } }) as MultipartReply[];
    expect((stats.body as MeterStatsReply).entries).toEqual([
      { meterId: 1, flowCount: 1, packetInCount: 5n, byteInCount: 500n, durationSec: 0, durationNsec: 0, bandStats: [{ packetBandCount: 4n, byteBandCount: 400n }] },
    ]);
    const [config] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 3, flags: 0, body: { mpType: OFPMP.METER_CONFIG, meterId: 1 } }) as MultipartReply[];
    expect((config.body as MeterConfigReply).entries).toEqual([{ flags: OFPMF.PKTPS | OFPMF.STATS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 1, burstSize: 0 }] }]);
    const [features] = c.send({ type: OFPT.MULTIPART_REQUEST, xid: 4, flags: 0, body: { mpType: OFPMP.METER_FEATURES } }) as MultipartReply[];
    expect(features.body).toMatchObject({ mpType: OFPMP.METER_FEATURES, bandTypes: 6, capabilities: 0xf });
  });

  it('MODIFY changes the bands of a meter in use', () => {
    const { t, c } = meteredSwitch({ flags: OFPMF.PKTPS | OFPMF.BURST, bands: [{ type: OFPMBT.DROP, rate: 1, burstSize: 1 }] });
    expect(c.send(meterMod({ command: OFPMC.MODIFY, flags: OFPMF.PKTPS | OFPMF.BURST, bands: [{ type: OFPMBT.DROP, rate: 1, burstSize: 3 }] }))).toEqual([]);
    for (let i = 0; i < 10; i++) t.sw.receiveFrame(1, udpFrame());
    expect(t.takeFrames()).toHaveLength(3);
  });
});
