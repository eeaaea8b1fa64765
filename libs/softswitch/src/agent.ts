/**
 * The OpenFlow agent: one session per controller connection to a switch
 * instance (OpenFlow 1.3.5 §6.3, §7.3). It negotiates the version, answers
 * every controller-to-switch message, enforces the connection's role, and
 * filters the asynchronous messages the instance broadcasts by role and
 * async configuration.
 *
 * Every request is handled to completion inside receive() (the instance is
 * synchronous), so a BARRIER_REPLY is sent after everything before it is
 * done by construction. receive() never throws: a request that cannot be
 * decoded or carried out is answered with the spec's ERROR, carrying the
 * request's xid and its first 64 bytes.
 */
import {
  decodeMessage,
  encodeMessage,
  ErrorMessage,
  messageLength,
  MultipartReply,
  MultipartReplyBody,
  MultipartRequest,
  negotiateVersion,
  OFP_HEADER_SIZE,
  OFP_MAX_MESSAGE_SIZE,
  OFP_VERSION,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPHFC,
  OFPMP,
  OFPMPF,
  OFPPR,
  OFPR,
  OFPRR,
  OFPT,
  OFPTFFC,
  OfpError,
  OfpMessage,
  ourHello,
  RoleMasks,
} from '@nicvisor/openflow';
import type { SwitchInstance } from './instance.js';

/** One OpenFlow connection's protocol state. */
export interface AgentSession {
  /** One complete raw OpenFlow message from the controller. */
  receive(raw: Buffer): void;
  /** The connection is gone: the session stops sending and leaves the instance. */
  close(): void;
}

/** The asynchronous message kinds the async configuration filters. */
export type AsyncKind = 'packetIn' | 'portStatus' | 'flowRemoved';

export interface AsyncMasks {
  packetIn: RoleMasks;
  portStatus: RoleMasks;
  flowRemoved: RoleMasks;
}

const ALL_PACKET_IN = (1 << OFPR.NO_MATCH) | (1 << OFPR.ACTION) | (1 << OFPR.INVALID_TTL);
const ALL_PORT_STATUS = (1 << OFPPR.ADD) | (1 << OFPPR.DELETE) | (1 << OFPPR.MODIFY);
const ALL_FLOW_REMOVED =
  (1 << OFPRR.IDLE_TIMEOUT) | (1 << OFPRR.HARD_TIMEOUT) | (1 << OFPRR.DELETE) | (1 << OFPRR.GROUP_DELETE) | (1 << OFPRR.METER_DELETE);

/** The default async configuration (§7.3.10): master/equal get everything, a slave only port-status. */
export function defaultAsyncMasks(): AsyncMasks {
  return {
    packetIn: [ALL_PACKET_IN, 0],
    portStatus: [ALL_PORT_STATUS, ALL_PORT_STATUS],
    flowRemoved: [ALL_FLOW_REMOVED, 0],
  };
}

/** Messages a slave may not send (§6.3.6). */
const SLAVE_DENIED = new Set<number>([OFPT.PACKET_OUT, OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.METER_MOD]);

/** Bytes of the offending request an ERROR carries. */
const ERROR_DATA_LEN = 64;

export class Agent implements AgentSession {
  /** OFPCR_ROLE_*: every connection starts EQUAL. */
  role: number = OFPCR_ROLE.EQUAL;
  async: AsyncMasks = defaultAsyncMasks();
  /** The version negotiated (0 until the peer's HELLO). */
  version = 0;
  private closed = false;
  private nextXid = 1;

  constructor(
    private readonly sw: SwitchInstance,
    private readonly send: (raw: Buffer) => void,
    private readonly onClose?: () => void,
  ) {}

  /** Sends our HELLO. */
  start(): void {
    this.sendMsg(ourHello(this.nextXid++));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sw.detach(this);
  }

  /** @internal does this session take an async message of this kind and reason? */
  wants(kind: AsyncKind, reason: number): boolean {
    if (this.closed || reason > 31) return false;
    const masks = this.async[kind];
    return ((masks[this.role === OFPCR_ROLE.SLAVE ? 1 : 0] >>> reason) & 1) === 1;
  }

  /** @internal */
  sendRaw(raw: Buffer): void {
    if (this.closed) return;
    try {
      this.send(raw);
    } catch {
      // The transport's failure is the transport's to report; the switch goes on.
    }
  }

  private sendMsg(msg: OfpMessage): void {
    this.sendRaw(encodeMessage(msg));
  }

  private sendError(type: number, code: number, xid: number, data: Buffer): void {
    const e: ErrorMessage = { type: OFPT.ERROR, xid, errorType: type, code, data };
    this.sendMsg(e);
  }

  receive(raw: Buffer): void {
    if (this.closed) return;
    const xid = raw.length >= OFP_HEADER_SIZE ? raw.readUInt32BE(4) : 0;
    try {
      this.handle(raw, xid);
    } catch (e) {
      const request = Buffer.from(raw.subarray(0, ERROR_DATA_LEN));
      if (e instanceof OfpError) {
        this.sendError(e.type, e.code, xid, request);
      } else {
        // A bug, not the controller's fault: answer something sane and keep it for inspection.
        this.sw.lastInternalError = e;
        try {
          this.sendError(OFPET.BAD_REQUEST, OFPBRC.EPERM, xid, request);
        } catch {
          // nothing more to do
        }
      }
    }
  }

  private handle(raw: Buffer, xid: number): void {
    if (raw.length >= 2 && raw[1] === OFPT.HELLO) {
      this.hello(raw, xid);
      return;
    }
    // The common FLOW_MOD (an ADD of OpenFlow-basic fields) straight from the wire; anything else, and any error, the slow way.
    if (raw.length >= 2 && raw[1] === OFPT.FLOW_MOD && this.role !== OFPCR_ROLE.SLAVE && this.sw.flowModWire(raw)) return;
    const msg = decodeMessage(raw);
    if (this.role === OFPCR_ROLE.SLAVE && (SLAVE_DENIED.has(msg.type) || isTableFeaturesSet(msg))) {
      throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, `${msg.type} from a slave`);
    }
    const sw = this.sw;
    switch (msg.type) {
      case OFPT.ERROR:
      case OFPT.ECHO_REPLY:
        return;
      case OFPT.ECHO_REQUEST:
        this.sendMsg({ type: OFPT.ECHO_REPLY, xid, data: msg.data });
        return;
      case OFPT.EXPERIMENTER:
        throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, `experimenter 0x${msg.experimenter.toString(16)}`);
      case OFPT.FEATURES_REQUEST:
        this.sendMsg(sw.features(xid));
        return;
      case OFPT.GET_CONFIG_REQUEST:
        this.sendMsg({ type: OFPT.GET_CONFIG_REPLY, xid, flags: sw.configFlags, missSendLen: sw.missSendLen });
        return;
      case OFPT.SET_CONFIG:
        sw.setConfig(msg.flags, msg.missSendLen);
        return;
      case OFPT.FLOW_MOD:
        sw.flowMod(msg, raw);
        return;
      case OFPT.GROUP_MOD:
        sw.groupMod(msg);
        return;
      case OFPT.METER_MOD:
        sw.meterMod(msg);
        return;
      case OFPT.PORT_MOD:
        sw.portMod(msg);
        return;
      case OFPT.TABLE_MOD:
        sw.tableMod(msg.tableId, msg.config);
        return;
      case OFPT.PACKET_OUT:
        sw.packetOut(msg);
        return;
      case OFPT.MULTIPART_REQUEST:
        this.multipart(msg);
        return;
      case OFPT.BARRIER_REQUEST:
        // Everything before it has been done: handling is synchronous.
        this.sendMsg({ type: OFPT.BARRIER_REPLY, xid });
        return;
      case OFPT.QUEUE_GET_CONFIG_REQUEST:
        sw.checkQueueRequest(msg.port);
        this.sendMsg({ type: OFPT.QUEUE_GET_CONFIG_REPLY, xid, port: msg.port, queues: [] });
        return;
      case OFPT.ROLE_REQUEST: {
        const r = sw.roleRequest(this, msg.role, msg.generationId);
        this.sendMsg({ type: OFPT.ROLE_REPLY, xid, role: r.role, generationId: r.generationId });
        return;
      }
      case OFPT.GET_ASYNC_REQUEST:
        this.sendMsg({
          type: OFPT.GET_ASYNC_REPLY,
          xid,
          packetInMask: [...this.async.packetIn],
          portStatusMask: [...this.async.portStatus],
          flowRemovedMask: [...this.async.flowRemoved],
        });
        return;
      case OFPT.SET_ASYNC:
        this.async = { packetIn: [...msg.packetInMask], portStatus: [...msg.portStatusMask], flowRemoved: [...msg.flowRemovedMask] };
        return;
      default:
        // Switch-to-controller messages, and replies: not something a switch is asked.
        throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `message type ${msg.type} is not a request to a switch`);
    }
  }

  private hello(raw: Buffer, xid: number): void {
    let msg: OfpMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.failHello(xid, `undecodable HELLO: ${e.message}`);
      return;
    }
    if (msg.type !== OFPT.HELLO) return;
    try {
      this.version = negotiateVersion(msg);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      this.failHello(xid, e.message);
    }
  }

  /** OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE with an ASCII explanation, then the connection ends (§7.5.1). */
  private failHello(xid: number, why: string): void {
    this.sendError(OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE, xid, Buffer.from(why.slice(0, 256), 'ascii'));
    this.close();
    try {
      this.onClose?.();
    } catch {
      // the transport's business
    }
  }

  // -------------------------------------------------------------------------
  // Multipart

  private multipart(req: MultipartRequest): void {
    const sw = this.sw;
    const xid = req.xid;
    const b = req.body;
    switch (b.mpType) {
      case OFPMP.DESC:
        this.reply(xid, { mpType: OFPMP.DESC, ...sw.desc() });
        return;
      case OFPMP.FLOW:
        this.reply(xid, { mpType: OFPMP.FLOW, entries: sw.flowStats(b as Extract<typeof b, { mpType: typeof OFPMP.FLOW }>) });
        return;
      case OFPMP.AGGREGATE:
        this.reply(xid, { mpType: OFPMP.AGGREGATE, ...sw.aggregateStats(b as Extract<typeof b, { mpType: typeof OFPMP.AGGREGATE }>) });
        return;
      case OFPMP.TABLE:
        this.reply(xid, { mpType: OFPMP.TABLE, entries: sw.allTableStats() });
        return;
      case OFPMP.PORT_STATS:
        this.reply(xid, { mpType: OFPMP.PORT_STATS, entries: sw.portStats((b as { portNo: number }).portNo) });
        return;
      case OFPMP.QUEUE: {
        const q = b as { portNo: number; queueId: number };
        sw.checkQueueRequest(q.portNo, q.queueId);
        this.reply(xid, { mpType: OFPMP.QUEUE, entries: [] });
        return;
      }
      case OFPMP.GROUP:
        this.reply(xid, { mpType: OFPMP.GROUP, entries: sw.groups.stats((b as { groupId: number }).groupId, (id) => sw.groupRefCount(id)) });
        return;
      case OFPMP.GROUP_DESC:
        this.reply(xid, { mpType: OFPMP.GROUP_DESC, entries: sw.groups.desc() });
        return;
      case OFPMP.GROUP_FEATURES:
        this.reply(xid, { mpType: OFPMP.GROUP_FEATURES, ...sw.groups.features() });
        return;
      case OFPMP.METER:
        this.reply(xid, { mpType: OFPMP.METER, entries: sw.meters.stats((b as { meterId: number }).meterId, (id) => sw.meterFlowCount(id)) });
        return;
      case OFPMP.METER_CONFIG:
        this.reply(xid, { mpType: OFPMP.METER_CONFIG, entries: sw.meters.config((b as { meterId: number }).meterId) });
        return;
      case OFPMP.METER_FEATURES:
        this.reply(xid, { mpType: OFPMP.METER_FEATURES, ...sw.meters.features() });
        return;
      case OFPMP.TABLE_FEATURES:
        if ('entries' in b && b.entries.length > 0) {
          // Reconfiguring the tables' features is not something this NIC does.
          throw new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'table features cannot be changed');
        }
        this.reply(xid, { mpType: OFPMP.TABLE_FEATURES, entries: sw.tableFeatures() });
        return;
      case OFPMP.PORT_DESC:
        this.reply(xid, { mpType: OFPMP.PORT_DESC, entries: sw.portDescs() });
        return;
      case OFPMP.EXPERIMENTER:
        throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, 'experimenter multipart');
      default:
        throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, `multipart type ${(b as { mpType: number }).mpType}`);
    }
  }

  /** Sends a multipart reply, split into messages under 64 KiB (all but the last with OFPMPF_REPLY_MORE). */
  private reply(xid: number, body: MultipartReplyBody): void {
    if (!('entries' in body)) {
      this.sendMsg({ type: OFPT.MULTIPART_REPLY, xid, flags: 0, body });
      return;
    }
    const entries = body.entries as unknown[];
    const overhead = OFP_HEADER_SIZE + 8;
    const limit = OFP_MAX_MESSAGE_SIZE - overhead;
    const part = (list: unknown[], flags: number): MultipartReply =>
      ({ type: OFPT.MULTIPART_REPLY, xid, flags, body: { ...body, entries: list } }) as MultipartReply;
    let chunk: unknown[] = [];
    let size = 0;
    for (const e of entries) {
      const len = messageLength(part([e], 0)) - overhead;
      if (chunk.length > 0 && size + len > limit) {
        this.sendMsg(part(chunk, OFPMPF.REPLY_MORE));
        chunk = [];
        size = 0;
      }
      chunk.push(e);
      size += len;
    }
    this.sendMsg(part(chunk, 0));
  }
}

function isTableFeaturesSet(msg: OfpMessage): boolean {
  return msg.type === OFPT.MULTIPART_REQUEST && msg.body.mpType === OFPMP.TABLE_FEATURES && 'entries' in msg.body && msg.body.entries.length > 0;
}

/** The version this agent speaks. */
export const AGENT_VERSION = OFP_VERSION;
