"""A reactive learning switch for os-ken, written for test/interop/vnf-clients.spec.ts.

Nothing in it knows about nicvisor: it treats its delegated channel as a
plain OpenFlow 1.3 switch. On connect it installs, in table 0:

    priority=0 (table-miss) -> CONTROLLER, whole packet

plus meter 1 (a generous kbps drop band, the fast path's policer) and,
once it knows the switch's ports (PORT_DESC), group 1 of type ALL with one
output bucket per port (the flood group: the switch never sends a packet
back out of its ingress port). Each packet-in of that table-miss teaches it
where the source MAC lives and is answered, classic style, with

    flow-mod  priority=10, in_port, eth_dst -> meter:1, output:<learned port> or group:1
    packet-out of the packet itself with the same actions

so the switch forwards the following packets of that flow by itself.

It appends one JSON object per line to $NICVISOR_OSKEN_LOG: "ready" after
the barrier that follows its set-up, every "packet-in" it receives, every
"error" the switch sends.
"""
import json
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

METER_ID = 1
FLOOD_GROUP = 1


def record(event, **fields):
    with open(os.environ['NICVISOR_OSKEN_LOG'], 'a', encoding='utf-8') as f:
        f.write(json.dumps({'event': event, **fields}) + '\n')


class ReactiveLearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ports = {}  # datapath id -> [port numbers]
        self.macs = {}  # datapath id -> {mac: port}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        miss = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=0, priority=0, match=parser.OFPMatch(), instructions=miss))
        bands = [parser.OFPMeterBandDrop(rate=10_000_000, burst_size=0)]
        dp.send_msg(parser.OFPMeterMod(datapath=dp, command=ofp.OFPMC_ADD, flags=ofp.OFPMF_KBPS, meter_id=METER_ID, bands=bands))
        dp.send_msg(parser.OFPPortDescStatsRequest(dp, 0))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def port_desc(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        ports = sorted(p.port_no for p in ev.msg.body if p.port_no <= ofp.OFPP_MAX)
        self.ports[dp.id] = ports
        buckets = [parser.OFPBucket(actions=[parser.OFPActionOutput(p)]) for p in ports]
        dp.send_msg(parser.OFPGroupMod(datapath=dp, command=ofp.OFPGC_ADD, type_=ofp.OFPGT_ALL, group_id=FLOOD_GROUP, buckets=buckets))
        dp.send_msg(parser.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply(self, ev):
        dp = ev.msg.datapath
        record('ready', datapath='%016x' % dp.id, ports=self.ports.get(dp.id, []))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        record('packet-in', datapath='%016x' % dp.id, table_id=msg.table_id, reason=msg.reason, in_port=in_port, eth_src=eth.src, eth_dst=eth.dst, total_len=msg.total_len)
        macs = self.macs.setdefault(dp.id, {})
        macs[eth.src] = in_port
        out = macs.get(eth.dst)
        actions = [parser.OFPActionOutput(out)] if out is not None and out != in_port else [parser.OFPActionGroup(FLOOD_GROUP)]
        inst = [parser.OFPInstructionMeter(METER_ID, ofp.OFPIT_METER), parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst)
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=0, priority=10, match=match, instructions=inst))
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port, actions=actions, data=msg.data))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        record('error', type=ev.msg.type, code=ev.msg.code)
