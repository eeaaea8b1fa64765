"""An ordinary os-ken app, unaware of nicvisor, for test/e2e/two-tenants.spec.ts.

On the switch's FEATURES_REPLY it installs one flow in table 0, the first
table it sees:

    priority=10, eth_type=ipv4, ipv4_dst=10.0.0.1 -> output:$NICVISOR_OUT_PORT

and sends a barrier. Run by osken-manager in its usual mode (it listens, the
switch connects), so nicvisor's delegated channel dials it (connect mode).
"""
import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


class Table0App(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        out_port = int(os.environ.get('NICVISOR_OUT_PORT', '1'))
        match = parser.OFPMatch(eth_type=0x0800, ipv4_dst='10.0.0.1')
        actions = [parser.OFPActionOutput(out_port)]
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=0, priority=10, match=match, instructions=inst))
        dp.send_msg(parser.OFPBarrierRequest(dp))
        self.logger.info('nicvisor-e2e: flow sent to datapath %016x', dp.id)

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply(self, ev):
        self.logger.info('nicvisor-e2e: barrier reply from datapath %016x', ev.msg.datapath.id)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def error(self, ev):
        m = ev.msg
        self.logger.info('nicvisor-e2e: error type=%d code=%d', m.type, m.code)
