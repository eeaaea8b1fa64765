import { OFPAT, OFPFC, OFPGT, OFPIT, OFPMBT, OFPMF, OFPP, OFPTT } from '../constants.js';
import type { FlowStats } from '../messages/multipart.js';
import { flowMatchesFilter, formatFlowMod, formatFlowStats, formatGroupDesc, formatMeterConfig } from './dump.js';
import { FlowSyntaxError, parseFlowFilter, parseFlowMod, parseGroupMod, parseMeterMod } from './parse.js';
import { CORPUS_GROUPS, CORPUS_METERS, FLOW_CORPUS } from './testing/flow-corpus.js';

function stats(text: string): FlowStats {
  const fm = parseFlowMod(text);
  return { ...fm, durationSec: 1, durationNsec: 5e8, packetCount: 3n, byteCount: 180n };
}

describe('parseFlowMod round trip (parse → format → parse)', () => {
  it.each(FLOW_CORPUS.map((f) => [f]))('%s', (text) => {
    const fm = parseFlowMod(text);
    const again = parseFlowMod(formatFlowMod(fm));
    expect(again).toEqual(fm);
    // dump-flows output fed back (ovs-ofctl ignores duration, n_packets, n_bytes)
    const line = formatFlowStats(stats(text));
    expect(parseFlowMod(line)).toEqual(fm);
  });

  it('covers every match family and instruction', () => {
    const all = FLOW_CORPUS.map((f) => parseFlowMod(f));
    const fields = new Set(all.flatMap((f) => f.match.map((m) => ('field' in m ? String(m.field) : ''))));
    for (const f of ['in_port', 'metadata', 'tunnel_id', 'eth_src', 'eth_dst', 'eth_type', 'vlan_vid', 'vlan_pcp', 'ip_dscp', 'ip_ecn', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'icmpv6_type', 'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll', 'mpls_label', 'mpls_tc', 'mpls_bos']) {
      expect(fields).toContain(f);
    }
    const its = new Set(all.flatMap((f) => f.instructions.map((i) => i.type)));
    for (const t of Object.values(OFPIT).filter((t) => t !== OFPIT.EXPERIMENTER)) expect(its).toContain(t);
    expect(all.length).toBeGreaterThanOrEqual(50);
  });
});

describe('parseFlowMod', () => {
  it('reads the issue example', () => {
    const fm = parseFlowMod('table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:192.168.1.1->ip_dst,goto_table:1');
    expect(fm).toMatchObject({ command: OFPFC.ADD, tableId: 0, priority: 100 });
    expect(fm.match).toEqual([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' },
    ]);
    expect(fm.instructions).toEqual([
      { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.SET_FIELD, field: { field: 'ipv4_dst', value: '192.168.1.1' } }] },
      { type: OFPIT.GOTO_TABLE, tableId: 1 },
    ]);
  });

  it('reads aliases: mod_* actions, strip_vlan, controller(max_len=…), bare ports, cookie, timeouts, flags', () => {
    const fm = parseFlowMod('cookie=0x10,idle_timeout=5,hard_timeout=6,send_flow_rem,tcp,actions=mod_vlan_vid:5,mod_nw_tos:16,mod_tp_src:99,strip_vlan,controller(max_len=64),2,LOCAL');
    expect(fm).toMatchObject({ cookie: 0x10n, idleTimeout: 5, hardTimeout: 6, flags: 1 });
    expect((fm.instructions[0] as { actions: unknown[] }).actions).toEqual([
      { type: OFPAT.SET_FIELD, field: { field: 'vlan_vid', value: 0x1005 } },
      { type: OFPAT.SET_FIELD, field: { field: 'ip_dscp', value: 4 } },
      { type: OFPAT.SET_FIELD, field: { field: 'tcp_src', value: 99 } },
      { type: OFPAT.POP_VLAN },
      { type: OFPAT.OUTPUT, port: OFPP.CONTROLLER, maxLen: 64 },
      { type: OFPAT.OUTPUT, port: 2, maxLen: 0 },
      { type: OFPAT.OUTPUT, port: OFPP.LOCAL, maxLen: 0 },
    ]);
  });

  it('defaults del/mod to all tables and takes cookie masks there', () => {
    const fm = parseFlowMod('cookie=0x5/0xff,in_port=1', { command: 'delete', strict: true });
    expect(fm).toMatchObject({ command: OFPFC.DELETE_STRICT, tableId: OFPTT.ALL, cookie: 5n, cookieMask: 0xffn });
  });

  it.each([
    ['ip,nw_dts=1,actions=drop', 'nw_dts=1', 3],
    ['priority=70000,actions=drop', 'priority=70000', 0],
    ['ip,nw_dst=10.0.0.300,actions=drop', 'nw_dst=10.0.0.300', 3],
    ['nw_dst=10.0.0.1,actions=drop', 'nw_dst=10.0.0.1', 0],
    ['tp_dst=80,actions=drop', 'tp_dst=80', 0],
    ['in_port=1,actions=outptu:2', 'outptu:2', 18],
    ['in_port=1,actions=goto_table:1,output:2', 'output:2', 31],
    ['in_port=1', 'in_port=1', 0],
    ['in_port=1,actions=drop,output:1', 'drop', 18],
    ['dl_dst=00:11:22:33:44,actions=drop', 'dl_dst=00:11:22:33:44', 0],
    ['in_port=1,actions=write_actions(output:2,bogus)', 'bogus', 41],
  ])('%s: names the bad token', (text, token, position) => {
    let err: unknown;
    try {
      parseFlowMod(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlowSyntaxError);
    expect((err as FlowSyntaxError).token).toBe(token);
    expect((err as FlowSyntaxError).position).toBe(position);
    expect((err as FlowSyntaxError).message).toContain(`"${token}"`);
  });
});

describe('filters', () => {
  const flows = FLOW_CORPUS.map(stats);
  it('select like ovs-ofctl dump-flows: table, fields (non-strict), out_port, cookie', () => {
    const pick = (f: string, strict = false) => flows.filter((x) => flowMatchesFilter(x, parseFlowFilter(f, { strict }))).map((x) => x.priority);
    expect(pick('table=5,tcp')).toEqual([50, 51, 52, 56]);
    expect(pick('tcp,tp_dst=80')).toEqual([50]);
    expect(pick('ip,nw_dst=10.0.0.0/8')).toEqual([100, 101]);
    expect(pick('out_port=2,table=9')).toEqual([90, 94].filter((p) => p !== 94));
    expect(pick('cookie=0x1234/-1')).toEqual([95]);
    expect(pick('table=5,priority=50,tcp,tp_dst=80', true)).toEqual([50]);
    expect(pick('table=5,priority=50,tcp', true)).toEqual([]);
  });
});

describe('groups and meters', () => {
  it.each(CORPUS_GROUPS.map((g) => [g]))('group %s round-trips', (g) => {
    const gm = parseGroupMod(g);
    expect(parseGroupMod(formatGroupDesc(gm))).toEqual(gm);
  });
  it('formats dump-groups as OVS 3.1 does', () => {
    expect(formatGroupDesc(parseGroupMod('group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=weight:3,watch_port:3,actions=output:3'))).toBe(
      'group_id=1,type=select,bucket=actions=output:2,bucket=weight:3,watch_port:3,actions=output:3',
    );
    expect(parseGroupMod('group_id=3,type=ff,bucket=watch_port:1,output:1').groupType).toBe(OFPGT.FF);
  });
  it.each(CORPUS_METERS.map((m) => [m]))('meter %s parses', (m) => {
    expect(parseMeterMod(m).bands.length).toBe(1);
  });
  it('formats dump-meters as OVS 3.1 does', () => {
    const mm = parseMeterMod('meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100,type=dscp_remark,rate=10,prec_level=2');
    expect(mm).toMatchObject({ meterId: 1, flags: OFPMF.KBPS | OFPMF.BURST });
    expect(mm.bands[1]).toEqual({ type: OFPMBT.DSCP_REMARK, rate: 10, burstSize: 0, precLevel: 2 });
    expect(formatMeterConfig(mm)).toEqual(['meter=1 kbps burst bands=', 'type=drop rate=1000 burst_size=100', 'type=dscp_remark rate=10 burst_size=0 prec_level=2']);
  });
  it('names bad group and meter tokens', () => {
    expect(() => parseGroupMod('group_id=1,type=sel,bucket=output:1')).toThrow(/"type=sel"/);
    expect(() => parseMeterMod('meter=1,kbps,bands=type=drop,rat=5')).toThrow(/"rat=5"/);
  });
});
