/**
 * Flow text against Open vSwitch 3.1: every expected line below is what
 * `ovs-ofctl ofp-print HEX` (openvswitch-common 3.1.0-2+deb12u1) printed
 * for the flow-mod our encoder made of the object next to it.
 */
import { encodeMessage, OFPT, type FlowMod, type Match } from '@nicvisor/openflow';
import { formatActions, formatFlow, formatInstructions, formatMatch, formatMessage } from './index.js';

const base: FlowMod = {
  type: OFPT.FLOW_MOD,
  xid: 0,
  cookie: 0n,
  cookieMask: 0n,
  tableId: 0,
  command: 0,
  idleTimeout: 0,
  hardTimeout: 0,
  priority: 100,
  bufferId: 0xffffffff,
  outPort: 0xffffffff,
  outGroup: 0xffffffff,
  flags: 0,
  match: [],
  instructions: [],
};
const ip = { field: 'eth_type', value: 0x0800 } as const;
const ip6 = { field: 'eth_type', value: 0x86dd } as const;

const OVS_3_1: [string, Partial<FlowMod>][] = [
  [
    "ADD priority=100,ip,nw_src=10.0.2.0/255.0.255.0,nw_dst=10.0.0.0/24 actions=drop",
    { match: [ip, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }, { field: 'ipv4_src', value: '10.0.2.0', mask: '255.0.255.0' }] },
  ],
  [
    "ADD priority=100,tcp,tp_src=1234,tp_dst=80 actions=drop",
    { match: [ip, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }, { field: 'tcp_src', value: 1234 }] },
  ],
  [
    "ADD priority=100,udp,nw_tos=40,nw_ecn=1,tp_dst=53 actions=drop",
    { match: [ip, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 53 }, { field: 'ip_dscp', value: 10 }, { field: 'ip_ecn', value: 1 }] },
  ],
  [
    "ADD priority=100,icmp,icmp_type=8,icmp_code=0 actions=drop",
    { match: [ip, { field: 'ip_proto', value: 1 }, { field: 'icmpv4_type', value: 8 }, { field: 'icmpv4_code', value: 0 }] },
  ],
  [
    "ADD priority=100,ip,nw_proto=47 actions=drop",
    { match: [ip, { field: 'ip_proto', value: 47 }] },
  ],
  [
    "ADD priority=100,ipv6,ipv6_src=2001:db8::/32,ipv6_label=0x12345 actions=drop",
    { match: [ip6, { field: 'ipv6_src', value: '2001:db8::', mask: 'ffff:ffff::' }, { field: 'ipv6_flabel', value: 0x12345 }] },
  ],
  [
    "ADD priority=100,icmp6,icmp_type=135,nd_target=fe80::1,nd_sll=00:11:22:33:44:55 actions=drop",
    { match: [ip6, { field: 'ip_proto', value: 58 }, { field: 'icmpv6_type', value: 135 }, { field: 'ipv6_nd_target', value: 'fe80::1' }, { field: 'ipv6_nd_sll', value: '00:11:22:33:44:55' }] },
  ],
  [
    "ADD priority=100,sctp6,tp_dst=9 actions=drop",
    { match: [ip6, { field: 'ip_proto', value: 132 }, { field: 'sctp_dst', value: 9 }] },
  ],
  [
    "ADD priority=100,vlan_tci=0x0000/0x1fff actions=drop",
    { match: [{ field: 'vlan_vid', value: 0 }] },
  ],
  [
    "ADD priority=100,vlan_tci=0x1000/0x1000 actions=drop",
    { match: [{ field: 'vlan_vid', value: 0x1000, mask: 0x1000 }] },
  ],
  [
    "ADD priority=100,dl_vlan=5,dl_vlan_pcp=3 actions=drop",
    { match: [{ field: 'vlan_vid', value: 0x1005 }, { field: 'vlan_pcp', value: 3 }] },
  ],
  [
    "ADD priority=100,dl_vlan_pcp=3 actions=drop",
    { match: [{ field: 'vlan_vid', value: 0x1000, mask: 0x1000 }, { field: 'vlan_pcp', value: 3 }] },
  ],
  [
    "ADD priority=100,metadata=0,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    { match: [{ field: 'metadata', value: 0n }, { field: 'eth_dst', value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' }] },
  ],
  [
    "ADD priority=100,mpls,metadata=0x10/0xf0,mpls_label=16,mpls_tc=2,mpls_bos=1 actions=drop",
    { match: [{ field: 'metadata', value: 0x10n, mask: 0xf0n }, { field: 'eth_type', value: 0x8847 }, { field: 'mpls_label', value: 16 }, { field: 'mpls_tc', value: 2 }, { field: 'mpls_bos', value: 1 }] },
  ],
  [
    "ADD in_port=LOCAL,dl_type=0x88cc actions=drop",
    { match: [{ field: 'eth_type', value: 0x88cc }, { field: 'in_port', value: 0xfffffffe }], priority: 32768 },
  ],
  [
    "ADD priority=0,tun_id=0x64/0xffff actions=drop",
    { match: [{ field: 'tunnel_id', value: 0x64n, mask: 0xffffn }], priority: 0 },
  ],
  [
    "ADD priority=100 actions=CONTROLLER:128,NORMAL,IN_PORT,FLOOD,LOCAL,TABLE",
    { instructions: [{ type: 4, actions: [{ type: 0, port: 0xfffffffd, maxLen: 128 }, { type: 0, port: 0xfffffffa, maxLen: 0 }, { type: 0, port: 0xfffffff8, maxLen: 0 }, { type: 0, port: 0xfffffffb, maxLen: 0 }, { type: 0, port: 0xfffffffe, maxLen: 0 }, { type: 0, port: 0xfffffff9, maxLen: 0 }] }] },
  ],
  [
    "ADD priority=100,dl_vlan=1 actions=push_vlan:0x8100,set_field:4101->vlan_vid,set_field:2->vlan_pcp,set_field:00:00:00:00:00:01->eth_src,set_queue:3,group:7",
    { match: [{ field: 'vlan_vid', value: 0x1001 }], instructions: [{ type: 4, actions: [{ type: 17, ethertype: 0x8100 }, { type: 25, field: { field: 'vlan_vid', value: 0x1005 } }, { type: 25, field: { field: 'vlan_pcp', value: 2 } }, { type: 25, field: { field: 'eth_src', value: '00:00:00:00:00:01' } }, { type: 21, queueId: 3 }, { type: 22, groupId: 7 }] }] },
  ],
  [
    "ADD priority=100,tcp actions=set_field:1.2.3.4->ip_src,set_field:99->tcp_src,set_field:8->ip_dscp,set_field:2->nw_ecn,mod_nw_ttl:9,dec_ttl",
    { match: [ip, { field: 'ip_proto', value: 6 }], instructions: [{ type: 4, actions: [{ type: 25, field: { field: 'ipv4_src', value: '1.2.3.4' } }, { type: 25, field: { field: 'tcp_src', value: 99 } }, { type: 25, field: { field: 'ip_dscp', value: 8 } }, { type: 25, field: { field: 'ip_ecn', value: 2 } }, { type: 23, nwTtl: 9 }, { type: 24 }] }] },
  ],
  [
    "ADD priority=100,mpls actions=set_mpls_ttl(4),dec_mpls_ttl,pop_mpls:0x0800",
    { match: [{ field: 'eth_type', value: 0x8847 }], instructions: [{ type: 4, actions: [{ type: 15, mplsTtl: 4 }, { type: 16 }, { type: 20, ethertype: 0x0800 }] }] },
  ],
  [
    "ADD priority=100,ip actions=push_mpls:0x8847,set_field:20->mpls_label,set_field:0x99->tun_id,set_field:0x5->metadata",
    { match: [ip], instructions: [{ type: 4, actions: [{ type: 19, ethertype: 0x8847 }, { type: 25, field: { field: 'mpls_label', value: 20 } }, { type: 25, field: { field: 'tunnel_id', value: 0x99n } }, { type: 25, field: { field: 'metadata', value: 0x5n } }] }] },
  ],
  [
    "ADD priority=100,ipv6 actions=set_field:2001:db8::1->ipv6_dst,set_field:0x7->ipv6_label",
    { match: [ip6], instructions: [{ type: 4, actions: [{ type: 25, field: { field: 'ipv6_dst', value: '2001:db8::1' } }, { type: 25, field: { field: 'ipv6_flabel', value: 7 } }] }] },
  ],
  [
    "ADD priority=100 actions=meter:2,clear_actions,write_actions(pop_vlan,output:3),write_metadata:0x1/0xff,goto_table:3",
    { instructions: [{ type: 2, metadata: 0x1n, metadataMask: 0xffn }, { type: 1, tableId: 3 }, { type: 5, actions: [] }, { type: 6, meterId: 2 }, { type: 3, actions: [{ type: 18 }, { type: 0, port: 3, maxLen: 0 }] }] },
  ],
  [
    "ADD priority=100 actions=write_metadata:0",
    { instructions: [{ type: 2, metadata: 0x0n, metadataMask: 0xffffffffffffffffn }] },
  ],
  [
    "DEL table:255 priority=5 cookie:0x10/0xff idle:10 hard:20 out_port:5 send_flow_rem check_overlap reset_counts no_packet_counts no_byte_counts actions=drop",
    { command: 3, tableId: 255, cookie: 0x10n, cookieMask: 0xffn, outPort: 5, outGroup: 4, idleTimeout: 10, hardTimeout: 20, flags: 0x1f, priority: 5 },
  ],
  [
    "MOD table:3 priority=100 buf:0x7 send_flow_rem actions=drop",
    { command: 1, cookie: 0x10n, cookieMask: 0n, tableId: 3, flags: 1, bufferId: 7 },
  ],
  [
    "DEL_STRICT table:9 priority=100 cookie:0x10/0xff actions=drop",
    { command: 4, tableId: 9, cookie: 0x10n, cookieMask: 0xffn },
  ],
  [
    "ADD priority=100,arp,arp_spa=10.0.0.0/16,arp_op=2,arp_sha=00:11:22:00:00:00/ff:ff:ff:00:00:00 cookie:0x55 actions=drop",
    { command: 0, cookie: 0x55n, match: [{ field: 'eth_type', value: 0x0806 }, { field: 'arp_op', value: 2 }, { field: 'arp_spa', value: '10.0.0.0', mask: '255.255.0.0' }, { field: 'arp_sha', value: '00:11:22:00:00:00', mask: 'ff:ff:ff:00:00:00' }] },
  ],
];

describe('flow-mods as ovs-ofctl 3.1 prints them', () => {
  it.each(OVS_3_1)('%s', (expected, fields) => {
    const fm = { ...base, ...fields } as FlowMod;
    // The object must be encodable: ovs-ofctl was given its bytes.
    expect(encodeMessage(fm).length).toBeGreaterThan(0);
    expect(formatMessage(fm)).toBe(`OFPT_FLOW_MOD (OF1.3) (xid=0x0): ${expected}`);
  });
});

describe('formatMatch', () => {
  it('is empty for the empty match and leaves priority out', () => {
    expect(formatMatch([])).toBe('');
    expect(formatFlow(0x8000, [])).toBe('');
    expect(formatFlow(7, [])).toBe('priority=7');
  });

  it('puts the protocol shorthand first and fields in OVS order, whatever the wire order', () => {
    const m: Match = [
      { field: 'tcp_dst', value: 22 },
      { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' },
      { field: 'ip_proto', value: 6 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'in_port', value: 2 },
    ];
    expect(formatMatch(m)).toBe('tcp,in_port=2,nw_dst=10.0.0.0/24,tp_dst=22');
  });

  it('prints dl_type for ethertypes without a shorthand, and masked values masked', () => {
    expect(formatMatch([{ field: 'eth_type', value: 0x88cc }])).toBe('dl_type=0x88cc');
    expect(formatMatch([{ field: 'eth_src', value: 'aa:bb:cc:dd:ee:ff', mask: 'ff:ff:ff:00:00:00' }])).toBe(
      'dl_src=aa:bb:cc:00:00:00/ff:ff:ff:00:00:00',
    );
    expect(formatMatch([{ field: 'metadata', value: 0x1234n, mask: 0xff00n }])).toBe('metadata=0x1200/0xff00');
  });

  it('shows fields OVS has no name for, and opaque TLVs, after the rest', () => {
    const m: Match = [
      { oxmClass: 0xffff, field: 3, hasMask: false, payload: Buffer.from('4f4e4600abcd', 'hex') },
      { field: 'pbb_isid', value: 0xabcdef },
      { oxmClass: 0x0001, field: 31, hasMask: false, payload: Buffer.from([10, 0, 0, 1]) },
      { oxmClass: 0x0001, field: 5, hasMask: true, payload: Buffer.from('00ff00ff', 'hex') },
      { field: 'in_port', value: 1 },
    ];
    expect(formatMatch(m)).toBe('tun_src=10.0.0.1,in_port=1,oxm:experimenter=0x4f4e4600:3=0xabcd,pbb_isid=0xabcdef,oxm:NXM_1:5=0x00ff/0x00ff');
  });
});

describe('formatActions and formatInstructions', () => {
  it('says drop for nothing', () => {
    expect(formatActions([])).toBe('drop');
    expect(formatInstructions([])).toBe('drop');
    expect(formatInstructions([{ type: 4, actions: [] }])).toBe('drop');
  });

  it('prints outputs, set-field, PBB and experimenter actions', () => {
    expect(
      formatActions([
        { type: 0, port: 2, maxLen: 0 },
        { type: 0, port: 0xfffffffd, maxLen: 0xffff },
        { type: 25, field: { field: 'ipv4_dst', value: '192.168.1.1' } },
        { type: 26, ethertype: 0x88e7 },
        { type: 27 },
        { type: 0xffff, experimenter: 0x2320, data: Buffer.from('0001', 'hex') },
      ]),
    ).toBe('output:2,CONTROLLER:65535,set_field:192.168.1.1->ip_dst,push_pbb:0x88e7,pop_pbb,experimenter:0x2320(0001)');
  });

  it('orders instructions as OVS does: meter, apply, clear, write, metadata, goto', () => {
    expect(
      formatInstructions([
        { type: 1, tableId: 1 },
        { type: 2, metadata: 0xan, metadataMask: 0xffn },
        { type: 3, actions: [{ type: 22, groupId: 1 }] },
        { type: 5, actions: [] },
        { type: 4, actions: [{ type: 18 }] },
        { type: 6, meterId: 1 },
      ]),
    ).toBe('meter:1,pop_vlan,clear_actions,write_actions(group:1),write_metadata:0xa/0xff,goto_table:1');
  });
});
