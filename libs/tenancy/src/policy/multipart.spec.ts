import { OFPBRC, OFPET, OFPG, OFPMP, OFPMPF, OFPP, OFPT, OFPTFFC, OFPTFPT, OFPTT } from '@nicvisor/openflow';
import type {
  FlowStats,
  FlowStatsRequest,
  MultipartReply,
  MultipartReplyBody,
  MultipartRequest,
  MultipartRequestBody,
  PortDescReply,
  PortStats,
  TableFeatures,
} from '@nicvisor/openflow';
import { filterMultipartReplies, filterMultipartReply, mergeAggregateReplies, verifyMultipartRequest } from './multipart.js';
import { accepted, apply, CUSTOM, CUSTOM_VIRTUAL, denied, goto, output, OWN, ownership, PHYS } from '../../test/fixtures.js';

const request = (body: MultipartRequestBody, flags = 0): MultipartRequest => ({ type: OFPT.MULTIPART_REQUEST, xid: 77, flags, body });
const reply = (body: MultipartReplyBody, flags = 0): MultipartReply => ({ type: OFPT.MULTIPART_REPLY, xid: 77, flags, body });

function flowRequest(mpType: FlowStatsRequest['mpType'], tableId: number): MultipartRequest {
  return request({ mpType, tableId, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
}

function flowStats(tableId: number, fields: Partial<FlowStats> = {}): FlowStats {
  return {
    tableId,
    durationSec: 1,
    durationNsec: 0,
    priority: 1,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: 0n,
    packetCount: 0n,
    byteCount: 0n,
    match: [],
    instructions: [],
    ...fields,
  };
}

type Port = PortDescReply['entries'][number];

function portDesc(portNo: number): Port {
  return {
    portNo,
    hwAddr: '02:00:00:00:00:01',
    name: `p${portNo}`,
    config: 0,
    state: 0,
    curr: 0,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: 0,
    maxSpeed: 0,
  };
}

function features(tableId: number, next: number[]): TableFeatures {
  return {
    tableId,
    name: `t${tableId}`,
    metadataMatch: 0n,
    metadataWrite: 0n,
    config: 0,
    maxEntries: 1_000_000,
    properties: [
      { type: OFPTFPT.NEXT_TABLES, nextTableIds: next },
      { type: OFPTFPT.NEXT_TABLES_MISS, nextTableIds: next },
      { type: OFPTFPT.INSTRUCTIONS, instructionIds: [{ type: 1 }] },
    ],
  };
}

type Accepted = { ok: true; messages: MultipartRequest[]; reply: string };
function ok(v: ReturnType<typeof verifyMultipartRequest>): Accepted {
  if (!v.ok) throw new Error(`denied: ${JSON.stringify(v.error)}`);
  return v;
}

describe('multipart requests', () => {
  it('multipart FLOW: a view table is translated to physical', () => {
    const v = ok(verifyMultipartRequest(OWN, flowRequest(OFPMP.FLOW, 2)));
    expect(v.messages).toEqual([flowRequest(OFPMP.FLOW, 3)]);
    expect(v.reply).toBe('each');
  });

  it('multipart FLOW: OFPTT_ALL goes out as is, the reply is filtered to the tenant\'s tables', () => {
    const v = ok(verifyMultipartRequest(OWN, flowRequest(OFPMP.FLOW, OFPTT.ALL)));
    expect(v.messages).toEqual([flowRequest(OFPMP.FLOW, OFPTT.ALL)]);
    expect(v.reply).toBe('each');
  });

  it('multipart FLOW / AGGREGATE: table outside the view → OFPBRC_BAD_TABLE_ID, not owned → OFPBRC_EPERM', () => {
    expect(denied(verifyMultipartRequest(OWN, flowRequest(OFPMP.FLOW, 7)))).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID]);
    expect(denied(verifyMultipartRequest(PHYS, flowRequest(OFPMP.AGGREGATE, 0)))).toEqual([OFPET.BAD_REQUEST, OFPBRC.EPERM]);
  });

  it('multipart AGGREGATE: OFPTT_ALL fans out one request per owned table, replies merged', () => {
    const v = ok(verifyMultipartRequest(CUSTOM, flowRequest(OFPMP.AGGREGATE, OFPTT.ALL)));
    expect(v.reply).toBe('aggregate');
    expect(v.messages.map((m) => (m.body as FlowStatsRequest).tableId)).toEqual([1, 2, 4, 5, 6, 7]);
    expect(v.messages.every((m) => m.xid === 77)).toBe(true);
  });

  it('multipart TABLE_FEATURES: a request that sets features → OFPTFFC_EPERM; an empty one passes', () => {
    expect(denied(verifyMultipartRequest(OWN, request({ mpType: OFPMP.TABLE_FEATURES, entries: [features(0, [])] })))).toEqual([
      OFPET.TABLE_FEATURES_FAILED,
      OFPTFFC.EPERM,
    ]);
    expect(ok(verifyMultipartRequest(OWN, request({ mpType: OFPMP.TABLE_FEATURES, entries: [] }))).messages).toHaveLength(1);
  });

  it('multipart EXPERIMENTER → OFPBRC_BAD_EXPERIMENTER', () => {
    const body = { mpType: OFPMP.EXPERIMENTER, experimenter: 0x2320, expType: 0, data: Buffer.alloc(0) } as const;
    expect(denied(verifyMultipartRequest(OWN, request(body)))).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER]);
  });

  it('multipart TABLE / PORT_STATS / GROUP / METER_CONFIG / PORT_DESC / DESC requests go out unchanged', () => {
    const bodies: MultipartRequestBody[] = [
      { mpType: OFPMP.TABLE },
      { mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY },
      { mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: 0xffffffff },
      { mpType: OFPMP.GROUP, groupId: OFPG.ALL },
      { mpType: OFPMP.GROUP_DESC },
      { mpType: OFPMP.METER, meterId: 0xffffffff },
      { mpType: OFPMP.METER_CONFIG, meterId: 0xffffffff },
      { mpType: OFPMP.PORT_DESC },
      { mpType: OFPMP.DESC },
    ];
    for (const body of bodies) expect(accepted(verifyMultipartRequest(OWN, request(body)))).toEqual([request(body)]);
  });
});

describe('multipart replies', () => {
  it('reply FLOW: operator-table entries dropped, table ids and goto targets translated to the view', () => {
    const r = reply({
      mpType: OFPMP.FLOW,
      entries: [flowStats(0, { cookie: 0x6e76_0000_0000_0001n }), flowStats(1, { instructions: [apply(output(2)), goto(5)] }), flowStats(7)],
    });
    const out = filterMultipartReply(OWN, r);
    expect(out?.body).toEqual({
      mpType: OFPMP.FLOW,
      entries: [flowStats(0, { instructions: [apply(output(2)), goto(4)] }), flowStats(6)],
    });
  });

  it('reply TABLE: only owned tables, translated', () => {
    const t = (tableId: number) => ({ tableId, activeCount: tableId, lookupCount: 0n, matchedCount: 0n });
    const out = filterMultipartReply(CUSTOM_VIRTUAL, reply({ mpType: OFPMP.TABLE, entries: [t(0), t(1), t(2), t(3), t(4)] }));
    expect(out?.body).toEqual({ mpType: OFPMP.TABLE, entries: [{ ...t(1), tableId: 0 }, { ...t(2), tableId: 1 }, { ...t(4), tableId: 2 }] });
  });

  it('reply TABLE_FEATURES: owned tables only, ids translated, NEXT_TABLES(_MISS) narrowed to owned tables, max_entries clamped to the flow quota', () => {
    const own = CUSTOM_VIRTUAL;
    const out = filterMultipartReply(own, reply({ mpType: OFPMP.TABLE_FEATURES, entries: [features(0, [1, 2, 3, 4]), features(2, [3, 4, 5])] }));
    expect(out?.body).toEqual({
      mpType: OFPMP.TABLE_FEATURES,
      entries: [
        {
          ...features(2, []),
          tableId: 1,
          maxEntries: own.quotas.maxFlows,
          properties: [
            { type: OFPTFPT.NEXT_TABLES, nextTableIds: [2, 3] },
            { type: OFPTFPT.NEXT_TABLES_MISS, nextTableIds: [2, 3] },
            { type: OFPTFPT.INSTRUCTIONS, instructionIds: [{ type: 1 }] },
          ],
        },
      ],
    });
  });

  it('reply PORT_DESC / PORT_STATS / QUEUE: only the instance\'s ports', () => {
    const desc = filterMultipartReply(OWN, reply({ mpType: OFPMP.PORT_DESC, entries: [portDesc(1), portDesc(3), portDesc(OFPP.LOCAL), portDesc(2)] }));
    expect(desc?.body).toEqual({ mpType: OFPMP.PORT_DESC, entries: [portDesc(1), portDesc(2)] });
    const q = (portNo: number) => ({ portNo, queueId: 0, txBytes: 0n, txPackets: 0n, txErrors: 0n, durationSec: 0, durationNsec: 0 });
    expect(filterMultipartReply(OWN, reply({ mpType: OFPMP.QUEUE, entries: [q(4), q(2)] }))?.body).toEqual({ mpType: OFPMP.QUEUE, entries: [q(2)] });
    const zero = 0n;
    const ps = (portNo: number) => ({
      portNo,
      ...Object.fromEntries(
        ['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped', 'rxErrors', 'txErrors', 'rxFrameErr', 'rxOverErr', 'rxCrcErr', 'collisions'].map(
          (k) => [k, zero],
        ),
      ),
      durationSec: 0,
      durationNsec: 0,
    }) as PortStats;
    expect(filterMultipartReply(OWN, reply({ mpType: OFPMP.PORT_STATS, entries: [ps(1), ps(9)] }))?.body).toEqual({
      mpType: OFPMP.PORT_STATS,
      entries: [ps(1)],
    });
  });

  it('reply GROUP / GROUP_DESC / METER / METER_CONFIG: operator ids dropped', () => {
    const g = (groupId: number) => ({ groupType: 0, groupId, buckets: [] });
    expect(filterMultipartReply(OWN, reply({ mpType: OFPMP.GROUP_DESC, entries: [g(1), g(0xf0000000)] }))?.body).toEqual({
      mpType: OFPMP.GROUP_DESC,
      entries: [g(1)],
    });
    const m = (meterId: number) => ({ flags: 0, meterId, bands: [] });
    expect(filterMultipartReply(OWN, reply({ mpType: OFPMP.METER_CONFIG, entries: [m(0xfffffffe), m(2), m(0xf0000001)] }))?.body).toEqual({
      mpType: OFPMP.METER_CONFIG,
      entries: [m(2)],
    });
  });

  it('reply GROUP_FEATURES / METER_FEATURES: maxima clamped to the quotas', () => {
    const own = ownership({ quotas: { maxGroups: 8, maxMeters: 4 } });
    const gf = filterMultipartReply(own, reply({ mpType: OFPMP.GROUP_FEATURES, types: 15, capabilities: 0, maxGroups: [100, 5, 100, 100], actions: [0, 0, 0, 0] }));
    expect(gf?.body).toMatchObject({ maxGroups: [8, 5, 8, 8] });
    const mf = filterMultipartReply(own, reply({ mpType: OFPMP.METER_FEATURES, maxMeter: 1000, bandTypes: 2, capabilities: 0, maxBands: 1, maxColor: 0 }));
    expect(mf?.body).toMatchObject({ maxMeter: 4 });
  });

  it('reply DESC passes unchanged', () => {
    const r = reply({ mpType: OFPMP.DESC, mfrDesc: 'm', hwDesc: 'h', swDesc: 's', serialNum: '1', dpDesc: 'd' });
    expect(filterMultipartReply(OWN, r)).toBe(r);
  });

  it('mergeAggregateReplies: sums the per-table replies under the vNF\'s xid', () => {
    const agg = (p: bigint, f: number) => reply({ mpType: OFPMP.AGGREGATE, packetCount: p, byteCount: p * 64n, flowCount: f });
    expect(mergeAggregateReplies(5, [agg(1n, 2), agg(10n, 3)])).toEqual({ ...agg(11n, 5), xid: 5 });
    expect(mergeAggregateReplies(5, [])).toEqual({ ...agg(0n, 0), xid: 5 });
  });
});

describe('a whole multipart reply (every part from the NIC)', () => {
  const MORE = OFPMPF.REPLY_MORE;
  const operatorOnly = (flags: number) => reply({ mpType: OFPMP.FLOW, entries: [flowStats(0)] }, flags);
  const tenants = (flags: number) => reply({ mpType: OFPMP.FLOW, entries: [flowStats(1), flowStats(2)] }, flags);

  it('a final part filtered to nothing is dropped and the last non-empty part ends the reply', () => {
    const out = filterMultipartReplies(OWN, [tenants(MORE), tenants(MORE), operatorOnly(0)]);
    expect(out.map((p) => p.flags)).toEqual([MORE, 0]);
    expect(out.map((p) => ('entries' in p.body ? p.body.entries.length : -1))).toEqual([2, 2]);
  });

  it('empty parts in the middle are dropped, the flags stay right', () => {
    expect(filterMultipartReplies(OWN, [operatorOnly(MORE), tenants(MORE), operatorOnly(MORE), tenants(0)]).map((p) => p.flags)).toEqual([MORE, 0]);
  });

  it('a reply filtered to nothing is one empty final part', () => {
    const out = filterMultipartReplies(OWN, [operatorOnly(MORE), operatorOnly(MORE), operatorOnly(0)]);
    expect(out).toEqual([reply({ mpType: OFPMP.FLOW, entries: [] }, 0)]);
  });

  it('a reply without entries (DESC) passes through', () => {
    const desc = reply({ mpType: OFPMP.DESC, mfrDesc: 'm', hwDesc: 'h', swDesc: 's', serialNum: 'n', dpDesc: 'd' });
    expect(filterMultipartReplies(OWN, [desc])).toEqual([desc]);
  });
});

