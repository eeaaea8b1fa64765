/**
 * The controller's OpenFlow core, as plain objects: the NIC-side listener
 * and registry, the shadow, the resync on every (re)connection, the
 * operator's table-0 steering flows, and the vNFs' delegated channels.
 * OpenflowService (openflow.service.ts) wraps it for NestJS; the
 * orchestrator's InstancesService calls it.
 */
import { Subscription } from 'rxjs';
import { encodeMessage, FlowMod, GroupMod, MeterMod, OFPFC, OFPG, OFPGC, OFPIT, OFPM, OFPMC, OFPP, OFPT, OFPTT, type ErrorMessage, type ExperimenterError } from '@nicvisor/openflow';
import { OPERATOR_COOKIES, Ownership } from '@nicvisor/tenancy';
import { ChannelConfig, ChannelTls, MutationAudit, VnfChannel } from './delegated-channel.js';
import type { ChannelCounters } from '../metrics/channel-counters.js';
import { ChannelPorts } from './channel-ports.js';
import { NicListener, NicListenerOptions } from './nic-listener.js';
import { NicRegistry } from './nic-registry.js';
import { dpidText, NicSession } from './nic-session.js';
import { resync, ResyncResult } from './resync.js';
import { askFlowRemoved, OPERATOR_OWNER, Shadow, ShadowSink } from './shadow.js';

export interface OpenflowCoreOptions {
  listener?: NicListenerOptions;
  /** Listen endpoints' port range, "FIRST-LAST" (NICVISOR_CHANNEL_PORTS). Default 16653-17652. */
  channelPorts?: string;
  shadowSink?: ShadowSink;
  audit?: (e: MutationAudit) => void;
  /** nicvisor's CA, for TLS delegated channels. */
  tls?: ChannelTls;
  /** The message counters of a tenant's channels (metrics). */
  counters?: (tenant: string) => ChannelCounters;
  log?: (line: string) => void;
}

/** The operator's steering cookie for table 0 (in the operator's cookie namespace). */
export const OPERATOR_STEERING_COOKIE = OPERATOR_COOKIES.value | 0x1n;

export class OpenflowCore {
  readonly registry = new NicRegistry();
  readonly listener: NicListener;
  readonly shadow: Shadow;
  readonly channelPorts: ChannelPorts;
  private readonly channels = new Map<string, VnfChannel>();
  private readonly synced = new Map<bigint, NicSession>();
  private readonly syncWaiters = new Map<bigint, Array<(s: NicSession) => void>>();
  private readonly subs: Subscription[] = [];
  /** The last resync of each datapath, for inspection and tests. */
  readonly lastResync = new Map<bigint, ResyncResult & { at: number }>();
  private readonly logFn: (line: string) => void;

  constructor(private readonly opts: OpenflowCoreOptions = {}) {
    this.logFn = opts.log ?? (() => undefined);
    this.listener = new NicListener(this.registry, { ...opts.listener, log: opts.listener?.log ?? this.logFn });
    this.shadow = new Shadow(opts.shadowSink);
    this.channelPorts = new ChannelPorts(opts.channelPorts);
    this.subs.push(this.registry.connected$.subscribe((s) => void this.onConnected(s)));
    this.subs.push(
      this.registry.disconnected$.subscribe(({ datapathId, reason }) => {
        this.synced.delete(datapathId);
        this.logFn(`NIC instance ${dpidText(datapathId)} disconnected: ${reason}`);
      }),
    );
  }

  /** Starts the NIC-side listener; resolves with its port. */
  start(): Promise<number> {
    return this.listener.listen();
  }

  /** `tcp:HOST:PORT` of the NIC-side listener, for NIC drivers. */
  get nicTarget(): string {
    return this.listener.target;
  }

  private async onConnected(s: NicSession): Promise<void> {
    const dpid = s.datapathId!;
    try {
      const r = await resync(s, this.shadow);
      this.lastResync.set(dpid, { ...r, at: Date.now() });
      if (r.flowsAdded + r.flowsRemoved + r.groupsAdded + r.groupsRemoved + r.metersAdded + r.metersRemoved > 0) {
        this.logFn(`resync ${dpidText(dpid)}: ${JSON.stringify(r)}`);
      }
    } catch (e) {
      this.logFn(`resync ${dpidText(dpid)} failed: ${(e as Error).message}`);
      if (s.state === 'closed') return;
    }
    if (s.state === 'closed' || this.registry.get(dpid) !== s) return;
    this.synced.set(dpid, s);
    const ws = this.syncWaiters.get(dpid) ?? [];
    this.syncWaiters.delete(dpid);
    for (const w of ws) w(s);
    for (const ch of this.channels.values()) if (ch.datapathId === dpid) ch.nicReady(s);
  }

  /** The datapath's session once connected and resynced. */
  readySession(datapathId: bigint): NicSession | undefined {
    return this.synced.get(datapathId);
  }

  /** Waits until the instance has connected and been resynced. */
  waitReady(datapathId: bigint, timeoutMs = 10_000): Promise<NicSession> {
    const s = this.synced.get(datapathId);
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<NicSession>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.syncWaiters.get(datapathId);
        if (list !== undefined) this.syncWaiters.set(datapathId, list.filter((w) => w !== done));
        reject(new Error(`instance ${dpidText(datapathId)} did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (sess: NicSession) => {
        clearTimeout(timer);
        resolve(sess);
      };
      const list = this.syncWaiters.get(datapathId) ?? [];
      list.push(done);
      this.syncWaiters.set(datapathId, list);
    });
  }

  /**
   * Installs the operator's table-0 steering flows of an instance:
   * `priority=1,in_port=P,actions=goto_table:<first tenant table>` for each
   * port, with the operator's cookie, and nothing else (no table-miss).
   * Only when physical table 0 is the operator's. Recorded in the shadow;
   * resolves once the NIC confirmed them.
   */
  async installOperatorFlows(own: Ownership, datapathId: bigint, ports: readonly number[] = own.ports): Promise<void> {
    if (!own.tables.operator.includes(0)) return;
    const first = own.tables.tenant.find((t) => t > 0);
    if (first === undefined) return;
    const s = await this.waitReady(datapathId);
    const mods = ports.map((p) => steeringFlow(p, first));
    await this.sendOperator(s, datapathId, mods);
  }

  /** Removes the steering flows of ports taken from an instance. */
  async removeOperatorFlows(datapathId: bigint, ports: readonly number[]): Promise<void> {
    const s = await this.waitReady(datapathId);
    const mods = ports.map((p): FlowMod => ({ ...steeringFlow(p, 0), command: OFPFC.DELETE_STRICT, instructions: [] }));
    await this.sendOperator(s, datapathId, mods);
  }

  /** Operator flow-mods (physical terms), recorded in the shadow as the operator's once confirmed. */
  async sendOperator(s: NicSession, datapathId: bigint, mods: FlowMod[]): Promise<void> {
    const errors: string[] = [];
    for (const fm of mods) {
      const raw = encodeMessage(fm);
      if (fm.command === OFPFC.ADD) askFlowRemoved(raw);
      s.sendRaw(raw, {
        onConfirm: () => this.shadow.applyFlowMod(datapathId, fm, OPERATOR_OWNER),
        onError: (e) => errors.push(`type ${e.errorType} code ${'code' in e ? e.code : e.expType}`),
      });
    }
    await s.barrier();
    await this.shadow.flush();
    if (errors.length > 0) throw new Error(`NIC refused operator flows: ${errors.join(', ')}`);
  }

  /**
   * Operator group-mods and meter-mods (physical ids, the operator's reserved
   * range), recorded in the shadow as the operator's once confirmed. Resolves
   * with the NIC's refusals (empty when all were done), each with its mod.
   */
  async sendOperatorGroupMeterMods(
    s: NicSession,
    datapathId: bigint,
    mods: Array<GroupMod | MeterMod>,
  ): Promise<Array<{ mod: GroupMod | MeterMod; error: ErrorMessage | ExperimenterError }>> {
    const refused: Array<{ mod: GroupMod | MeterMod; error: ErrorMessage | ExperimenterError }> = [];
    for (const m of mods) {
      s.send(m, {
        onConfirm: () => (m.type === OFPT.GROUP_MOD ? this.shadow.applyGroupMod(datapathId, m, OPERATOR_OWNER) : this.shadow.applyMeterMod(datapathId, m, OPERATOR_OWNER)),
        onError: (error) => refused.push({ mod: m, error }),
      });
    }
    await s.barrier();
    await this.shadow.flush();
    return refused;
  }

  /** Removes every flow, group and meter of an instance (before it is destroyed) and forgets its shadow. */
  async wipeInstance(datapathId: bigint): Promise<void> {
    const s = this.readySession(datapathId);
    if (s !== undefined) {
      s.send({
        type: OFPT.FLOW_MOD,
        xid: 0,
        cookie: 0n,
        cookieMask: 0n,
        tableId: OFPTT.ALL,
        command: OFPFC.DELETE,
        idleTimeout: 0,
        hardTimeout: 0,
        priority: 0,
        bufferId: 0xffffffff,
        outPort: OFPP.ANY,
        outGroup: OFPG.ANY,
        flags: 0,
        match: [],
        instructions: [],
      });
      s.send({ type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.DELETE, groupType: 0, groupId: OFPG.ALL, buckets: [] });
      s.send({ type: OFPT.METER_MOD, xid: 0, command: OFPMC.DELETE, flags: 0, meterId: OFPM.ALL, bands: [] });
      await s.barrier().catch(() => undefined);
    }
    this.shadow.clear(datapathId);
    await this.shadow.flush();
  }

  /** Forgets a destroyed instance's session. */
  forgetInstance(datapathId: bigint): void {
    this.synced.delete(datapathId);
    this.registry.forget(datapathId);
  }

  // ---------------------------------------------------------------------------
  // Delegated channels

  /** Opens a vNF's delegated channel; resolves once listening (or dialling), with its endpoint. */
  async openChannel(own: Ownership, datapathId: bigint, mode: ChannelConfig): Promise<VnfChannel> {
    if (this.channels.has(own.vnf)) throw new Error(`vNF ${own.vnf} already has a channel`);
    const ch = new VnfChannel(own, datapathId, mode, {
      shadow: this.shadow,
      readySession: (d) => this.readySession(d),
      subscribeAsync: (d, next) => this.registry.async$(d).subscribe({ next }),
      allocatePort: () => this.channelPorts.candidates(),
      ...(this.opts.audit ? { audit: this.opts.audit } : {}),
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      ...(this.opts.counters ? { counters: this.opts.counters } : {}),
      log: this.logFn,
    });
    this.channels.set(own.vnf, ch);
    try {
      await ch.open();
    } catch (e) {
      this.channels.delete(own.vnf);
      await ch.close();
      throw e;
    }
    return ch;
  }

  channel(vnf: string): VnfChannel | undefined {
    return this.channels.get(vnf);
  }

  listChannels(): VnfChannel[] {
    return [...this.channels.values()];
  }

  async closeChannel(vnf: string): Promise<void> {
    const ch = this.channels.get(vnf);
    this.channels.delete(vnf);
    await ch?.close();
  }

  /** Closes channels, the listener and every NIC session; flushes the shadow. */
  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await Promise.all([...this.channels.values()].map((c) => c.close()));
    this.channels.clear();
    await Promise.resolve()
      .then(() => this.shadow.flush())
      .catch(() => undefined);
    await this.listener.close();
    this.registry.close();
  }
}

/** `priority=1,in_port=P,actions=goto_table:T` with the operator's cookie, in table 0. */
export function steeringFlow(port: number, gotoTable: number): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid: 0,
    cookie: OPERATOR_STEERING_COOKIE,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 1,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [{ field: 'in_port', value: port }],
    instructions: [{ type: OFPIT.GOTO_TABLE, tableId: gotoTable }],
  };
}
