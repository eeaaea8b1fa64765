/**
 * Instances: the orchestrator's view of one logical switch per vNF.
 *
 * Decides names, datapath ids (a counter persisted in the store), NIC port
 * ownership, the table layout (operator [0], tenant [1..T-1] by default) and
 * the delegated channel's endpoint (a port from NICVISOR_CHANNEL_PORTS, kept
 * across restarts); persists it; and has the runtime (the OpenFlow core) do
 * it on the NIC. Creation is idempotent on the stored request body.
 * Mutations are serialized, so two creates cannot take the same port.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Observable } from 'rxjs';
import { OFPG, OFPM, OFPP, OFPTT, type FlowMod, type GroupMod, type MeterMod } from '@nicvisor/openflow';
import { flowMatchesFilter, type FlowFilter } from '@nicvisor/openflow/text/index.js';
import { createOwnership, DEFAULT_TABLE_COUNT, OPERATOR_GROUPS, OPERATOR_METERS, type Ownership, type OwnershipError } from '@nicvisor/tenancy';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config.js';
import { isTlsTarget } from '../openflow/delegated-channel.js';
import { CertificateAuthority } from '../pki/ca.js';
import { CONTROLLER_STORE, type ControllerStore, type InstanceRecord } from './controller-store.js';
import {
  flowsJson,
  groupDelete,
  jsonOf,
  meterDelete,
  operatorFlowMod,
  operatorFlowModFromText,
  operatorGroupMod,
  operatorMeterMod,
  principalText,
  type FlowJson,
  type OperatorFlowOp,
} from './flow-json.js';
import { INSTANCE_RUNTIME, type ChannelPlacement, type ChannelSpec, type InstanceEvent, type InstanceRuntime } from './instance-runtime.js';
import {
  FLOW_JSON_FIELDS,
  OPERATOR_GROUP_RANGE,
  OPERATOR_METER_RANGE,
  type CreateInstanceDto,
  type InstanceView,
  type OperatorFlowDeleteDto,
  type OperatorFlowDto,
  type OperatorFlowFieldsDto,
  type OperatorFlowModifyDto,
  type OperatorGroupDeleteDto,
  type OperatorGroupDto,
  type OperatorMeterDeleteDto,
  type OperatorMeterDto,
  type UpdateInstanceDto,
  type ViewKind,
} from './instances.dto.js';
import { badRequest, conflict, DomainError, notFound } from './instances.errors.js';

export const DEFAULT_NIC = 'embedded';

/** JSON with object keys sorted, so equal requests compare equal whatever the key order. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The part of a create request that decides the instance: plain data, ports sorted. */
export function requestOf(dto: CreateInstanceDto): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(dto)) as Record<string, unknown>;
  plain.ports = [...dto.ports].sort((a, b) => a - b);
  plain.nic = dto.nic ?? DEFAULT_NIC;
  return plain;
}

export function formatDatapathId(d: bigint): string {
  return d.toString(16).padStart(16, '0');
}

function ownershipErrors(errors: OwnershipError[]): DomainError {
  const first = errors[0]!;
  return badRequest(errors.map((e) => e.message).join('; '), first.field === 'tableCount' ? 'tables.count' : first.field);
}

/** Table count: given, or one past the highest listed table when both sides are listed, or the default. */
function tableCount(dto: CreateInstanceDto): number {
  const t = dto.tables;
  if (t?.count !== undefined) return t.count;
  if (t?.operator !== undefined && t.tenant !== undefined) return Math.max(-1, ...t.operator, ...t.tenant) + 1;
  return DEFAULT_TABLE_COUNT;
}

@Injectable()
export class InstancesService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = new Logger('Instances');
  /** Mutations run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(CONTROLLER_STORE) private readonly store: ControllerStore,
    @Inject(INSTANCE_RUNTIME) private readonly runtime: InstanceRuntime,
    private readonly ca: CertificateAuthority,
  ) {}

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- lifecycle -------------------------------------------------------

  /** Restart: every stored instance comes back, listen endpoints on the same ports. */
  async onApplicationBootstrap(): Promise<void> {
    for (const rec of this.store.listInstances()) {
      if (this.config.channels.requireTls === true && rec.channel.tls !== true) {
        this.log.error(`${rec.vnf}: not restored: NICVISOR_REQUIRE_TLS=1 and its channel is plain TCP (delete it, or create it again with TLS)`);
        continue;
      }
      try {
        const { endpoint, nicPending } = await this.runtime.start({
          datapathId: BigInt(`0x${rec.datapathId}`),
          nic: rec.nic,
          ownership: this.ownershipOf(rec),
          channel: this.channelSpecOf(rec),
          restore: true,
        });
        if (endpoint !== rec.channel.endpoint) {
          this.log.warn(`${rec.vnf}: endpoint moved from ${rec.channel.endpoint} to ${endpoint}`);
          this.store.putInstance({ ...rec, channel: { ...rec.channel, endpoint, ...(rec.channel.mode === 'listen' ? { port: portOf(endpoint) } : {}) } });
        }
        this.log.log(`${rec.vnf}: restored (datapath ${rec.datapathId}, ${rec.channel.mode} ${endpoint})`);
        if (nicPending === true) this.log.warn(`${rec.vnf}: its NIC instance has not reconnected yet; it is reconciled from the shadow when it does`);
      } catch (e) {
        this.log.error(`${rec.vnf}: could not be restored: ${(e as Error).message}`);
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue;
    await this.runtime.close();
  }

  /** After the channels are closed: write out what is batched and close the store. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.flush();
    await this.store.close();
  }

  // ---- queries ---------------------------------------------------------

  list(): InstanceView[] {
    return this.store.listInstances().map((r) => this.view(r));
  }

  get(vnf: string): InstanceView {
    return this.view(this.record(vnf));
  }

  /** The tenant of a vNF, if it has an instance (for the audit log). */
  tenantOf(vnf: string): string | undefined {
    return this.store.getInstance(vnf)?.tenant;
  }

  async flows(vnf: string, view: ViewKind = 'physical'): Promise<FlowJson[]> {
    const rec = this.record(vnf);
    return flowsJson(this.ownershipOf(rec), await this.runtime.flows(vnf), view);
  }

  async entries(vnf: string, kind: 'groups' | 'meters' | 'tables', view: ViewKind = 'physical'): Promise<unknown[]> {
    const rec = this.record(vnf);
    const own = this.ownershipOf(rec);
    const all = await this.runtime[kind](vnf);
    const mine = view === 'vnf' ? all.filter((e) => e.owner?.kind === 'tenant' && e.owner.tenant === own.tenant) : all;
    return mine.map((e) => {
      const entry = jsonOf(e.entry) as Record<string, unknown>;
      if (kind === 'tables' && view === 'vnf' && typeof entry.tableId === 'number') {
        const i = own.tables.tenant.indexOf(entry.tableId);
        if (own.tables.virtual && i >= 0) entry.tableId = i;
      }
      return { owner: principalText(e.owner), ...entry };
    });
  }

  async ports(vnf: string): Promise<unknown[]> {
    this.record(vnf);
    return (await this.runtime.ports(vnf)).map((p) => jsonOf(p));
  }

  /** Test traffic: a frame arriving on one of the instance's ports, as if from the wire. */
  async inject(vnf: string, port: number, frameHex: string): Promise<{ delivered: boolean }> {
    const rec = this.record(vnf);
    if (!rec.ports.includes(port)) throw badRequest(`port ${port} is not one of "${vnf}"'s (${rec.ports.join(',') || 'none'})`, 'port');
    return { delivered: await this.runtime.inject(vnf, port, Buffer.from(frameHex, 'hex')) };
  }

  events(vnf: string): Observable<InstanceEvent> {
    this.record(vnf);
    return this.runtime.events(vnf);
  }

  // ---- mutations -------------------------------------------------------

  /** Creates the vNF's instance; `created: false` when the same request was made before. */
  create(dto: CreateInstanceDto): Promise<{ created: boolean; instance: InstanceView }> {
    return this.serialized(async () => {
      const request = canonicalJson(requestOf(dto));
      const existing = this.store.getInstance(dto.vnf);
      if (existing !== undefined) {
        if (existing.request === request) return { created: false, instance: this.view(existing) };
        throw conflict(`vNF "${dto.vnf}" already has an instance, created with a different request`, 'vnf');
      }
      const nic = dto.nic ?? DEFAULT_NIC;
      this.checkPortsFree(nic, dto.ports, dto.vnf);
      const built = createOwnership({
        vnf: dto.vnf,
        tenant: dto.tenant,
        ports: dto.ports,
        tableCount: tableCount(dto),
        ...(dto.tables === undefined ? {} : { tables: stripUndefined({ operator: dto.tables.operator, tenant: dto.tables.tenant, virtual: dto.tables.virtual }) }),
        ...(dto.quotas === undefined ? {} : { quotas: stripUndefined({ ...dto.quotas }) }),
      });
      if (!built.ok) throw ownershipErrors(built.errors);
      const own = built.ownership;
      const datapathId = BigInt(this.store.nextDatapathCounter());
      const mode = dto.channel?.mode ?? 'listen';
      const target = dto.channel?.target;
      const tls = this.channelTls(mode, target, dto.channel?.tls);
      const now = new Date().toISOString();
      const pending: InstanceRecord = {
        vnf: own.vnf,
        tenant: own.tenant,
        nic,
        datapathId: formatDatapathId(datapathId),
        ports: own.ports,
        tableCount: own.tableCount,
        tables: own.tables,
        quotas: own.quotas,
        channel: mode === 'listen' ? { mode, endpoint: '', ...(tls ? { tls } : {}) } : { mode, target: target!, endpoint: target!, ...(tls ? { tls } : {}) },
        ...(dto.node === undefined ? {} : { node: dto.node }),
        request,
        createdAt: now,
        updatedAt: now,
      };
      // Stored before the NIC has the instance: the shadow (the operator's flows first) persists under its name.
      this.store.ensureTenant(own.tenant);
      this.store.putInstance(pending);
      let rec: InstanceRecord;
      try {
        const endpoint = await this.startWithEndpoint(datapathId, own, pending);
        rec = { ...pending, channel: { ...pending.channel, ...(mode === 'listen' ? { port: portOf(endpoint) } : {}), endpoint } };
        this.store.putInstance(rec);
      } catch (e) {
        await this.runtime.destroy(own.vnf).catch(() => undefined);
        this.store.deleteInstance(own.vnf);
        throw e;
      }
      this.log.log(`${own.vnf}: created (tenant ${own.tenant}, datapath ${rec.datapathId}, ports ${own.ports.join(',') || '-'}, ${mode} ${rec.channel.endpoint})`);
      return { created: true, instance: this.view(rec) };
    });
  }

  update(vnf: string, dto: UpdateInstanceDto): Promise<InstanceView> {
    return this.serialized(async () => {
      const rec = this.record(vnf);
      const ports = dto.ports ?? rec.ports;
      if (dto.ports !== undefined) this.checkPortsFree(rec.nic, ports, vnf);
      const prev = this.ownershipOf(rec);
      const built = createOwnership({
        vnf,
        tenant: rec.tenant,
        ports,
        tableCount: rec.tableCount,
        tables: rec.tables,
        quotas: { ...rec.quotas, ...stripUndefined({ ...(dto.quotas ?? {}) }) },
      });
      if (!built.ok) throw ownershipErrors(built.errors);
      const next = built.ownership;
      await this.runtime.update(prev, next);
      const request = JSON.parse(rec.request) as Record<string, unknown>;
      if (dto.ports !== undefined) request.ports = next.ports;
      if (dto.quotas !== undefined) request.quotas = { ...((request.quotas as object | undefined) ?? {}), ...stripUndefined({ ...dto.quotas }) };
      const updated: InstanceRecord = {
        ...rec,
        ports: next.ports,
        quotas: next.quotas,
        request: canonicalJson(request),
        updatedAt: new Date().toISOString(),
      };
      this.store.putInstance(updated);
      return this.view(updated);
    });
  }

  remove(vnf: string): Promise<void> {
    return this.serialized(async () => {
      this.record(vnf);
      await this.runtime.destroy(vnf);
      this.store.deleteInstance(vnf);
      const revoked = this.ca.revoke('vnf', vnf);
      if (revoked > 0) this.log.log(`${vnf}: ${revoked} certificate${revoked > 1 ? 's' : ''} revoked`);
      this.log.log(`${vnf}: deleted`);
    });
  }

  /** An operator flow (JSON fields or ovs-ofctl text) into an operator table. */
  addOperatorFlow(vnf: string, dto: OperatorFlowDto): Promise<FlowJson[]> {
    return this.serialized(async () => {
      const rec = this.record(vnf);
      for (const fm of this.operatorFlowMods(rec, dto, dto.flow, 'flow', 'add', false)) await this.runtime.operatorFlowMod(vnf, fm);
      return this.operatorFlows(rec);
    });
  }

  /** Deletes operator flows (JSON fields or an ovs-ofctl filter; a filter without table= covers every operator table). */
  deleteOperatorFlows(vnf: string, dto: OperatorFlowDeleteDto): Promise<FlowJson[]> {
    return this.serialized(async () => {
      const rec = this.record(vnf);
      for (const fm of this.operatorFlowMods(rec, dto, dto.filter, 'filter', 'delete', dto.strict ?? false)) await this.runtime.operatorFlowMod(vnf, fm);
      return this.operatorFlows(rec);
    });
  }

  /**
   * OFPFC_MODIFY(_STRICT) of operator flows, in one step on the NIC (counters
   * kept): the flows selected get the new instructions. `modified` counts the
   * operator flows selected (only this service changes operator tables, and
   * it does so one request at a time).
   */
  modifyOperatorFlows(vnf: string, dto: OperatorFlowModifyDto): Promise<{ modified: number; flows: FlowJson[] }> {
    return this.serialized(async () => {
      const rec = this.record(vnf);
      if (dto.flow === undefined && dto.instructions === undefined) {
        throw badRequest('instructions must be given to modify flows (an empty list makes them drop), or give the whole flow as "flow"', 'instructions');
      }
      const strict = dto.strict ?? false;
      const mods = this.operatorFlowMods(rec, dto, dto.flow, 'flow', 'modify', strict);
      const own = this.ownershipOf(rec);
      const before = (await this.runtime.flows(vnf)).filter((f) => f.owner?.kind === 'operator');
      const modified = before.filter((f) => mods.some((fm) => flowMatchesFilter(f.flow, filterOf(fm, strict)))).length;
      for (const fm of mods) await this.runtime.operatorFlowMod(vnf, fm);
      return { modified, flows: flowsJson(own, await this.runtime.flows(vnf), 'physical').filter((f) => f.owner === 'operator') };
    });
  }

  addOperatorGroup(vnf: string, dto: OperatorGroupDto): Promise<unknown[]> {
    return this.serialized(async () => {
      this.record(vnf);
      checkOperatorId(dto.groupId, OPERATOR_GROUPS, OPERATOR_GROUP_RANGE, 'groupId');
      await this.runtime.operatorGroupMeterMods(vnf, [operatorGroupMod(dto)]);
      return this.operatorEntries(vnf, 'groups');
    });
  }

  /** Deletes one operator group, or every operator group (no groupId, or OFPG_ALL); the tenant's are never touched. */
  deleteOperatorGroups(vnf: string, dto: OperatorGroupDeleteDto): Promise<unknown[]> {
    return this.serialized(async () => {
      this.record(vnf);
      let mods: GroupMod[];
      if (dto.groupId === undefined || dto.groupId === OFPG.ALL) {
        const mine = (await this.runtime.groups(vnf)).filter((g) => g.owner?.kind === 'operator');
        mods = mine.map((g) => groupDelete((g.entry as { groupId: number }).groupId));
      } else {
        checkOperatorId(dto.groupId, OPERATOR_GROUPS, OPERATOR_GROUP_RANGE, 'groupId', 'or 4294967292 (OFPG_ALL) for all');
        mods = [groupDelete(dto.groupId)];
      }
      await this.runtime.operatorGroupMeterMods(vnf, mods);
      return this.operatorEntries(vnf, 'groups');
    });
  }

  addOperatorMeter(vnf: string, dto: OperatorMeterDto): Promise<unknown[]> {
    return this.serialized(async () => {
      this.record(vnf);
      checkOperatorId(dto.meterId, OPERATOR_METERS, OPERATOR_METER_RANGE, 'meterId');
      await this.runtime.operatorGroupMeterMods(vnf, [operatorMeterMod(dto)]);
      return this.operatorEntries(vnf, 'meters');
    });
  }

  /** Deletes one operator meter, or every operator meter (no meterId, or OFPM_ALL); the tenant's are never touched. */
  deleteOperatorMeters(vnf: string, dto: OperatorMeterDeleteDto): Promise<unknown[]> {
    return this.serialized(async () => {
      this.record(vnf);
      let mods: MeterMod[];
      if (dto.meterId === undefined || dto.meterId === OFPM.ALL) {
        const mine = (await this.runtime.meters(vnf)).filter((m) => m.owner?.kind === 'operator');
        mods = mine.map((m) => meterDelete((m.entry as { meterId: number }).meterId));
      } else {
        checkOperatorId(dto.meterId, OPERATOR_METERS, OPERATOR_METER_RANGE, 'meterId', 'or 4294967295 (OFPM_ALL) for all');
        mods = [meterDelete(dto.meterId)];
      }
      await this.runtime.operatorGroupMeterMods(vnf, mods);
      return this.operatorEntries(vnf, 'meters');
    });
  }

  /**
   * The flow-mods of an operator flow request: from the text (`field`) or
   * the JSON fields, never both; only into operator tables (text without
   * table= on a modify or delete: each operator table).
   */
  private operatorFlowMods(
    rec: InstanceRecord,
    dto: OperatorFlowFieldsDto,
    text: string | undefined,
    field: 'flow' | 'filter',
    op: OperatorFlowOp,
    strict: boolean,
  ): FlowMod[] {
    const operatorTables = `operator tables: ${rec.tables.operator.join(',') || 'none'}`;
    if (text === undefined) {
      const table = dto.tableId ?? 0;
      if (!rec.tables.operator.includes(table)) throw badRequest(`tableId ${table} is not an operator table of "${rec.vnf}" (${operatorTables})`, 'tableId');
      return [operatorFlowMod({ ...dto, strict }, op)];
    }
    const both = FLOW_JSON_FIELDS.filter((k) => dto[k] !== undefined);
    if (both.length > 0) throw badRequest(`give the flow either as text ("${field}") or as JSON fields, not both (${both.join(', ')} given with ${field})`, field);
    const fm = operatorFlowModFromText(text, field, op, strict);
    if (fm.tableId === OFPTT.ALL) {
      if (rec.tables.operator.length === 0) throw badRequest(`"${rec.vnf}" has no operator tables`, field);
      return rec.tables.operator.map((t) => ({ ...fm, tableId: t }));
    }
    if (!rec.tables.operator.includes(fm.tableId)) {
      throw badRequest(`${field}: table ${fm.tableId} is not an operator table of "${rec.vnf}" (${operatorTables})`, field, { token: `table=${fm.tableId}` });
    }
    return [fm];
  }

  private async operatorFlows(rec: InstanceRecord): Promise<FlowJson[]> {
    return flowsJson(this.ownershipOf(rec), await this.runtime.flows(rec.vnf), 'physical').filter((f) => f.owner === 'operator');
  }

  private async operatorEntries(vnf: string, kind: 'groups' | 'meters'): Promise<unknown[]> {
    return (await this.entries(vnf, kind)).filter((e) => (e as { owner: string }).owner === 'operator');
  }

  // ---- helpers ---------------------------------------------------------

  private record(vnf: string): InstanceRecord {
    const rec = this.store.getInstance(vnf);
    if (rec === undefined) throw notFound(vnf);
    return rec;
  }

  private checkPortsFree(nic: string, ports: readonly number[], vnf: string): void {
    const wanted = new Set(ports);
    for (const other of this.store.listInstances()) {
      if (other.vnf === vnf || other.nic !== nic) continue;
      const taken = other.ports.filter((p) => wanted.has(p));
      if (taken.length > 0) {
        throw conflict(`port${taken.length > 1 ? 's' : ''} ${taken.join(',')} of NIC "${nic}" ${taken.length > 1 ? 'are' : 'is'} attached to vNF "${other.vnf}"`, 'ports');
      }
    }
  }

  /**
   * Whether the channel is to use mutual TLS: listen `tls: true`; connect an
   * `ssl:` target (`tls`, if given, must agree). NICVISOR_REQUIRE_TLS=1
   * refuses plain TCP.
   */
  private channelTls(mode: 'listen' | 'connect', target: string | undefined, tls: boolean | undefined): boolean {
    let on = tls === true;
    if (mode === 'connect') {
      on = isTlsTarget(target!);
      if (tls !== undefined && tls !== on) {
        throw badRequest(`channel.tls is ${tls} but the target is ${target}: a TLS target is ssl:HOST:PORT, a plain one tcp:HOST:PORT`, 'channel.tls');
      }
    }
    if (!on && this.config.channels.requireTls === true) {
      throw badRequest(`NICVISOR_REQUIRE_TLS=1: delegated channels must use mutual TLS (listen: "tls": true; connect: an ssl:HOST:PORT target)`, 'channel.tls');
    }
    return on;
  }

  /** Starts a new instance; a listen channel takes the next free port of the range (the core skips ports in use). */
  private async startWithEndpoint(datapathId: bigint, own: Ownership, rec: InstanceRecord): Promise<string> {
    const channel = this.channelSpecOf(rec);
    if (channel.mode === 'listen') {
      if (this.config.channels.ports.first === 0) channel.port = 0;
      else delete channel.port;
    }
    return (await this.runtime.start({ datapathId, nic: rec.nic, ownership: own, channel })).endpoint;
  }

  private channelSpecOf(rec: InstanceRecord): ChannelSpec & ChannelPlacement {
    const c = rec.channel;
    return {
      ...(c.mode === 'listen'
        ? { mode: 'listen', host: this.config.channels.host, port: c.port ?? 0, ...(c.tls === true ? { tls: true } : {}) }
        : { mode: 'connect', target: c.target! }),
      ...(rec.node === undefined ? {} : { node: rec.node }),
    };
  }

  ownershipOf(rec: InstanceRecord): Ownership {
    const built = createOwnership({
      vnf: rec.vnf,
      tenant: rec.tenant,
      ports: rec.ports,
      tableCount: rec.tableCount,
      tables: rec.tables,
      quotas: rec.quotas,
    });
    if (!built.ok) throw new Error(`stored instance ${rec.vnf} is invalid: ${built.errors.map((e) => e.message).join('; ')}`);
    return built.ownership;
  }

  private view(rec: InstanceRecord): InstanceView {
    return {
      vnf: rec.vnf,
      tenant: rec.tenant,
      nic: rec.nic,
      datapathId: rec.datapathId,
      ports: rec.ports,
      tables: rec.tables,
      quotas: rec.quotas,
      channel: { mode: rec.channel.mode, endpoint: rec.channel.endpoint, ...(rec.channel.tls === true ? { tls: true } : {}) },
      ...(rec.node === undefined ? {} : { node: rec.node }),
      createdAt: rec.createdAt,
      connected: this.runtime.connected(rec.vnf),
    };
  }
}

/** An operator group or meter id must be in the operator's reserved range: else a 400 naming the field. */
function checkOperatorId(id: number, range: { first: number; last: number }, text: string, field: string, more = ''): void {
  if (id < range.first || id > range.last) {
    throw badRequest(`${field} ${id} (0x${id.toString(16)}) is outside the operator's reserved range ${text}${more ? ` (${more})` : ''}`, field);
  }
}

/** What a modify selects, as a dump-flows filter (to count the flows it changes). */
function filterOf(fm: FlowMod, strict: boolean): FlowFilter {
  return {
    tableId: fm.tableId,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    cookie: fm.cookie,
    cookieMask: fm.cookieMask,
    ...(strict ? { priority: fm.priority } : {}),
    match: fm.match,
    strict,
  };
}

function portOf(endpoint: string): number {
  return Number(/:(\d+)$/.exec(endpoint)?.[1] ?? 0);
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
