/**
 * One TCP connection from a vNF's controller on its delegated channel. To
 * the vNF, nicvisor is its switch:
 *
 * - HELLO negotiation; FEATURES (its datapath id, n_tables of its view),
 *   GET/SET_CONFIG and GET/SET_ASYNC kept per connection, echo answered
 *   here, roles per connection (generation id per vNF).
 * - Everything else goes through libs/tenancy's `verifyFromVnf`: denied →
 *   the spec's ERROR with the vNF's xid and the first 64 bytes of what it
 *   sent, the connection stays up; accepted → relayed in physical terms to
 *   the NIC session with xids of nicvisor's, and the NIC's errors mapped
 *   back to the vNF's xid and bytes.
 * - Replies leave in request order (a FIFO of reply slots); a BARRIER_REPLY
 *   is sent only once everything this connection sent before it is done —
 *   after the NIC answered a barrier sent after it, unless nothing of it is
 *   still unconfirmed there — and the shadow was flushed.
 * - Multipart replies are filtered per part (REPLY_MORE kept right) or,
 *   for a fanned-out aggregate, merged.
 *
 * Plain class: the hot path is framing → decode → verify → encode → send;
 * for the commonest message, an OFPFC_ADD the policy accepts on its bytes
 * (verifyFlowModWire), framing → verify → patch → send, with no decoding.
 */
import {
  decodeMessage,
  encodeMessage,
  ErrorMessage,
  ExperimenterError,
  FLOW_MOD_AT,
  MultipartReply,
  MultipartRequest,
  negotiateVersion,
  OFPBRC,
  OFPC,
  OFPCR_ROLE,
  OFPET,
  OFPFC,
  OFPHFC,
  OFPMP,
  OFPPR,
  OFPR,
  OFPRR,
  OFPT,
  OfpError,
  OfpMessage,
  ourHello,
  RoleMasks,
  u32At,
  wellFormedFlowMod,
} from '@nicvisor/openflow';
import {
  errorReply,
  filterMultipartReplies,
  Handling,
  mergeAggregateReplies,
  verifyFlowModWire,
  verifyFromVnf,
  viewTableCount,
  WireFlowModAccept,
} from '@nicvisor/tenancy';
import type { VnfChannel } from './delegated-channel.js';
import type { OfSocket } from './of-socket.js';
import { RelayGroup, Relayed } from './relayed.js';

/** Messages a slave may not send (§6.3.6). */
const SLAVE_DENIED = new Set<number>([OFPT.PACKET_OUT, OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.METER_MOD]);
/** Messages that change the NIC's state: counted until confirmed, recorded in the shadow. */
const MUTATIONS = new Set<number>([OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.METER_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.PACKET_OUT]);

const ALL_PACKET_IN = (1 << OFPR.NO_MATCH) | (1 << OFPR.ACTION) | (1 << OFPR.INVALID_TTL);
const ALL_PORT_STATUS = (1 << OFPPR.ADD) | (1 << OFPPR.DELETE) | (1 << OFPPR.MODIFY);
const ALL_FLOW_REMOVED = (1 << OFPRR.IDLE_TIMEOUT) | (1 << OFPRR.HARD_TIMEOUT) | (1 << OFPRR.DELETE) | (1 << OFPRR.GROUP_DELETE) | (1 << OFPRR.METER_DELETE);

export type AsyncKind = 'packetIn' | 'portStatus' | 'flowRemoved';

/** A reply slot: replies leave in the order their requests came. */
interface Slot {
  done: boolean;
  out: Buffer[];
}

export class DelegatedConnection {
  role: number = OFPCR_ROLE.EQUAL;
  configFlags = 0;
  missSendLen = 128;
  async: Record<AsyncKind, RoleMasks> = {
    packetIn: [ALL_PACKET_IN, 0],
    portStatus: [ALL_PORT_STATUS, ALL_PORT_STATUS],
    flowRemoved: [ALL_FLOW_REMOVED, 0],
  };
  version = 0;
  private closed = false;
  private readonly slots: Slot[] = [];
  /** Messages relayed to the NIC and not yet confirmed by a barrier. */
  private unconfirmed = 0;
  /** Messages relayed since the last barrier this connection had sent to the NIC (its own, or one of ours). */
  private unbarriered = 0;
  private confirmScheduled = false;

  constructor(
    readonly io: OfSocket,
    private readonly ch: VnfChannel,
  ) {}

  start(): void {
    this.sendNow(encodeMessage(ourHello(1)));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The socket ended. */
  closed_(): void {
    this.closed = true;
    this.slots.length = 0;
  }

  close(reason: string): void {
    this.io.close(reason);
  }

  // ---------------------------------------------------------------------------
  // Output

  private sendNow(raw: Buffer): void {
    if (this.closed) return;
    this.io.send(raw);
    this.ch.counters.sent(raw);
  }

  /** A reply that is ready now: out at once unless earlier replies are still pending. */
  private reply(msg: OfpMessage): void {
    const raw = encodeMessage(msg);
    if (this.slots.length === 0) this.sendNow(raw);
    else this.slots.push({ done: true, out: [raw] });
  }

  private slot(): Slot {
    const s: Slot = { done: false, out: [] };
    this.slots.push(s);
    return s;
  }

  private complete(s: Slot): void {
    s.done = true;
    const q = this.slots;
    let n = 0;
    while (n < q.length && q[n].done) {
      for (const raw of q[n].out) this.sendNow(raw);
      n++;
    }
    if (n > 0) q.splice(0, n);
  }

  private error(type: number, code: number, xid: number, raw: Buffer): void {
    // Errors are not replies in the FIFO sense: out at once, so they precede the barrier reply that follows their request.
    this.sendNow(encodeMessage(errorReply({ type, code, reason: '' }, xid, raw)));
  }

  /** An async message for this connection, if its role and async config want it. */
  wants(kind: AsyncKind, reason: number): boolean {
    if (this.closed || this.version === 0 || reason > 31) return false;
    const m = this.async[kind];
    return ((m[this.role === OFPCR_ROLE.SLAVE ? 1 : 0] >>> reason) & 1) === 1;
  }

  deliver(raw: Buffer): void {
    this.sendNow(raw);
  }

  // ---------------------------------------------------------------------------
  // Input

  receive(raw: Buffer): void {
    if (this.closed) return;
    this.ch.counters.rx[raw[1]!]++;
    const xid = u32At(raw, 4);
    if (raw[1] === OFPT.FLOW_MOD && this.role !== OFPCR_ROLE.SLAVE && this.relayWire(raw, xid)) return;
    let msg: OfpMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      if (raw[1] === OFPT.HELLO && this.version === 0) return this.failHello(xid, (e as Error).message);
      if (e instanceof OfpError) this.error(e.type, e.code, xid, raw);
      else this.error(OFPET.BAD_REQUEST, OFPBRC.EPERM, xid, raw);
      return;
    }
    try {
      this.handle(msg, raw, xid);
    } catch (e) {
      this.ch.log(`${this.ch.vnf}: internal error on message type ${msg.type}: ${(e as Error).stack ?? String(e)}`);
      if (e instanceof OfpError) this.error(e.type, e.code, xid, raw);
      else this.error(OFPET.BAD_REQUEST, OFPBRC.EPERM, xid, raw);
    }
  }

  private failHello(xid: number, why: string): void {
    this.sendNow(encodeMessage({ type: OFPT.ERROR, xid, errorType: OFPET.HELLO_FAILED, code: OFPHFC.INCOMPATIBLE, data: Buffer.from(why.slice(0, 256), 'ascii') }));
    this.io.end(`HELLO failed: ${why}`);
  }

  private handle(msg: OfpMessage, raw: Buffer, xid: number): void {
    const ch = this.ch;
    switch (msg.type) {
      case OFPT.HELLO:
        // The version is settled once (as NicSession does): a later HELLO must not drop the replies still owed.
        if (this.version !== 0) return;
        try {
          this.version = negotiateVersion(msg);
        } catch (e) {
          this.failHello(xid, (e as Error).message);
        }
        return;
      case OFPT.ECHO_REQUEST:
        this.reply({ type: OFPT.ECHO_REPLY, xid, data: msg.data });
        return;
      case OFPT.ECHO_REPLY:
        return;
      case OFPT.ERROR:
        ch.log(`${ch.vnf}: the vNF sent an error (type ${msg.errorType}) for xid ${xid}`);
        return;
      case OFPT.FEATURES_REQUEST:
        this.reply({
          type: OFPT.FEATURES_REPLY,
          xid,
          datapathId: ch.datapathId,
          nBuffers: 0,
          nTables: viewTableCount(ch.ownership),
          auxiliaryId: 0,
          capabilities: ch.nic()?.features?.capabilities ?? OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS,
          reserved: 0,
        });
        return;
      case OFPT.GET_CONFIG_REQUEST:
        this.reply({ type: OFPT.GET_CONFIG_REPLY, xid, flags: this.configFlags, missSendLen: this.missSendLen });
        return;
      case OFPT.SET_CONFIG:
        this.configFlags = msg.flags;
        this.missSendLen = msg.missSendLen;
        return;
      case OFPT.GET_ASYNC_REQUEST:
        this.reply({
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
      case OFPT.ROLE_REQUEST: {
        const r = ch.roleRequest(this, msg.role, msg.generationId);
        if ('error' in r) this.error(OFPET.ROLE_REQUEST_FAILED, r.error, xid, raw);
        else this.reply({ type: OFPT.ROLE_REPLY, xid, role: r.role, generationId: r.generationId });
        return;
      }
      case OFPT.BARRIER_REQUEST:
        this.barrier(xid);
        return;
    }
    if (this.role === OFPCR_ROLE.SLAVE && (SLAVE_DENIED.has(msg.type) || isTableFeaturesSet(msg))) {
      ch.audit(msg.type, 'denied', 'IS_SLAVE');
      this.error(OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, xid, raw);
      return;
    }
    // `enforce` off (benchmarks only): flow-mods relayed untranslated, to measure the policy's cost.
    const verdict: Handling = ch.enforce || msg.type !== OFPT.FLOW_MOD ? verifyFromVnf(ch.ownership, msg, ch.usageFor(msg.type)) : { ok: true, to: 'nic', messages: [msg] };
    if (!verdict.ok) {
      if (MUTATIONS.has(msg.type)) ch.audit(msg.type, 'denied', verdict.error.reason);
      this.error(verdict.error.type, verdict.error.code, xid, raw);
      return;
    }
    if (verdict.to === 'channel') return; // handled above; anything else local is absorbed
    if (msg.type === OFPT.MULTIPART_REQUEST) {
      this.multipart(xid, verdict.messages as MultipartRequest[], verdict.reply ?? 'each');
      return;
    }
    if (msg.type === OFPT.QUEUE_GET_CONFIG_REQUEST) {
      this.singleRequest(xid, raw, verdict.messages[0]);
      return;
    }
    this.relay(msg, xid, raw, verdict.messages);
  }

  /** One-way messages (flow-mod, group-mod, meter-mod, packet-out, port-mod, table-mod) to the NIC. */
  private relay(msg: OfpMessage, xid: number, raw: Buffer, messages: OfpMessage[]): void {
    const ch = this.ch;
    const group: RelayGroup | undefined = messages.length > 1 ? { failed: false } : undefined;
    for (let i = 0; i < messages.length; i++) {
      this.unconfirmed++;
      ch.relayToNic(Relayed.of(this, msg, xid, raw, messages[i], group));
    }
    this.unbarriered += messages.length;
    this.scheduleConfirm();
  }

  /**
   * The fast path: an OFPFC_ADD the policy accepts on its bytes goes to the
   * NIC without being decoded (with the policy off, in benchmarks, any well
   * formed ADD, untranslated). False: take the general path.
   */
  private relayWire(raw: Buffer, xid: number): boolean {
    const ch = this.ch;
    let accept: WireFlowModAccept | undefined;
    if (ch.enforce) {
      const a = verifyFlowModWire(ch.ownership, raw, ch.usageFor(OFPT.FLOW_MOD));
      if (a === null) return false;
      accept = a;
    } else if (!wellFormedFlowMod(raw) || raw[FLOW_MOD_AT.command] !== OFPFC.ADD) {
      return false;
    }
    this.unconfirmed++;
    ch.relayToNic(Relayed.ofWire(this, xid, raw, accept));
    this.unbarriered++;
    this.scheduleConfirm();
    return true;
  }

  /** A relayed message was confirmed or refused by the NIC. */
  relayEnded(): void {
    this.unconfirmed--;
  }

  /** An ERROR from the NIC, as the vNF must see it: its xid, its bytes. */
  nicError(e: ErrorMessage | ExperimenterError, xid: number, raw: Buffer): void {
    if (this.closed) return;
    const data = Buffer.from(raw.subarray(0, 64));
    if ('code' in e) this.sendNow(encodeMessage({ type: OFPT.ERROR, xid, errorType: e.errorType, code: e.code, data }));
    else this.sendNow(encodeMessage({ ...e, xid, data }));
  }

  /**
   * Makes sure relayed messages get confirmed (and so reach the shadow)
   * even when the vNF sends no barrier: one barrier of ours per burst,
   * unless the vNF's own went after them.
   */
  private scheduleConfirm(): void {
    if (this.confirmScheduled) return;
    this.confirmScheduled = true;
    setImmediate(() => {
      this.confirmScheduled = false;
      if (this.unbarriered === 0) return;
      this.unbarriered = 0;
      this.ch.confirm();
    });
  }

  /**
   * Answered once everything this connection sent before it is done (§6.2)
   * and the store has committed what that changed: with something of it
   * still unconfirmed at the NIC, after a barrier there; with nothing (every
   * relayed message confirmed or refused, every request's reply in its slot
   * before this one), at once.
   */
  private barrier(xid: number): void {
    const s = this.slot();
    const answer = (): void => {
      s.out.push(encodeMessage({ type: OFPT.BARRIER_REPLY, xid }));
      this.complete(s);
    };
    const failed = (e: Error): void => {
      this.ch.log(`${this.ch.vnf}: barrier failed: ${e.message}`);
      answer();
    };
    const commit = (): void => {
      let committed: void | Promise<void>;
      try {
        committed = this.ch.flush();
      } catch (e) {
        return failed(e as Error);
      }
      if (committed === undefined) answer();
      else committed.then(answer, failed);
    };
    if (this.unconfirmed === 0) return commit();
    this.unbarriered = 0;
    this.ch.nicBarrier((err) => (err === undefined ? commit() : failed(err)));
  }

  private multipart(xid: number, requests: MultipartRequest[], plan: 'each' | 'aggregate'): void {
    const s = this.slot();
    const own = () => this.ch.ownership;
    const fail = (e: Error, raw?: Buffer) => {
      const err = (e as { error?: ErrorMessage | ExperimenterError }).error;
      if (err !== undefined && raw !== undefined) {
        const data = Buffer.from(raw.subarray(0, 64));
        s.out.push(encodeMessage('code' in err ? { type: OFPT.ERROR, xid, errorType: err.errorType, code: err.code, data } : { ...err, xid, data }));
      } else {
        this.ch.log(`${this.ch.vnf}: multipart request failed: ${e.message}`);
        if (raw !== undefined) s.out.push(encodeMessage(errorReply({ type: OFPET.BAD_REQUEST, code: OFPBRC.EPERM, reason: '' }, xid, raw)));
      }
      this.complete(s);
    };
    const rawOf = (m: MultipartRequest) => {
      const b = encodeMessage(m);
      b.writeUInt32BE(xid, 4);
      return b;
    };
    if (plan === 'aggregate') {
      Promise.all(requests.map((r) => this.ch.nicCall((nic) => nic.multipart(r)))).then(
        (replies) => {
          s.out.push(encodeMessage(mergeAggregateReplies(xid, replies.flat())));
          this.complete(s);
        },
        (e: Error) => fail(e, rawOf(requests[0])),
      );
      return;
    }
    // 'each': one request; every reply part filtered, the last one always sent.
    const req = requests[0];
    if (req === undefined) {
      this.complete(s);
      return;
    }
    this.ch.nicCall((nic) => nic.multipart(req)).then(
      (parts: MultipartReply[]) => {
        const view = filterMultipartReplies(own(), this.ch.withOwnersFlags(parts));
        for (const f of view) s.out.push(encodeMessage({ ...f, xid }));
        this.complete(s);
      },
      (e: Error) => fail(e, rawOf(req)),
    );
  }

  /** A request with one reply from the NIC (queue config), relayed with the vNF's xid. */
  private singleRequest(xid: number, raw: Buffer, m: OfpMessage): void {
    const s = this.slot();
    this.ch.nicCall((nic) => nic.request(m)).then(
      (reply) => {
        s.out.push(encodeMessage({ ...this.ch.filterSingle(reply), xid } as OfpMessage));
        this.complete(s);
      },
      (e: Error) => {
        const err = (e as { error?: ErrorMessage | ExperimenterError }).error;
        const data = Buffer.from(raw.subarray(0, 64));
        if (err !== undefined && 'code' in err) s.out.push(encodeMessage({ type: OFPT.ERROR, xid, errorType: err.errorType, code: err.code, data }));
        else s.out.push(encodeMessage(errorReply({ type: OFPET.BAD_REQUEST, code: OFPBRC.EPERM, reason: '' }, xid, raw)));
        this.complete(s);
      },
    );
  }
}

function isTableFeaturesSet(msg: OfpMessage): boolean {
  return msg.type === OFPT.MULTIPART_REQUEST && msg.body.mpType === OFPMP.TABLE_FEATURES && 'entries' in msg.body && msg.body.entries.length > 0;
}
