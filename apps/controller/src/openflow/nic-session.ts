/**
 * nicvisor's side of one OpenFlow connection from a NIC instance (a switch).
 *
 * Handshake: our HELLO, version negotiation on theirs, FEATURES (the
 * datapath id names the instance), PORT_DESC, then ROLE_REQUEST master with
 * a generation id; PORT_STATUS may arrive at any point, also before the
 * FEATURES_REPLY (Open vSwitch announces its LOCAL port first). `ready`
 * resolves once all of that is done.
 *
 * Requests nicvisor sends get xids of their own and are correlated with
 * their answers: `request` (one reply), `multipart` (REPLY_MORE parts
 * reassembled), `barrier`, and one-way messages (`send`) whose errors go to
 * the sender's `onError` and whose completion (`onConfirm`) is known when a
 * later barrier is answered — a switch handles messages in order and sends a
 * BARRIER_REPLY only after everything before it.
 *
 * Liveness: an ECHO_REQUEST every `echoIntervalMs`; a peer silent for
 * `deadAfterMs` is closed.
 *
 * Plain class: this is the hot path (relayed flow-mods and barriers).
 */
import { Subject } from 'rxjs';
import {
  decodeMessage,
  encodeMessage,
  ErrorMessage,
  ExperimenterError,
  FlowRemoved,
  FlowStats,
  MultipartReply,
  MultipartRequest,
  negotiateVersion,
  OFPCR_ROLE,
  OFPET,
  OFPHFC,
  OFPMP,
  OFPMPF,
  OFPP,
  OFPG,
  OFPPR,
  OFPT,
  OFPTT,
  OfpMessage,
  ourHello,
  PacketIn,
  PortStatus,
  SwitchFeatures,
} from '@nicvisor/openflow';

export type NicAsyncMessage = PacketIn | FlowRemoved | PortStatus;
/** ofp_port. */
export type Port = PortStatus['desc'];

export interface NicAsyncEvent {
  datapathId: bigint;
  msg: NicAsyncMessage;
}

/** What a session writes to and closes (an OfSocket, or a test double). */
export interface NicTransport {
  /** Sends `raw` or a copy of it; must not keep `raw` past the call (the caller may reuse it: a relayed ADD becomes a shadow entry). */
  send(raw: Buffer): void;
  /** Sends what is queued, then closes. */
  end(reason: string): void;
  close(reason: string): void;
}

/** An ERROR the NIC answered a request with. */
export class NicRequestError extends Error {
  constructor(readonly error: ErrorMessage | ExperimenterError) {
    super(`NIC answered with error type ${error.errorType} code ${'code' in error ? error.code : error.expType}`);
    this.name = 'NicRequestError';
  }
}

/** The session ended before the answer came. */
export class NicClosedError extends Error {
  constructor(reason: string) {
    super(`NIC connection closed: ${reason}`);
    this.name = 'NicClosedError';
  }
}

export interface OnewayHandlers {
  /** The NIC refused the message (its ERROR, xid as nicvisor sent it). */
  onError?(e: ErrorMessage | ExperimenterError): void;
  /** A later barrier was answered and this message raised no error: it is done. */
  onConfirm?(): void;
  /** The connection closed before the message was confirmed. */
  onLost?(): void;
}

/**
 * Hears about one-way messages sent with `sendOneway`: one object for many
 * messages, each identified by the caller's `token` (no closure per message).
 */
export interface OnewaySink<T> {
  /** A later barrier was answered and this message raised no error. */
  confirmed(token: T): void;
  /** The NIC refused it. */
  failed(token: T, e: ErrorMessage | ExperimenterError): void;
  /** The connection closed before it was confirmed. */
  lost(token: T): void;
}

/** OnewayHandlers through the sink interface (the token is the handlers object). */
const HANDLERS_SINK: OnewaySink<OnewayHandlers> = {
  confirmed: (h) => h.onConfirm?.(),
  failed: (h, e) => h.onError?.(e),
  lost: (h) => h.onLost?.(),
};

export interface NicSessionOptions {
  /** Echo request interval (ms). Default 5000. */
  echoIntervalMs?: number;
  /** A peer silent this long is closed (ms). Default 3 × echoIntervalMs. */
  deadAfterMs?: number;
  /** Requests unanswered this long fail (ms). Default 10000. */
  requestTimeoutMs?: number;
  /** Handshake must finish within this (ms). Default 10000. */
  handshakeTimeoutMs?: number;
  /** The generation id for the master role request. */
  generationId?: () => bigint;
  /** Lines for the log (connection problems, unmatched errors). */
  log?: (line: string) => void;
}

const K_SINGLE = 1;
const K_MULTIPART = 2;

interface Pending {
  kind: number;
  resolve: (v: never) => void;
  reject: (e: Error) => void;
  parts?: MultipartReply[];
  deadline: number;
  /** One-way messages sent before this request (their sequence numbers are below it). */
  onewaysBefore: number;
}

export type NicSessionState = 'handshake' | 'ready' | 'closed';

export class NicSession {
  state: NicSessionState = 'handshake';
  datapathId: bigint | undefined;
  features: SwitchFeatures | undefined;
  /** The instance's ports, by port number (PORT_DESC, kept current by PORT_STATUS). */
  readonly ports = new Map<number, Port>();
  /** The role the NIC granted (OFPCR_ROLE_*). */
  role: number = OFPCR_ROLE.EQUAL;
  generationId: bigint | undefined;
  version = 0;
  /** Packet-in, flow-removed and port-status, once the session is ready. */
  readonly async$ = new Subject<NicAsyncEvent>();
  /** Errors that answered nothing nicvisor is waiting for. */
  readonly unmatchedErrors$ = new Subject<ErrorMessage | ExperimenterError>();
  readonly ready: Promise<NicSession>;
  readonly closed: Promise<string>;
  closeReason: string | undefined;

  /** Requests (one reply, multipart, barrier) by xid. */
  private readonly pending = new Map<number, Pending>();
  /**
   * One-way messages awaiting confirmation, in send order, as parallel
   * arrays from `owHead`: xid, sink (undefined once settled by an error),
   * token. `owSeq0` is the sequence number of the entry at index 0.
   */
  private owXid: number[] = [];
  private owSink: Array<OnewaySink<unknown> | undefined> = [];
  private owToken: unknown[] = [];
  private owHead = 0;
  private owSeq0 = 0;
  /** xids of requests with a deadline. */
  private readonly timed = new Set<number>();
  private nextXid = 1;
  private readonly earlyAsync: NicAsyncMessage[] = [];
  private readonly opts: Required<Omit<NicSessionOptions, 'generationId' | 'log'>> & Pick<NicSessionOptions, 'generationId' | 'log'>;
  private timer: NodeJS.Timeout | undefined;
  private lastRx = Date.now();
  private resolveReady!: (s: NicSession) => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (reason: string) => void;

  constructor(
    private readonly io: NicTransport,
    opts: NicSessionOptions = {},
  ) {
    const echo = opts.echoIntervalMs ?? 5000;
    this.opts = {
      echoIntervalMs: echo,
      deadAfterMs: opts.deadAfterMs ?? 3 * echo,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      generationId: opts.generationId,
      log: opts.log,
    };
    this.ready = new Promise<NicSession>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise<string>((resolve) => (this.resolveClosed = resolve));
  }

  /** Sends our HELLO and starts the liveness timer. */
  start(): void {
    this.sendMsg(ourHello(this.allocXid()));
    const started = Date.now();
    this.timer = setInterval(() => this.tick(started), Math.min(this.opts.echoIntervalMs, 1000));
    this.timer.unref();
  }

  get label(): string {
    return this.datapathId === undefined ? 'NIC (handshake)' : `NIC ${dpidText(this.datapathId)}`;
  }

  // ---------------------------------------------------------------------------
  // Sending

  /** A fresh xid not in use by anything pending. */
  allocXid(): number {
    let x: number;
    do {
      x = this.nextXid;
      this.nextXid = x === 0xffffffff ? 1 : x + 1;
    } while (this.pending.has(x));
    return x;
  }

  /**
   * A one-way message (flow-mod, group-mod, packet-out…): sent with an xid
   * of ours, which is returned; `h` hears of its error or its confirmation.
   */
  send(msg: OfpMessage, h?: OnewayHandlers): number {
    return this.sendRaw(encodeMessage(msg), h);
  }

  /** Like send, for an encoded message the caller owns: its xid is overwritten in place. */
  sendRaw(raw: Buffer, h?: OnewayHandlers): number {
    if (h === undefined) {
      if (this.state === 'closed') return 0;
      const xid = this.allocXid();
      raw.writeUInt32BE(xid, 4);
      this.io.send(raw);
      return xid;
    }
    return this.sendOneway(raw, HANDLERS_SINK, h);
  }

  /**
   * The hot path of relayed messages: `raw` (the caller's; its xid is
   * overwritten in place) is sent, and `sink` hears about `token` once the
   * NIC confirmed it (a later barrier answered), refused it, or the
   * connection was lost first.
   */
  sendOneway<T>(raw: Buffer, sink: OnewaySink<T>, token: T): number {
    if (this.state === 'closed') {
      sink.lost(token);
      return 0;
    }
    const xid = this.allocXid();
    raw.writeUInt32BE(xid, 4);
    this.owXid.push(xid);
    this.owSink.push(sink as OnewaySink<unknown>);
    this.owToken.push(token);
    this.io.send(raw);
    return xid;
  }

  /** One-way messages sent so far (the sequence number of the next one). */
  private get owSeqNext(): number {
    return this.owSeq0 + this.owXid.length;
  }

  /** Drops settled entries from the front of the one-way arrays once they are a good share of them. */
  private owCompact(): void {
    const h = this.owHead;
    if (h === this.owXid.length) {
      this.owSeq0 += h;
      this.owHead = 0;
      this.owXid = [];
      this.owSink = [];
      this.owToken = [];
    } else if (h >= 1024 && h * 2 >= this.owXid.length) {
      this.owSeq0 += h;
      this.owHead = 0;
      this.owXid = this.owXid.slice(h);
      this.owSink = this.owSink.slice(h);
      this.owToken = this.owToken.slice(h);
    }
  }

  /** The index of one-way message `xid` among those outstanding, or -1 (xids ascend in send order, modulo 2^32). */
  private owIndexOf(xid: number): number {
    const xs = this.owXid;
    let lo = this.owHead;
    let hi = xs.length - 1;
    if (lo > hi) return -1;
    const base = xs[lo];
    const want = (xid - base) >>> 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const d = (xs[mid] - base) >>> 0;
      if (d === want) return mid;
      if (d < want) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** A request with one reply (its xid is ours); an ERROR rejects with NicRequestError. */
  request(msg: OfpMessage): Promise<OfpMessage> {
    return this.expect(msg, K_SINGLE) as Promise<OfpMessage>;
  }

  /** A multipart request; resolves with every reply part, REPLY_MORE ones included, in order. */
  multipart(msg: MultipartRequest): Promise<MultipartReply[]> {
    return this.expect(msg, K_MULTIPART) as Promise<MultipartReply[]>;
  }

  /** Resolves when everything sent before it has been done by the NIC. */
  barrier(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.barrierThen(resolve, reject));
  }

  /**
   * `barrier()` with callbacks (either may run before this returns, on a
   * closed session): nothing between the NIC's reply and the caller's next
   * step, so a vNF's barrier reply leaves in the turn the NIC's arrives.
   */
  barrierThen(done: () => void, failed: (e: Error) => void): void {
    this.expectWith({ type: OFPT.BARRIER_REQUEST, xid: 0 }, K_SINGLE, done, failed);
  }

  /** Every flow entry (all tables), from the flow-stats reply parts. */
  async flowStats(tableId: number = OFPTT.ALL): Promise<FlowStats[]> {
    const parts = await this.multipart({
      type: OFPT.MULTIPART_REQUEST,
      xid: 0,
      flags: 0,
      body: { mpType: OFPMP.FLOW, tableId, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] },
    });
    const out: FlowStats[] = [];
    for (const p of parts) if (p.body.mpType === OFPMP.FLOW) out.push(...p.body.entries);
    return out;
  }

  private expect(msg: OfpMessage, kind: number): Promise<unknown> {
    return new Promise((resolve, reject) => this.expectWith(msg, kind, resolve, reject));
  }

  private expectWith(msg: OfpMessage, kind: number, resolve: (v: never) => void, reject: (e: Error) => void): void {
    if (this.state === 'closed') {
      reject(new NicClosedError(this.closeReason ?? 'closed'));
      return;
    }
    const xid = this.allocXid();
    const raw = encodeMessage(msg);
    raw.writeUInt32BE(xid, 4);
    const p: Pending = { kind, resolve, reject, deadline: Date.now() + this.opts.requestTimeoutMs, onewaysBefore: this.owSeqNext };
    if (kind === K_MULTIPART) p.parts = [];
    this.pending.set(xid, p);
    this.timed.add(xid);
    this.io.send(raw);
  }

  private sendMsg(msg: OfpMessage): void {
    if (this.state !== 'closed') this.io.send(encodeMessage(msg));
  }

  // ---------------------------------------------------------------------------
  // Receiving

  /** One complete raw message from the NIC. */
  receive(raw: Buffer): void {
    if (this.state === 'closed') return;
    this.lastRx = Date.now();
    const type = raw[1];
    const xid = raw.readUInt32BE(4);
    // The hottest answers first, without a full decode.
    if (type === OFPT.BARRIER_REPLY) {
      this.barrierReply(xid);
      return;
    }
    let msg: OfpMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      if (type === OFPT.HELLO) return this.failHello(xid, (e as Error).message);
      this.log(`${this.label}: undecodable ${type} message dropped: ${(e as Error).message}`);
      // A request of ours whose reply we cannot read still fails, rather than hanging.
      const p = this.pending.get(xid);
      if (p !== undefined) this.settle(xid, p, undefined, new Error(`undecodable reply: ${(e as Error).message}`));
      return;
    }
    switch (msg.type) {
      case OFPT.HELLO:
        this.hello(msg);
        return;
      case OFPT.ECHO_REQUEST:
        this.sendMsg({ type: OFPT.ECHO_REPLY, xid, data: msg.data });
        return;
      case OFPT.ECHO_REPLY:
        return;
      case OFPT.ERROR:
        this.error(msg);
        return;
      case OFPT.PACKET_IN:
      case OFPT.FLOW_REMOVED:
      case OFPT.PORT_STATUS:
        this.async(msg);
        return;
      case OFPT.MULTIPART_REPLY: {
        const p = this.pending.get(xid);
        if (p === undefined || p.kind !== K_MULTIPART) return;
        p.parts!.push(msg);
        if ((msg.flags & OFPMPF.REPLY_MORE) === 0) this.settle(xid, p, p.parts);
        return;
      }
      default: {
        const p = this.pending.get(xid);
        if (p !== undefined && p.kind === K_SINGLE) this.settle(xid, p, msg);
      }
    }
  }

  private settle(xid: number, p: Pending, value: unknown, err?: Error): void {
    this.pending.delete(xid);
    this.timed.delete(xid);
    try {
      if (err !== undefined) p.reject(err);
      else p.resolve(value as never);
    } catch (e) {
      // A callback's failure (barrierThen) must not end the session or the process.
      this.log(`${this.label}: internal error handling the answer to xid ${xid}: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private barrierReply(xid: number): void {
    const b = this.pending.get(xid);
    if (b === undefined) return;
    // Everything one-way sent before this barrier is done: confirm it, in order.
    const end = b.onewaysBefore - this.owSeq0;
    while (this.owHead < end) {
      const i = this.owHead++;
      const sink = this.owSink[i];
      if (sink === undefined) continue;
      const token = this.owToken[i];
      this.owSink[i] = undefined;
      this.owToken[i] = undefined;
      sink.confirmed(token);
    }
    this.owCompact();
    this.settle(xid, b, undefined);
  }

  private error(msg: ErrorMessage | ExperimenterError): void {
    const p = this.pending.get(msg.xid);
    if (p !== undefined) {
      this.settle(msg.xid, p, undefined, new NicRequestError(msg));
      return;
    }
    const i = this.owIndexOf(msg.xid);
    const sink = i < 0 ? undefined : this.owSink[i];
    if (sink !== undefined) {
      const token = this.owToken[i];
      this.owSink[i] = undefined;
      this.owToken[i] = undefined;
      sink.failed(token, msg);
      return;
    }
    if (this.state === 'handshake' && 'code' in msg && msg.errorType === OFPET.HELLO_FAILED) {
      this.close(`NIC refused the HELLO (code ${msg.code})`);
      return;
    }
    if (this.unmatchedErrors$.observed) this.unmatchedErrors$.next(msg);
    else this.log(`${this.label}: unsolicited error type ${msg.errorType} for xid ${msg.xid}`);
  }

  private async(msg: NicAsyncMessage): void {
    if (msg.type === OFPT.PORT_STATUS) {
      if (msg.reason === OFPPR.DELETE) this.ports.delete(msg.desc.portNo);
      else this.ports.set(msg.desc.portNo, msg.desc);
    }
    if (this.state !== 'ready') {
      if (this.earlyAsync.length < 1024) this.earlyAsync.push(msg);
      return;
    }
    this.async$.next({ datapathId: this.datapathId!, msg });
  }

  // ---------------------------------------------------------------------------
  // Handshake

  private hello(msg: Extract<OfpMessage, { type: typeof OFPT.HELLO }>): void {
    if (this.version !== 0) return;
    try {
      this.version = negotiateVersion(msg);
    } catch (e) {
      this.failHello(msg.xid, (e as Error).message);
      return;
    }
    void this.handshake();
  }

  private failHello(xid: number, why: string): void {
    this.sendMsg({ type: OFPT.ERROR, xid, errorType: OFPET.HELLO_FAILED, code: OFPHFC.INCOMPATIBLE, data: Buffer.from(why.slice(0, 256), 'ascii') });
    this.io.end(`version negotiation failed: ${why}`);
    this.closed_(`version negotiation failed: ${why}`);
  }

  private async handshake(): Promise<void> {
    try {
      const features = await this.request({ type: OFPT.FEATURES_REQUEST, xid: 0 });
      if (features.type !== OFPT.FEATURES_REPLY) throw new Error(`FEATURES_REQUEST answered with type ${features.type}`);
      this.features = features;
      this.datapathId = features.datapathId;
      const portDesc = this.multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.PORT_DESC } });
      const gen = this.opts.generationId?.() ?? 0n;
      const role = this.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: gen }).catch((e: Error) => e);
      const parts = await portDesc;
      this.ports.clear();
      for (const p of parts) if (p.body.mpType === OFPMP.PORT_DESC) for (const d of p.body.entries) this.ports.set(d.portNo, d);
      const r = await role;
      if (r instanceof Error) {
        this.log(`${this.label}: role request refused (${r.message}); staying EQUAL`);
      } else if (r.type === OFPT.ROLE_REPLY) {
        this.role = r.role;
        this.generationId = r.generationId;
      }
      if (this.state !== 'handshake') return;
      this.state = 'ready';
      this.resolveReady(this);
    } catch (e) {
      if (this.state === 'closed') return;
      this.close(`handshake failed: ${(e as Error).message}`);
    }
  }

  /**
   * Async messages that came during the handshake (Open vSwitch's PORT_STATUS
   * before its FEATURES_REPLY), sent on `async$` once whoever registers the
   * session has subscribed.
   */
  releaseEarlyAsync(): void {
    if (this.state !== 'ready') return;
    const early = this.earlyAsync.splice(0);
    for (const m of early) this.async$.next({ datapathId: this.datapathId!, msg: m });
  }

  // ---------------------------------------------------------------------------
  // Liveness and closing

  private tick(started: number): void {
    const now = Date.now();
    if (this.state === 'handshake' && now - started > this.opts.handshakeTimeoutMs) {
      this.close(`no handshake within ${this.opts.handshakeTimeoutMs} ms`);
      return;
    }
    if (now - this.lastRx > this.opts.deadAfterMs) {
      this.close(`peer silent for ${now - this.lastRx} ms`);
      return;
    }
    if (now - this.lastRx >= this.opts.echoIntervalMs) this.sendMsg({ type: OFPT.ECHO_REQUEST, xid: this.allocXid(), data: Buffer.alloc(0) });
    for (const xid of this.timed) {
      const p = this.pending.get(xid);
      if (p === undefined) {
        this.timed.delete(xid);
        continue;
      }
      if (p.deadline < now) this.settle(xid, p, undefined, new Error(`NIC did not answer within ${this.opts.requestTimeoutMs} ms`));
    }
  }

  /** Closes the connection (idempotent). */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.io.close(reason);
    this.closed_(reason);
  }

  /** The transport is gone: fail everything pending. */
  closed_(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    if (this.timer !== undefined) clearInterval(this.timer);
    const err = new NicClosedError(reason);
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.timed.clear();
    const sinks = this.owSink;
    const tokens = this.owToken;
    const from = this.owHead;
    this.owSeq0 += this.owXid.length;
    this.owHead = 0;
    this.owXid = [];
    this.owSink = [];
    this.owToken = [];
    // Everything in send order (what was lost may be sent again on the next session, in the same order).
    let i = from;
    const seq0 = this.owSeq0 - sinks.length;
    for (const p of pending) {
      for (; i < sinks.length && seq0 + i < p.onewaysBefore; i++) sinks[i]?.lost(tokens[i]);
      p.reject(err);
    }
    for (; i < sinks.length; i++) sinks[i]?.lost(tokens[i]);
    this.rejectReady(err);
    this.async$.complete();
    this.unmatchedErrors$.complete();
    this.resolveClosed(reason);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

export function dpidText(d: bigint): string {
  return `0x${d.toString(16).padStart(16, '0')}`;
}
