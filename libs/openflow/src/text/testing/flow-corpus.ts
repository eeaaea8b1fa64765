/**
 * ~50 diverse OpenFlow 1.3 flows in ovs-ofctl syntax, every match-field
 * family and instruction/action Open vSwitch 3.1 accepts: used by the
 * parser's round-trip tests and by the fidelity test against a real OVS.
 * Ports 1 and 2 only, group 1 and meter 1 (created first, see
 * CORPUS_GROUPS / CORPUS_METERS), tables 0..9.
 */
export const CORPUS_GROUPS = ['group_id=1,type=select,bucket=weight:1,actions=output:1,bucket=weight:3,actions=output:2', 'group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2', 'group_id=3,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2', 'group_id=4,type=indirect,bucket=actions=dec_ttl,output:2'];

export const CORPUS_METERS = ['meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100', 'meter=2,pktps,bands=type=drop,rate=50'];

export const FLOW_CORPUS: readonly string[] = [
  // L1 / metadata / tunnel
  'table=0,priority=1,in_port=1,actions=goto_table:1',
  'table=0,priority=2,in_port=2,actions=write_metadata:0x1/0xff,goto_table:1',
  'table=1,priority=10,metadata=0x1,actions=output:2',
  'table=1,priority=11,metadata=0x100/0xff00,actions=output:1',
  'table=1,priority=12,tun_id=0x64,actions=drop',
  'table=1,priority=13,tun_id=0x10/0xf0,actions=drop',
  // Ethernet
  'table=2,priority=20,dl_src=00:11:22:33:44:55,actions=output:1',
  'table=2,priority=21,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop',
  'table=2,priority=22,dl_dst=aa:bb:cc:dd:ee:ff,dl_src=00:00:00:00:00:01,actions=mod_dl_src:00:00:00:00:00:02,mod_dl_dst:00:00:00:00:00:03,output:2',
  'table=2,priority=23,dl_type=0x88cc,actions=CONTROLLER:65535',
  'table=2,priority=24,dl_type=0x1234,actions=controller:128',
  // VLAN
  'table=3,priority=30,dl_vlan=10,actions=pop_vlan,output:1',
  'table=3,priority=31,dl_vlan=20,dl_vlan_pcp=5,actions=set_field:4196->vlan_vid,output:2',
  'table=3,priority=32,vlan_tci=0x0000/0x1fff,actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:2',
  'table=3,priority=33,vlan_tci=0x1000/0x1000,actions=strip_vlan,output:1',
  'table=3,priority=34,dl_vlan_pcp=3,actions=set_field:6->vlan_pcp,output:1',
  // IPv4
  'table=4,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:192.168.1.1->ip_dst,goto_table:5',
  'table=4,priority=101,ip,nw_src=192.168.0.0/16,nw_dst=10.1.2.3,actions=mod_nw_src:1.2.3.4,output:1',
  'table=4,priority=102,ip,nw_src=10.0.0.0/255.0.255.0,actions=drop',
  'table=4,priority=103,ip,nw_tos=32,actions=mod_nw_tos:64,output:2',
  'table=4,priority=104,ip,ip_dscp=46,nw_ecn=1,actions=set_field:2->nw_ecn,output:2',
  'table=4,priority=105,ip,nw_proto=47,actions=dec_ttl,output:1',
  'table=4,priority=106,ip,actions=mod_nw_ttl:9,output:1',
  'table=4,priority=107,icmp,icmp_type=8,icmp_code=0,actions=CONTROLLER:65535',
  'table=4,priority=108,ip,nw_proto=2,actions=drop',
  // TCP / UDP / SCTP
  'table=5,priority=50,tcp,tp_dst=80,actions=output:2',
  'table=5,priority=51,tcp,nw_src=10.0.0.1,tp_src=1024,tp_dst=443,actions=mod_tp_dst:8443,output:2',
  'table=5,priority=52,tcp,tp_src=1234,actions=drop',
  'table=5,priority=53,udp,tp_dst=53,actions=set_field:5353->udp_dst,output:1',
  'table=5,priority=54,udp,tp_src=68,tp_dst=67,actions=CONTROLLER:65535',
  'table=5,priority=55,sctp,tp_dst=9899,actions=set_field:9900->sctp_dst,output:1',
  'table=5,priority=56,tcp,idle_timeout=60,hard_timeout=300,actions=output:1',
  // ARP
  'table=6,priority=60,arp,actions=output:1',
  'table=6,priority=61,arp,arp_op=1,arp_tpa=10.0.0.1,actions=CONTROLLER:65535',
  'table=6,priority=62,arp,arp_spa=10.0.0.0/8,arp_sha=00:11:22:33:44:55,actions=set_field:2->arp_op,output:2',
  'table=6,priority=63,arp,arp_tha=00:00:00:00:00:00,arp_tpa=192.168.0.0/16,actions=drop',
  // IPv6
  'table=7,priority=70,ipv6,ipv6_dst=2001:db8::/32,actions=output:2',
  'table=7,priority=71,ipv6,ipv6_src=fe80::1,ipv6_label=0x12345,actions=set_field:2001:db8::1->ipv6_dst,output:1',
  'table=7,priority=72,tcp6,ipv6_src=2001:db8:1::/48,tp_dst=22,actions=drop',
  'table=7,priority=73,udp6,tp_dst=546,actions=output:1',
  'table=7,priority=74,icmp6,icmp_type=135,nd_target=2001:db8::2,actions=CONTROLLER:65535',
  'table=7,priority=75,icmp6,icmp_type=135,nd_sll=00:11:22:33:44:55,actions=drop',
  'table=7,priority=76,icmp6,icmp_type=136,nd_tll=00:11:22:33:44:66,actions=drop',
  'table=7,priority=77,ipv6,ipv6_label=0x100/0xff00,actions=output:2',
  // MPLS
  'table=8,priority=80,mpls,mpls_label=100,actions=pop_mpls:0x0800,goto_table:9',
  'table=8,priority=81,mpls,mpls_label=200,mpls_tc=3,mpls_bos=1,actions=set_mpls_ttl:10,dec_mpls_ttl,output:1',
  'table=8,priority=82,ip,actions=push_mpls:0x8847,set_field:300->mpls_label,output:2',
  'table=8,priority=83,mplsm,actions=drop',
  // instructions, groups, meters, queues
  'table=9,priority=90,in_port=1,actions=meter:1,output:2',
  'table=9,priority=91,in_port=2,actions=group:1',
  'table=9,priority=92,ip,actions=clear_actions,write_actions(group:2),goto_table:10',
  'table=9,priority=93,tcp,actions=write_actions(set_field:10.0.0.9->ip_src,output:1)',
  'table=9,priority=94,udp,actions=meter:2,set_queue:1,output:1,write_metadata:0xff00/0xff00,goto_table:11',
  'table=9,priority=95,cookie=0x1234,actions=output:IN_PORT',
  'table=9,priority=96,actions=ALL',
  'table=9,priority=0,actions=drop',
  'table=10,actions=group:3',
  'table=11,priority=65535,in_port=1,dl_dst=ff:ff:ff:ff:ff:ff,actions=group:4,output:2',
];
