/**
 * A vNF's delegated OpenFlow channel: the endpoint (listen: a TCP port of
 * its own; connect: nicvisor dials the vNF's controller like a switch would,
 * reconnecting with exponential backoff), its connections, and what they
 * share — the ownership, the roles' generation id, the packet-in token
 * bucket, the pending (unconfirmed) mutations, and the way to the NIC.
 *
 * While the NIC instance is disconnected (or being resynced), what the vNF
 * sends towards it is queued and sent once it is back; mutations that were
 * in flight when it dropped are sent again after the resync, so the vNF
 * does not notice.
 */
import { createServer, Server, Socket, connect as netConnect } from 'node:net';
import { Subscription } from 'rxjs';
import {
  encodeMessage,
  FlowMod,
  GroupMod,
  MeterMod,
  OFPCML,
  OFPCR_ROLE,
  OFPRRFC,
  OFPT,
  OfpMessage,
  PacketIn,
  QueueGetConfigReply,
} from '@nicvisor/openflow';
import {
  filterQueueGetConfigReply,
  fullPacketInBucket,
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
import { AsyncKind, DelegatedConnection } from './delegated-connection.js';
import { NicAsyncEvent, NicClosedError, NicSession, OnewaySink } from './nic-session.js';
import { OfSocket } from './of-socket.js';
import type { Relayed } from './relayed.js';
import { OPERATOR_OWNER, Owner, Shadow } from './shadow.js';

export type ChannelMode =
  | { mode: 'listen'; host?: string; /** explicit port; 0 = ephemeral; absent = from the range */ port?: number }
  | { mode: 'connect'; target: string };

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
  audit?(e: MutationAudit): void;
  log(line: string): void;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OFPT).map(([k, v]) => [v, k]));
const MAX_QUEUED = 100_000;

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

  constructor(
    public ownership: Ownership,
    readonly datapathId: bigint,
    readonly mode: ChannelMode,
    private readonly host: ChannelHost,
  ) {
    this.owner = ownership.vnf;
    this.principal = tenantPrincipal(ownership.tenant);
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
          this.endpoint = `tcp:${bindHost}:${typeof a === 'object' && a !== null ? a.port : port}`;
          return this.endpoint;
        } catch (e) {
          lastErr = e as Error;
          if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.mode.port !== undefined) break;
        }
      }
      throw new Error(`no listen endpoint for vNF ${this.vnf}: ${lastErr?.message ?? 'the channel port range is exhausted'}`);
    }
    parseTarget(this.mode.target);
    this.endpoint = this.mode.target;
    this.dialer = this.dial(this.mode.target);
    return this.endpoint;
  }

  private bind(host: string, port: number): Promise<Server> {
    return new Promise<Server>((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log(`${this.vnf}: listen endpoint: ${e.message}`));
        resolve(server);
      });
    });
  }

  /** Connect mode: keep one connection to the vNF's controller, reconnecting with backoff (100 ms doubling to 8 s). */
  private dial(target: string): { stop(): void } {
    const { host, port } = parseTarget(target);
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
      const s = netConnect({ host, port });
      current = s;
      s.setTimeout(5000, () => s.destroy(new Error('connect timed out')));
      const onFail = () => retry();
      s.once('error', onFail);
      s.once('connect', () => {
        s.off('error', onFail);
        s.setTimeout(0);
        backoff = 100;
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
        this.host.shadow.applyFlowAdd(this.datapathId, r.out, this.owner);
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
    this.nicCall((s) => s.barrier()).catch(() => undefined);
  }

  flush(): Promise<void> {
    this.flushAudit();
    return this.host.shadow.flush();
  }

  /** The tenant's usage as tenancy's verification needs it for one message type. */
  usageFor(type: number): Usage {
    const shadow = this.host.shadow;
    if (type === OFPT.FLOW_MOD) return { flows: shadow.flowCount(this.datapathId, this.owner) + this.pendingFlowAdds, groups: [], meters: [] };
    if (type === OFPT.GROUP_MOD || type === OFPT.METER_MOD) return shadow.usage(this.datapathId, this.owner);
    return { flows: 0, groups: [], meters: [] };
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
