/** PACKET_OUT from a vNF (§7.3.7). */
import { OFPAT, OFPBAC, OFPBRC, OFPET, OFPP } from '@nicvisor/openflow';
import type { PacketOut } from '@nicvisor/openflow';
import { Ownership } from '../model.js';
import { isInstancePort, isTenantTable } from '../view.js';
import { checkActions } from './actions.js';
import { accept, deny, Verdict } from './result.js';

/**
 * Verifies a packet-out; nothing is rewritten.
 * - in_port: one of the instance's ports, OFPP_CONTROLLER, or OFPP_ANY
 *   (which some clients send for "none"); else OFPBRC_BAD_PORT.
 * - actions as in `checkActions`, output to OFPP_TABLE allowed.
 * - OFPP_TABLE submits the packet to physical table 0 (OpenFlow has no
 *   other entry point). That is right: table 0 is the operator's steering
 *   table, so whatever the operator enforces there applies to injected
 *   packets too, and its `in_port=P → goto <tenant's first table>` flows
 *   land the packet in the vNF's table 0 as the vNF expects. But the
 *   steering table matches on in_port only and has no table-miss flow, so a
 *   packet with in_port CONTROLLER/ANY would be dropped without a word:
 *   when physical table 0 is the operator's, output:TABLE therefore needs
 *   in_port to be one of the instance's ports (else OFPBAC_BAD_OUT_PORT).
 */
export function verifyPacketOut(own: Ownership, po: PacketOut): Verdict<PacketOut> {
  const inPort = po.inPort;
  const instancePort = isInstancePort(own, inPort);
  if (!instancePort && inPort !== OFPP.CONTROLLER && inPort !== OFPP.ANY) {
    return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, `in_port 0x${inPort.toString(16)} is not one of the instance's`);
  }
  const error = checkActions(own, po.actions, 'packet-out');
  if (error) return { ok: false, error };
  if (!instancePort && !isTenantTable(own, 0)) {
    for (const a of po.actions) {
      if (a.type === OFPAT.OUTPUT && a.port === OFPP.TABLE) {
        return deny(
          OFPET.BAD_ACTION,
          OFPBAC.BAD_OUT_PORT,
          'output to TABLE needs in_port to be one of the instance\'s ports (the operator\'s table 0 steers by in_port)',
        );
      }
    }
  }
  return accept(po);
}
