/**
 * Ownership enforcement for everything a vNF sends: one verification
 * function per message kind (policy/*.ts), and `verifyFromVnf`, which
 * dispatches a decoded message to its function or says who handles it.
 */
import { OFPBRC, OFPET, OFPT } from '@nicvisor/openflow';
import type { OfpMessage } from '@nicvisor/openflow';
import { Ownership, Usage } from './model.js';
import { verifyFlowMod } from './policy/flow-mod.js';
import { verifyGroupMod, verifyMeterMod } from './policy/group-meter.js';
import { ReplyPlan, verifyMultipartRequest } from './policy/multipart.js';
import { verifyPacketOut } from './policy/packet-out.js';
import { Denied, deny } from './policy/result.js';
import { verifyPortMod, verifyQueueGetConfig, verifyTableMod } from './policy/switch.js';

export * from './policy/result.js';
export * from './policy/actions.js';
export * from './policy/flow-mod.js';
export * from './policy/flow-mod-wire.js';
export * from './policy/packet-out.js';
export * from './policy/group-meter.js';
export * from './policy/switch.js';
export * from './policy/multipart.js';

/**
 * Messages the delegated channel answers itself, per vNF connection, and
 * never passes to the NIC (where nicvisor holds the only, master, session):
 */
export const CHANNEL_LOCAL: Readonly<Partial<Record<number, string>>> = Object.freeze({
  [OFPT.HELLO]: 'version negotiation is per connection',
  [OFPT.ERROR]: 'an error from the vNF is logged, nothing is sent on',
  [OFPT.ECHO_REQUEST]: 'liveness of the vNF connection: answered with its data',
  [OFPT.ECHO_REPLY]: 'liveness of the vNF connection',
  [OFPT.FEATURES_REQUEST]: 'the instance\'s datapath id, n_tables of the view, n_buffers and capabilities',
  [OFPT.GET_CONFIG_REQUEST]: 'flags and miss_send_len are kept per vNF connection',
  [OFPT.SET_CONFIG]: 'flags and miss_send_len are kept per vNF connection (applied when relaying packet-ins)',
  [OFPT.ROLE_REQUEST]: 'roles are per vNF connection (generation id per vNF); nicvisor is the NIC\'s only master',
  [OFPT.GET_ASYNC_REQUEST]: 'async masks are per vNF connection',
  [OFPT.SET_ASYNC]: 'async masks are per vNF connection (applied when relaying async messages)',
});

/**
 * Messages only a switch sends: a vNF (a controller) sending one gets
 * OFPBRC_BAD_TYPE.
 */
const SWITCH_ONLY: ReadonlySet<number> = new Set<number>([
  OFPT.FEATURES_REPLY,
  OFPT.GET_CONFIG_REPLY,
  OFPT.PACKET_IN,
  OFPT.FLOW_REMOVED,
  OFPT.PORT_STATUS,
  OFPT.MULTIPART_REPLY,
  OFPT.BARRIER_REPLY,
  OFPT.QUEUE_GET_CONFIG_REPLY,
  OFPT.ROLE_REPLY,
  OFPT.GET_ASYNC_REPLY,
]);

/**
 * What happens to one message from a vNF:
 * - `to: 'nic'`: send `messages` (physical terms, the vNF's xid) to the
 *   NIC instance; `reply` says how multipart replies come back (see
 *   `ReplyPlan`). BARRIER_REQUEST goes this way unchanged, after the
 *   vNF's earlier messages, so its reply means they are all done.
 * - `to: 'channel'`: answered or absorbed by the vNF's connection (`CHANNEL_LOCAL`).
 * - denied: answer with `errorReply(error, xid, rawBytes)`; the channel stays up.
 *
 * Whether the connection's role allows the message (OFPBRC_IS_SLAVE for a
 * slave's modifications) is the channel's check, not ownership.
 */
export type Handling =
  | { ok: true; to: 'nic'; messages: OfpMessage[]; reply?: ReplyPlan }
  | { ok: true; to: 'channel'; why: string }
  | Denied;

function nic(v: { ok: true; messages: OfpMessage[] } | Denied, reply?: ReplyPlan): Handling {
  if (!v.ok) return v;
  return reply === undefined ? { ok: true, to: 'nic', messages: v.messages } : { ok: true, to: 'nic', messages: v.messages, reply };
}

/** Dispatches one decoded message from a vNF to its verification function. */
export function verifyFromVnf(own: Ownership, msg: OfpMessage, usage: Usage): Handling {
  switch (msg.type) {
    case OFPT.FLOW_MOD:
      return nic(verifyFlowMod(own, msg, usage));
    case OFPT.PACKET_OUT:
      return nic(verifyPacketOut(own, msg));
    case OFPT.GROUP_MOD:
      return nic(verifyGroupMod(own, msg, usage));
    case OFPT.METER_MOD:
      return nic(verifyMeterMod(own, msg, usage));
    case OFPT.TABLE_MOD:
      return nic(verifyTableMod(own, msg));
    case OFPT.PORT_MOD:
      return nic(verifyPortMod(own, msg));
    case OFPT.QUEUE_GET_CONFIG_REQUEST:
      return nic(verifyQueueGetConfig(own, msg));
    case OFPT.MULTIPART_REQUEST: {
      const v = verifyMultipartRequest(own, msg);
      return v.ok ? nic(v, v.reply) : v;
    }
    case OFPT.BARRIER_REQUEST:
      return { ok: true, to: 'nic', messages: [msg] };
    case OFPT.EXPERIMENTER:
      return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, `experimenter 0x${msg.experimenter.toString(16)} is not supported`);
  }
  const local = CHANNEL_LOCAL[msg.type];
  if (local !== undefined) return { ok: true, to: 'channel', why: local };
  if (SWITCH_ONLY.has(msg.type)) return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `a controller does not send message type ${msg.type}`);
  return deny(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `unknown message type ${msg.type}`);
}
