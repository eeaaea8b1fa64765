/**
 * InstanceRuntime over the OpenFlow core (apps/controller/src/openflow) and
 * a NIC driver (apps/controller/src/nic): the glue the orchestrator API
 * drives. Allocation goes through the driver; the instance dials the core's
 * NIC listener; the core resyncs it, installs the operator's table-0 flows
 * and opens the vNF's delegated channel.
 */
import { interval, Observable, Subject, filter, map, merge, switchMap, from, catchError, EMPTY } from 'rxjs';
import { FlowMod, GroupMod, MeterMod, MultipartReply, OFPMP, OFPP, type MultipartRequest, type PortStats, type TableStatsReply, OFPT, OFPTT, OfpError, validateMatch } from '@nicvisor/openflow';
import { OPERATOR, ownerOfTable, tenantPrincipal, type Ownership, type Principal } from '@nicvisor/tenancy';
import type { ControllerConfig } from '../config.js';
import { EmbeddedNicDriver } from '../nic/embedded-driver.js';
import type { CreateInstanceRequest, NicDriver } from '../nic/nic-driver.js';
import { OvsNicDriver } from '../nic/ovs-driver.js';
import { RemoteNicDriver } from '../nic/remote-driver.js';
import { OpenflowCore, type OpenflowCoreOptions } from '../openflow/core.js';
import type { ShadowChange } from '../openflow/shadow.js';
import { jsonOf } from './flow-json.js';
import { DomainError } from './instances.errors.js';
import type { InstanceEvent, InstanceRuntime, OwnedEntry, OwnedFlow, RuntimeInstanceSpec, RuntimeStartResult } from './instance-runtime.js';

interface Running {
  datapathId: bigint;
  own: Ownership;
}

/** How often the events stream sends a counters event (ms). */
export const COUNTERS_INTERVAL_MS = 2000;

export class CoreRuntime implements InstanceRuntime {
  private readonly running = new Map<string, Running>();
  /** Pending `allocateLater` attempts (cleared on close). */
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly changes = new Subject<ShadowChange>();
  /** Shadow changes while someone listens: with no events stream open, the shadow makes no change records on the hot path. */
  private readonly listened = new Observable<ShadowChange>((subscriber) => {
    const sub = this.changes.subscribe(subscriber);
    this.core.shadow.onChange = (c) => this.changes.next(c);
    return () => {
      sub.unsubscribe();
      if (!this.changes.observed) this.core.shadow.onChange = undefined;
    };
  });

  constructor(
    readonly core: OpenflowCore,
    readonly driver: NicDriver,
  ) {}

  /** Starts the core's NIC listener and the driver of the configured NIC. */
  static async create(config: ControllerConfig, opts: Omit<OpenflowCoreOptions, 'listener' | 'channelPorts'> = {}): Promise<CoreRuntime> {
    const { first, last } = config.channels.ports;
    const core = new OpenflowCore({
      ...opts,
      listener: { host: config.openflow.host, port: config.openflow.port, ...(config.openflow.unixPath === undefined ? {} : { unixPath: config.openflow.unixPath }) },
      ...(first === 0 ? {} : { channelPorts: `${first}-${last}` }),
    });
    await core.start();
    const controllerTarget = (): string => core.nicTarget;
    const nic = config.nic;
    const driver: NicDriver =
      nic.kind === 'embedded'
        ? new EmbeddedNicDriver({ ports: nic.ports, controllerTarget })
        : nic.kind === 'tcp'
          ? new RemoteNicDriver({ target: `tcp:${nic.host}:${nic.port}`, controllerTarget })
          : // A userspace Open vSwitch runs in a network namespace of its own: it reaches us through the unix socket.
            new OvsNicDriver({ db: nic.db, controllerTarget: () => core.listener.unixTarget ?? core.nicTarget });
    return new CoreRuntime(core, driver);
  }

  /** The bound NIC-side OpenFlow port. */
  get openflowPort(): number {
    return this.core.listener.port;
  }

  async start(spec: RuntimeInstanceSpec): Promise<RuntimeStartResult> {
    const own = spec.ownership;
    const existing = this.core.channel(own.vnf);
    if (existing !== undefined) return { endpoint: existing.endpoint };
    const req: CreateInstanceRequest = { vnf: own.vnf, datapathId: spec.datapathId, ports: own.ports, nTables: own.tableCount };
    let allocated = true;
    if (spec.restore === true) {
      // A NIC whose management endpoint is down at restart must not cost the instance its channel: keep asking it.
      allocated = await this.allocate(req).then(
        () => true,
        () => false,
      );
    } else {
      await this.allocate(req);
    }
    this.running.set(own.vnf, { datapathId: spec.datapathId, own });
    if (!allocated) this.allocateLater(req);
    if (spec.restore !== true) {
      await this.core.waitReady(spec.datapathId);
      await this.core.installOperatorFlows(own, spec.datapathId);
    }
    const ch = await this.core.openChannel(
      own,
      spec.datapathId,
      {
        ...(spec.channel.mode === 'listen'
          ? { mode: 'listen', host: spec.channel.host, ...(spec.channel.port === undefined ? {} : { port: spec.channel.port }), ...(spec.channel.tls ? { tls: true } : {}) }
          : { mode: 'connect', target: spec.channel.target }),
        ...(spec.channel.node === undefined ? {} : { node: spec.channel.node }),
      },
    );
    if (!allocated) return { endpoint: ch.endpoint, nicPending: true };
    if (spec.restore === true) {
      // Usually the NIC is back within moments; if not, the channel is open already and queues until it is.
      const back = await this.core.waitReady(spec.datapathId).then(
        () => true,
        () => false,
      );
      if (!back) return { endpoint: ch.endpoint, nicPending: true };
    }
    return { endpoint: ch.endpoint };
  }

  /** Creates the instance on the NIC unless the NIC has it already (a NIC that outlived the controller). */
  private async allocate(req: CreateInstanceRequest): Promise<void> {
    const onNic = (await this.driver.listInstances()).some((i) => i.datapathId === req.datapathId);
    if (!onNic) await this.driver.createInstance(req);
  }

  /**
   * Retries `allocate` with backoff (1 s doubling to 30 s) while the vNF's
   * instance is running here; once the NIC has it, it dials in and is
   * reconciled from the shadow like any reconnecting instance.
   */
  private allocateLater(req: CreateInstanceRequest, delayMs = 1000): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (this.running.get(req.vnf)?.datapathId !== req.datapathId) return;
      this.allocate(req).catch(() => this.allocateLater(req, Math.min(delayMs * 2, 30_000)));
    }, delayMs);
    timer.unref();
    this.retries.add(timer);
  }

  async update(previous: Ownership, next: Ownership): Promise<void> {
    const r = this.get(next.vnf);
    const before = new Set(previous.ports);
    const after = new Set(next.ports);
    const added = next.ports.filter((p) => !before.has(p));
    const removed = previous.ports.filter((p) => !after.has(p));
    if (removed.length > 0) {
      await this.core.removeOperatorFlows(r.datapathId, removed);
      for (const p of removed) await this.driver.detachPort?.(p);
    }
    for (const p of added) await this.driver.attachPort?.(r.datapathId, p);
    if (added.length > 0) await this.core.installOperatorFlows(next, r.datapathId, added);
    this.core.channel(next.vnf)?.updateOwnership(next);
    r.own = next;
  }

  async destroy(vnf: string): Promise<void> {
    const r = this.running.get(vnf);
    await this.core.closeChannel(vnf);
    if (r === undefined) return;
    this.running.delete(vnf);
    await this.core.wipeInstance(r.datapathId);
    try {
      await this.driver.destroyInstance(r.datapathId);
    } catch (e) {
      if ((e as { code?: string }).code !== 'NO_SUCH_INSTANCE') throw e;
    }
    this.core.forgetInstance(r.datapathId);
  }

  connected(vnf: string): boolean {
    const r = this.running.get(vnf);
    return r !== undefined && this.core.readySession(r.datapathId) !== undefined;
  }

  private get(vnf: string): Running {
    const r = this.running.get(vnf);
    if (r === undefined) throw new Error(`vNF ${vnf} is not running`);
    return r;
  }

  private principal(r: Running, owner: string | undefined): Principal | null {
    if (owner === undefined) return null;
    return owner === 'operator' ? OPERATOR : tenantPrincipal(owner === r.own.vnf ? r.own.tenant : owner);
  }

  async flows(vnf: string): Promise<OwnedFlow[]> {
    const r = this.get(vnf);
    const s = this.core.readySession(r.datapathId);
    if (s !== undefined) {
      const stats = await s.flowStats();
      const shadow = this.core.shadow;
      // Flags as each owner gave them (Shadow.ownersFlags), as the vNF's own flow stats show them.
      for (const f of stats) f.flags = shadow.ownersFlags(r.datapathId, f.tableId, f.priority, f.match, f.flags);
      return stats.map((f) => ({ flow: f, owner: this.principal(r, shadow.ownerOfFlow(r.datapathId, f.tableId, f.priority, f.match)) }));
    }
    return this.core.shadow.flows(r.datapathId).map((f) => ({
      flow: { ...f, key: undefined, durationSec: 0, durationNsec: 0, packetCount: 0n, byteCount: 0n },
      owner: this.principal(r, f.owner),
    }));
  }

  async groups(vnf: string): Promise<Array<OwnedEntry<unknown>>> {
    const r = this.get(vnf);
    return this.core.shadow.groups(r.datapathId).map(({ owner, ...entry }) => ({ entry, owner: this.principal(r, owner) }));
  }

  async meters(vnf: string): Promise<Array<OwnedEntry<unknown>>> {
    const r = this.get(vnf);
    return this.core.shadow.meters(r.datapathId).map(({ owner, ...entry }) => ({ entry, owner: this.principal(r, owner) }));
  }

  async tables(vnf: string): Promise<Array<OwnedEntry<unknown>>> {
    const r = this.get(vnf);
    const s = this.core.readySession(r.datapathId);
    if (s === undefined) {
      return Array.from({ length: r.own.tableCount }, (_, t) => ({ entry: { tableId: t }, owner: ownerOfTable(r.own, t) ?? null }));
    }
    const parts: MultipartReply[] = await s.multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.TABLE } } as never);
    const stats = parts.flatMap((p) => (p.body.mpType === OFPMP.TABLE ? (p.body as TableStatsReply).entries : []));
    return stats.filter((t) => t.tableId < r.own.tableCount).map((t) => ({ entry: t, owner: ownerOfTable(r.own, t.tableId) ?? null }));
  }

  /**
   * The instance's ports: each description (PORT_DESC, kept current by
   * PORT_STATUS) merged with its counters from a PORT_STATS request through
   * the NIC session. Without a session, or if the NIC refuses the request,
   * what is known without counters.
   */
  async ports(vnf: string): Promise<unknown[]> {
    const r = this.get(vnf);
    const s = this.core.readySession(r.datapathId);
    if (s === undefined) return r.own.ports.map((portNo) => ({ portNo }));
    let stats: PortStats[] = [];
    try {
      const req: MultipartRequest = { type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY } };
      const parts = await s.multipart(req);
      stats = parts.flatMap((p) => (p.body.mpType === OFPMP.PORT_STATS ? p.body.entries : []));
    } catch {
      // descriptions only: the counters print as "?"
    }
    const byPort = new Map(stats.map((st) => [st.portNo, st]));
    return [...s.ports.values()].map((d) => ({ ...d, ...byPort.get(d.portNo) }));
  }

  async operatorFlowMod(vnf: string, mod: FlowMod): Promise<void> {
    const r = this.get(vnf);
    validateMatch(mod.match);
    const s = await this.core.waitReady(r.datapathId);
    try {
      await this.core.sendOperator(s, r.datapathId, [mod]);
    } catch (e) {
      const m = /type (\d+) code (\d+)/.exec((e as Error).message);
      if (m) throw new OfpError(Number(m[1]), Number(m[2]), 'the NIC refused the operator flow-mod');
      throw e;
    }
  }

  async operatorGroupMeterMods(vnf: string, mods: Array<GroupMod | MeterMod>): Promise<void> {
    const r = this.get(vnf);
    if (mods.length === 0) return;
    const s = await this.core.waitReady(r.datapathId);
    const refused = await this.core.sendOperatorGroupMeterMods(s, r.datapathId, mods);
    const first = refused[0];
    if (first === undefined) return;
    const what = first.mod.type === OFPT.GROUP_MOD ? `group ${first.mod.groupId}` : `meter ${first.mod.meterId}`;
    const e = first.error;
    if ('code' in e) throw new OfpError(e.errorType, e.code, `the NIC refused the operator ${what}`);
    throw new Error(`the NIC refused the operator ${what} (experimenter error ${e.expType})`);
  }

  async inject(vnf: string, port: number, frame: Buffer): Promise<boolean> {
    this.get(vnf);
    if (this.driver.inject === undefined) throw new DomainError('UNAVAILABLE', `NIC ${this.driver.name} cannot inject frames`);
    return this.driver.inject(port, frame);
  }

  events(vnf: string): Observable<InstanceEvent> {
    const r = this.get(vnf);
    const flowEvents = this.listened.pipe(
      filter((c) => c.datapathId === r.datapathId && (c.kind === 'flow-added' || c.kind === 'flow-modified' || c.kind === 'flow-removed')),
      map((c): InstanceEvent => {
        const f = (c as Extract<ShadowChange, { flow: unknown }>).flow;
        const owner = this.principal(r, f.owner);
        return {
          type: c.kind as InstanceEvent['type'],
          data: { owner: owner === null ? null : owner.kind === 'operator' ? 'operator' : `tenant:${owner.tenant}`, flow: jsonOf({ ...f, key: undefined }) as Record<string, unknown> },
        };
      }),
    );
    const counters = interval(COUNTERS_INTERVAL_MS).pipe(
      switchMap(() => {
        const s = this.core.readySession(r.datapathId);
        if (s === undefined) return EMPTY;
        return from(s.flowStats(OFPTT.ALL)).pipe(
          map((stats): InstanceEvent => ({
            type: 'counters',
            data: {
              flows: stats.length,
              packets: stats.reduce((a, f) => a + f.packetCount, 0n).toString(),
              bytes: stats.reduce((a, f) => a + f.byteCount, 0n).toString(),
            },
          })),
          catchError(() => EMPTY),
        );
      }),
    );
    return merge(flowEvents, counters);
  }

  async close(): Promise<void> {
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    this.changes.complete();
    await this.core.stop();
    await this.driver.close();
  }
}
