/**
 * A vNF's delegated OpenFlow channel: the endpoint (listen: a TCP port of
 * its own; connect: nicvisor dials the vNF's controller like a switch would,
 * reconnecting with exponential backoff), its connections, and what they
 * share — the ownership, the roles' generation id, the packet-in token
 * bucket, the pending (unconfirmed) mutations, and the way to the NIC.
 *
 * With TLS (listen `tls: true`, connect to an `ssl:HOST:PORT` target) both
 * sides authenticate with certificates of nicvisor's CA: the vNF's must name
 * this vNF (ChannelTls.refusal). A refused peer is cut before any OpenFlow
 * byte is read, and the refusal is audited (`openflow.tls-handshake`).
 *
 * While the NIC instance is disconnected (or being resynced), what the vNF
 * sends towards it is queued and sent once it is back; mutations that were
 * in flight when it dropped are sent again after the resync, so the vNF
 * does not notice.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, Server, Socket, connect as netConnect } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Subscription } from 'rxjs';
import {
  encodeMessage,
  FlowMod,
  GroupMod,
  MeterMod,
  MultipartReply,
  OFPCML,
  OFPCR_ROLE,
  OFPFF,
  OFPMP,
  OFPRRFC,
  OFPT,
  OfpMessage,
  PacketIn,
  QueueGetConfigReply,
} from '@nicvisor/openflow';
import {
  filterQueueGetConfigReply,
  fullPacketInBucket,
  NO_USAGE,
  OPERATOR,
  Ownership,
  PacketInBucket,
  Principal,
  routeFlowRemoved,
  routePacketIn,
  routePortStatus,
  takePacketIn,
  tenantPrincipal,
  Usage,
} from '@nicvisor/tenancy';
import { parseTarget } from '@nicvisor/softswitch/channel.js';
import { ChannelCounters } from '../metrics/channel-counters.js';
import { AsyncKind, DelegatedConnection } from './delegated-connection.js';
import { NicAsyncEvent, NicClosedError, NicSession, OnewaySink } from './nic-session.js';
import { OfSocket } from './of-socket.js';
import type { Relayed } from './relayed.js';
import { OPERATOR_OWNER, Owner, Shadow } from './shadow.js';

export type ChannelMode =
  | { mode: 'listen'; host?: string; /** explicit port; 0 = ephemeral; absent = from the range */ port?: number; /** mutual TLS */ tls?: boolean }
  /** `tcp:HOST:PORT`, or `ssl:HOST:PORT` for mutual TLS (as Open vSwitch names its targets). */
  | { mode: 'connect'; target: string };

/** A channel's endpoint, and the compute node whose configuration relay may also carry it (RelayEndpoint). */
export type ChannelConfig = ChannelMode & { node?: string };

/** What TLS channels need from nicvisor's CA (apps/controller/src/pki). */
export interface ChannelTls {
  /** nicvisor's own key and certificate, and the CA certificate peers must chain to (PEM). */
  readonly credentials: { key: string; cert: string; ca: string };
  /** Why a peer certificate (chain and dates verified by the handshake) may not speak for `vnf`; undefined when it may. */
  refusal(peer: X509Certificate | undefined, vnf: string): string | undefined;
}

/** Whether a connect target asks for TLS. */
export const isTlsTarget = (target: string): boolean => target.startsWith('ssl:');
/** A TLS handshake that has not finished after this long is dropped (ms). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** An accepted or denied tenant mutation, for the audit log (accepted ones aggregated per confirm batch). */
export interface MutationAudit {
  vnf: string;
  tenant: string;
  datapathId: bigint;
  /** "FLOW_MOD", "GROUP_MOD", … */
  message: string;
  result: 'accepted' | 'denied' | 'failed';
  count: number;
  detail?: string;
}

/** What the channel needs from the controller core. */
export interface ChannelHost {
  readonly shadow: Shadow;
  /** The NIC session of a datapath once it is connected and resynced. */
  readySession(datapathId: bigint): NicSession | undefined;
  /** Async messages of the datapath (across reconnections). */
  subscribeAsync(datapathId: bigint, next: (e: NicAsyncEvent) => void): Subscription;
  /** A free port from the channel range. */
  allocatePort(): Iterable<number>;
  /** nicvisor's CA; required for TLS channels. */
  tls?: ChannelTls;
  audit?(e: MutationAudit): void;
  /** The message counters of a tenant's channels (metrics); a private set when absent. */
  counters?(tenant: string): ChannelCounters;
  log(line: string): void;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OFPT).map(([k, v]) => [v, k]));
const MAX_QUEUED = 100_000;
/** No group or meter ids: what a flow-mod's usage carries (verification only reads them). */
const NO_IDS: readonly number[] = Object.freeze([]);

export class VnfChannel {
  readonly connections = new Set<DelegatedConnection>();
  /** `tcp:HOST:PORT`: where the vNF connects (listen) or what nicvisor dials (connect). */
  endpoint = '';
  /** Packet-ins dropped by the rate limit, and ones the vNF did not own (counters for inspection). */
  packetInsDropped = 0;
  /** Ownership enforcement of flow-mods; off only to benchmark its cost (never in the controller). */
  enforce = true;
  private server: Server | undefined;
  private dialer: { stop(): void } | undefined;
  private generationId: bigint | undefined;
  private bucket: PacketInBucket;
  private pendingFlowAdds = 0;
  private readonly queued: Array<(s: NicSession) => void> = [];
  private readonly asyncSub: Subscription;
  private closed = false;
  private readonly accepted = new Map<number, number>();
  readonly owner: Owner;
  private readonly principal: Principal;
  /** Incremented by the connections for every message in and out. */
  readonly counters: ChannelCounters;

  constructor(
    public ownership: Ownership,
    readonly datapathId: bigint,
    readonly mode: ChannelConfig,
    private readonly host: ChannelHost,
  ) {
    this.owner = ownership.vnf;
    this.principal = tenantPrincipal(ownership.tenant);
    this.counters = host.counters?.(ownership.tenant) ?? new ChannelCounters();
    this.bucket = fullPacketInBucket(ownership.quotas, Date.now());
    this.asyncSub = host.subscribeAsync(datapathId, (e) => this.fromNic(e));
  }

  get vnf(): string {
    return this.ownership.vnf;
  }

  log(line: string): void {
    this.host.log(line);
  }

  /** Binds (listen) or starts dialling (connect); resolves with the endpoint. */
  async open(): Promise<string> {
    if (this.mode.mode === 'listen') {
      const bindHost = this.mode.host ?? '127.0.0.1';
      const ports = this.mode.port !== undefined ? [this.mode.port] : this.host.allocatePort();
      let lastErr: Error | undefined;
      for (const port of ports) {
        try {
          this.server = await this.bind(bindHost, port);
          const a = this.server.address();
          this.endpoint = `${this.mode.tls === true ? 'ssl' : 'tcp'}:${bindHost}:${typeof a === 'object' && a !== null ? a.port : port}`;
          return this.endpoint;
        } catch (e) {
          lastErr = e as Error;
          if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.mode.port !== undefined) break;
        }
      }
      throw new Error(`no listen endpoint for vNF ${this.vnf}: ${lastErr?.message ?? 'the channel port range is exhausted'}`);
    }
    parseTarget(tcpTarget(this.mode.target));
    if (isTlsTarget(this.mode.target)) this.tlsAuthority();
    this.endpoint = this.mode.target;
    this.dialer = this.dial(this.mode.target);
    return this.endpoint;
  }

  private tlsAuthority(): ChannelTls {
    if (this.host.tls === undefined) throw new Error(`vNF ${this.vnf}: a TLS channel needs nicvisor's CA, and none is configured`);
    return this.host.tls;
  }

  /** A plain TCP server, or a TLS one that requires a client certificate naming this vNF. */
  private createEndpointServer(): Server {
    // Half-open, so a vNF that stops inside a message still hears OFPBRC_BAD_LEN (OfSocket).
    if (this.mode.mode !== 'listen' || this.mode.tls !== true) return createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    const tls = this.tlsAuthority();
    // The chain is checked here rather than by rejectUnauthorized, so that every refusal is audited with its reason.
    const server = createTlsServer({ ...tls.credentials, requestCert: true, rejectUnauthorized: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS }, (s) => {
      const peer = s.getPeerX509Certificate();
      const why =
        peer === undefined ? 'no client certificate' : s.authorized ? tls.refusal(peer, this.vnf) : `certificate not accepted (${String(s.authorizationError)})`;
      if (why !== undefined) {
        this.refuseTls(`${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`, why);
        s.destroy();
        return;
      }
      this.accept(s);
    });
    server.on('tlsClientError', (e: NodeJS.ErrnoException, s: TLSSocket) => {
      this.refuseTls(`${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`, `TLS handshake failed (${e.code ?? e.message})`);
    });
    return server;
  }

  /** A peer refused at the TLS handshake: logged and audited; nothing else happens. */
  private refuseTls(peer: string, why: string): void {
    const detail = `from ${peer}: ${why}`;
    this.log(`${this.vnf}: TLS peer refused ${detail}`);
    this.host.audit?.({ vnf: this.vnf, tenant: this.ownership.tenant, datapathId: this.datapathId, message: 'TLS_HANDSHAKE', result: 'denied', count: 1, detail });
  }

  private bind(host: string, port: number): Promise<Server> {
    return new Promise<Server>((resolve, reject) => {
      const server = this.createEndpointServer();
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log(`${this.vnf}: listen endpoint: ${e.message}`));
        resolve(server);
      });
    });
  }

  /**
   * Connect mode: keep one connection to the vNF's controller, reconnecting
   * with backoff (100 ms doubling to 8 s). With an `ssl:` target nicvisor
   * presents its own certificate and accepts only one naming this vNF; a
   * refused controller is audited once per distinct reason, not per retry.
   */
  private dial(target: string): { stop(): void } {
    const { host, port } = parseTarget(tcpTarget(target));
    const tls = isTlsTarget(target) ? this.tlsAuthority() : undefined;
    let lastRefusal: string | undefined;
    let backoff = 100;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let current: Socket | undefined;
    const retry = () => {
      current = undefined;
      if (stopped || this.closed) return;
      timer = setTimeout(attempt, backoff);
      backoff = Math.min(8000, backoff * 2);
    };
    const attempt = () => {
      timer = undefined;
      if (stopped) return;
      const s: Socket =
        tls === undefined
          ? netConnect({ host, port })
          : tlsConnect({
              host,
              port,
              ...tls.credentials,
              checkServerIdentity: (_host, cert) => {
                const why = tls.refusal(new X509Certificate(cert.raw), this.vnf);
                return why === undefined ? undefined : new Error(why);
              },
            });
      current = s;
      let tcpUp = false;
      s.once('connect', () => (tcpUp = true));
      s.setTimeout(5000, () => s.destroy(new Error('connect timed out')));
      const onFail = (e: NodeJS.ErrnoException) => {
        if (tls !== undefined && tcpUp) {
          const why = e.code !== undefined ? `${e.code}: ${e.message}` : e.message;
          if (why !== lastRefusal) this.refuseTls(`${host}:${port}`, why);
          lastRefusal = why;
        }
        retry();
      };
      s.once('error', onFail);
      s.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        s.off('error', onFail);
        s.setTimeout(0);
        backoff = 100;
        lastRefusal = undefined;
        this.accept(s, retry);
      });
    };
    attempt();
    return {
      stop() {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        current?.destroy();
      },
    };
  }

  /** The compute node whose relay may carry this channel, if any. */
  get node(): string | undefined {
    return this.mode.node;
  }

  /** A connection from this vNF through its node's relay (authenticated by RelayEndpoint); bytes already read were unshifted. */
  acceptRelayed(socket: Socket): void {
    this.accept(socket);
    socket.resume();
  }

  private accept(socket: Socket, onEnd?: () => void): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const io = new OfSocket(socket);
    const conn = new DelegatedConnection(io, this);
    this.connections.add(conn);
    io.attach({
      onMessage: (raw) => conn.receive(raw),
      onClose: () => {
        conn.closed_();
        this.connections.delete(conn);
        onEnd?.();
      },
    });
    conn.start();
  }

  /** Stops the endpoint and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.asyncSub.unsubscribe();
    this.dialer?.stop();
    for (const c of [...this.connections]) c.close('channel closed');
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.queued.length = 0;
  }

  /** New ports or quotas (PATCH): later messages are checked against it. */
  updateOwnership(own: Ownership): void {
    this.ownership = own;
  }

  // ---------------------------------------------------------------------------
  // Towards the NIC

  nic(): NicSession | undefined {
    return this.host.readySession(this.datapathId);
  }

  /** Runs `fn` with the NIC session now, or once it is back. */
  withNic(fn: (s: NicSession) => void): void {
    const s = this.nic();
    if (s !== undefined && this.queued.length === 0) {
      fn(s);
      return;
    }
    if (this.queued.length >= MAX_QUEUED) {
      this.log(`${this.vnf}: NIC away and ${MAX_QUEUED} messages queued: closing the vNF's connections`);
      for (const c of [...this.connections]) c.close('NIC unavailable');
      this.queued.length = 0;
      return;
    }
    this.queued.push(fn);
  }

  /** The NIC session is ready (connected and resynced): send what waited. */
  nicReady(s: NicSession): void {
    const q = this.queued.splice(0);
    for (const fn of q) fn(s);
  }

  /** A request to the NIC, repeated on the next session if the connection drops first. */
  nicCall<T>(fn: (s: NicSession) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (s: NicSession) => {
        fn(s).then(resolve, (e: Error) => {
          if (e instanceof NicClosedError && !this.closed) this.withNic(run);
          else reject(e);
        });
      };
      this.withNic(run);
    });
  }

  /** A relayed message: sent now or when the NIC is back; sent again if lost with the connection. */
  relayToNic(r: Relayed): void {
    if (r.flowAdd) this.pendingFlowAdds++;
    const s = this.nic();
    if (s !== undefined && this.queued.length === 0) s.sendOneway(r.out, this.relaySink, r);
    else this.withNic((s2) => s2.sendOneway(r.out, this.relaySink, r));
  }

  /** Hears about every relayed message of this channel (one object, no closure per message). */
  private readonly relaySink: OnewaySink<Relayed> = {
    confirmed: (r) => {
      r.conn.relayEnded();
      if (r.flowAdd) {
        this.pendingFlowAdds--;
        this.host.shadow.applyFlowAdd(this.datapathId, r.shadowBytes(), this.owner);
        this.countAccepted(OFPT.FLOW_MOD);
      } else {
        this.pendingEnded(r.msg!, true);
      }
    },
    failed: (r, e) => {
      r.conn.relayEnded();
      if (r.flowAdd) this.pendingFlowAdds--;
      else this.pendingEnded(r.msg!, false);
      this.audit(r.type, 'failed', `NIC error type ${e.errorType}`);
      const g = r.group;
      if (g !== undefined) {
        if (g.failed) return;
        g.failed = true;
      }
      r.conn.nicError(e, r.vnfXid, r.vnfBytes());
    },
    lost: (r) => {
      if (this.closed) return;
      this.withNic((s) => s.sendOneway(r.out, this.relaySink, r));
    },
  };

  /** A barrier of ours, to confirm relayed messages when the vNF sends none. */
  confirm(): void {
    this.nicBarrier(() => undefined);
  }

  /**
   * A barrier on the NIC, sent again on the next session if the connection
   * drops first (as `nicCall`); `done` hears of its end, with the error if it
   * failed otherwise. Callbacks rather than a promise: a vNF's barrier is
   * answered in the turn the NIC's answer arrives.
   */
  nicBarrier(done: (err?: Error) => void): void {
    const run = (s: NicSession): void =>
      s.barrierThen(
        () => done(),
        (e) => {
          if (e instanceof NicClosedError && !this.closed) this.withNic(run);
          else done(e);
        },
      );
    this.withNic(run);
  }

  /** Audits what was accepted and commits the shadow; a promise only while the store still has something to commit. */
  flush(): void | Promise<void> {
    this.flushAudit();
    return this.host.shadow.flush();
  }

  /** The tenant's usage as tenancy's verification needs it for one message type. */
  usageFor(type: number): Usage {
    const shadow = this.host.shadow;
    if (type === OFPT.FLOW_MOD) return { flows: shadow.flowCount(this.datapathId, this.owner) + this.pendingFlowAdds, groups: NO_IDS, meters: NO_IDS };
    if (type === OFPT.GROUP_MOD || type === OFPT.METER_MOD) return shadow.usage(this.datapathId, this.owner);
    return NO_USAGE;
  }

  /** A relayed message (other than a flow ADD, see relaySink) was confirmed (recorded in the shadow) or refused by the NIC. */
  private pendingEnded(m: OfpMessage, confirmed: boolean): void {
    if (!confirmed) return;
    const shadow = this.host.shadow;
    switch (m.type) {
      case OFPT.FLOW_MOD:
        shadow.applyFlowMod(this.datapathId, m as FlowMod, this.owner);
        break;
      case OFPT.GROUP_MOD:
        shadow.applyGroupMod(this.datapathId, m as GroupMod, this.owner);
        break;
      case OFPT.METER_MOD:
        shadow.applyMeterMod(this.datapathId, m as MeterMod, this.owner);
        break;
      default:
        return;
    }
    this.countAccepted(m.type);
  }

  private countAccepted(type: number): void {
    this.accepted.set(type, (this.accepted.get(type) ?? 0) + 1);
  }

  audit(type: number, result: MutationAudit['result'], detail?: string): void {
    this.host.audit?.({
      vnf: this.vnf,
      tenant: this.ownership.tenant,
      datapathId: this.datapathId,
      message: TYPE_NAMES[type] ?? String(type),
      result,
      count: 1,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  /** Accepted mutations since the last flush, one audit record per message type. */
  private flushAudit(): void {
    if (this.accepted.size === 0) return;
    for (const [type, count] of this.accepted) {
      this.host.audit?.({ vnf: this.vnf, tenant: this.ownership.tenant, datapathId: this.datapathId, message: TYPE_NAMES[type] ?? String(type), result: 'accepted', count });
    }
    this.accepted.clear();
  }

  /** Flow stats from the NIC (physical terms) with each flow's flags as its owner gave them (Shadow.ownersFlags); changed in place. */
  withOwnersFlags(parts: MultipartReply[]): MultipartReply[] {
    const shadow = this.host.shadow;
    for (const p of parts) {
      if (p.body.mpType !== OFPMP.FLOW) continue;
      for (const f of p.body.entries) f.flags = shadow.ownersFlags(this.datapathId, f.tableId, f.priority, f.match, f.flags);
    }
    return parts;
  }

  filterSingle(reply: OfpMessage): OfpMessage {
    return reply.type === OFPT.QUEUE_GET_CONFIG_REPLY ? filterQueueGetConfigReply(this.ownership, reply as QueueGetConfigReply) : reply;
  }

  // ---------------------------------------------------------------------------
  // Roles (§6.3.6), per vNF

  roleRequest(conn: DelegatedConnection, role: number, generationId: bigint): { role: number; generationId: bigint } | { error: number } {
    if (role > OFPCR_ROLE.SLAVE) return { error: OFPRRFC.BAD_ROLE };
    if (role === OFPCR_ROLE.MASTER || role === OFPCR_ROLE.SLAVE) {
      if (this.generationId !== undefined && BigInt.asIntN(64, generationId - this.generationId) < 0n) return { error: OFPRRFC.STALE };
      this.generationId = generationId;
    }
    if (role !== OFPCR_ROLE.NOCHANGE) {
      if (role === OFPCR_ROLE.MASTER) for (const c of this.connections) if (c !== conn && c.role === OFPCR_ROLE.MASTER) c.role = OFPCR_ROLE.SLAVE;
      conn.role = role;
    }
    return { role: conn.role, generationId: this.generationId ?? 0n };
  }

  // ---------------------------------------------------------------------------
  // From the NIC

  private fromNic(e: NicAsyncEvent): void {
    const own = this.ownership;
    const msg = e.msg;
    switch (msg.type) {
      case OFPT.PACKET_IN: {
        const r = routePacketIn(own, msg);
        if (r.to !== 'vnf') return;
        const t = takePacketIn(this.bucket, Date.now(), own.quotas);
        this.bucket = t.bucket;
        if (!t.allowed) {
          this.packetInsDropped++;
          return;
        }
        this.deliverPacketIn(r.message);
        return;
      }
      case OFPT.FLOW_REMOVED: {
        const f = this.host.shadow.flowRemoved(this.datapathId, msg);
        // Asked for by nicvisor alone (askFlowRemoved): the shadow has heard of it, the vNF did not ask.
        if (f !== undefined && (f.flags & OFPFF.SEND_FLOW_REM) === 0) return;
        const owner: Principal | undefined = f === undefined ? undefined : f.owner === OPERATOR_OWNER ? OPERATOR : this.principal;
        const r = routeFlowRemoved(own, msg, owner);
        if (r.to === 'vnf') this.deliver('flowRemoved', msg.reason, encodeMessage(r.message));
        return;
      }
      case OFPT.PORT_STATUS: {
        const r = routePortStatus(own, msg);
        if (r.to === 'vnf') this.deliver('portStatus', msg.reason, encodeMessage(r.message));
        return;
      }
    }
  }

  private deliver(kind: AsyncKind, reason: number, raw: Buffer): void {
    for (const c of this.connections) if (c.wants(kind, reason)) c.deliver(raw);
  }

  /** To every connection that wants it, cut to its miss_send_len for a table miss. */
  private deliverPacketIn(pi: PacketIn): void {
    let full: Buffer | undefined;
    for (const c of this.connections) {
      if (!c.wants('packetIn', pi.reason)) continue;
      const limit = c.missSendLen;
      if (pi.reason === 0 && limit !== OFPCML.NO_BUFFER && pi.data.length > limit) {
        c.deliver(encodeMessage({ ...pi, data: pi.data.subarray(0, limit) }));
      } else {
        full ??= encodeMessage(pi);
        c.deliver(full);
      }
    }
  }
}

/** The `tcp:` form of an `ssl:` target (same host and port). */
function tcpTarget(target: string): string {
  return isTlsTarget(target) ? `tcp:${target.slice(4)}` : target;
}
