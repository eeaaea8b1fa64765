/**
 * The shadow persisted in libs/storage's SQLite store: every change queued
 * (the store batches them), committed by `flush()` — on every barrier the
 * vNF sends and after operator flow changes; the barrier is answered once
 * the store says it is committed — and read back when the shadow
 * first needs a datapath after a restart, so the resync can reinstall it.
 *
 * The store keys the shadow by vNF and names owners 'operator' or a tenant
 * id; the in-memory shadow keys by datapath id and names owners 'operator'
 * or the vNF. The instance records (written by the orchestrator API before
 * it allocates) link the two.
 */
import { decodeMessage, GroupMod, MeterMod, OFPT } from '@nicvisor/openflow';
import { shadowGroupOf, shadowMeterOf } from '@nicvisor/storage/flow-key.js';
import type { FlowRowIds } from '@nicvisor/storage/flow-row-ids.js';
import type { Store } from '@nicvisor/storage/store.js';
import { FlowEntry, OPERATOR_OWNER, PersistedShadow, ShadowGroup, ShadowMeter, ShadowSink } from './shadow.js';

interface Names {
  vnf: string;
  tenant: string;
  /** Hands out the rows of the instance's flows. */
  rows: FlowRowIds;
}

export class StoreShadowSink implements ShadowSink {
  private readonly names = new Map<bigint, Names | null>();

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private namesOf(datapathId: bigint): Names | undefined {
    let n = this.names.get(datapathId);
    if (n === undefined) {
      const rec = this.store.instances.byDatapathId(datapathId.toString(16).padStart(16, '0'));
      const rows = rec === undefined ? undefined : this.store.shadow.flowRowIds(rec.vnf);
      n = rec === undefined || rows === undefined ? null : { vnf: rec.vnf, tenant: rec.tenant, rows };
      // Only remember a hit: the record may be written after the first miss.
      if (n !== null) this.names.set(datapathId, n);
    }
    if (n === null) this.log(`shadow: no instance record for datapath 0x${datapathId.toString(16)}; not persisted`);
    return n ?? undefined;
  }

  private owner(n: Names, owner: string): string {
    return owner === OPERATOR_OWNER ? OPERATOR_OWNER : n.tenant;
  }

  private ownerBack(n: Names, owner: string): string {
    return owner === OPERATOR_OWNER ? OPERATOR_OWNER : n.vnf;
  }

  load(datapathId: bigint): PersistedShadow | undefined {
    const n = this.namesOf(datapathId);
    if (n === undefined) return undefined;
    const out: PersistedShadow = { flows: [], groups: [], meters: [] };
    for (const f of this.store.shadow.flowsOf(n.vnf)) {
      // Decoded only to check it: the shadow keeps the bytes.
      const m = decodeMessage(f.flowMod);
      if (m.type === OFPT.FLOW_MOD) out.flows.push({ owner: this.ownerBack(n, f.owner), flowMod: f.flowMod, rowId: f.id });
    }
    for (const g of this.store.shadow.groupsOf(n.vnf)) {
      const m = decodeMessage(g.groupMod);
      if (m.type === OFPT.GROUP_MOD) out.groups.push({ owner: this.ownerBack(n, g.owner), groupMod: m as GroupMod });
    }
    for (const x of this.store.shadow.metersOf(n.vnf)) {
      const m = decodeMessage(x.meterMod);
      if (m.type === OFPT.METER_MOD) out.meters.push({ owner: this.ownerBack(n, x.owner), meterMod: m as MeterMod });
    }
    return out;
  }

  /** The shadow's bytes are the record (the same encoded ADD libs/storage's shadowFlowOf makes): nothing re-encoded. */
  flowPut(datapathId: bigint, f: FlowEntry): void {
    const n = this.namesOf(datapathId);
    if (n === undefined) return;
    if (f.rowId === 0) f.rowId = n.rows.take();
    this.store.shadow.putFlow(f.rowId, this.owner(n, f.owner), f.raw);
  }

  flowDelete(datapathId: bigint, f: FlowEntry): void {
    const n = this.namesOf(datapathId);
    if (n === undefined || f.rowId === 0) return;
    this.store.shadow.removeFlow(f.rowId);
    n.rows.release(f.rowId);
  }

  groupPut(datapathId: bigint, g: ShadowGroup): void {
    const n = this.namesOf(datapathId);
    if (n === undefined) return;
    this.store.shadow.upsertGroup(
      shadowGroupOf(n.vnf, this.owner(n, g.owner), { type: OFPT.GROUP_MOD, xid: 0, command: 0, groupType: g.groupType, groupId: g.groupId, buckets: g.buckets }),
    );
  }

  groupDelete(datapathId: bigint, groupId: number): void {
    const n = this.namesOf(datapathId);
    if (n !== undefined) this.store.shadow.removeGroup(n.vnf, groupId);
  }

  meterPut(datapathId: bigint, m: ShadowMeter): void {
    const n = this.namesOf(datapathId);
    if (n === undefined) return;
    this.store.shadow.upsertMeter(
      shadowMeterOf(n.vnf, this.owner(n, m.owner), { type: OFPT.METER_MOD, xid: 0, command: 0, flags: m.flags, meterId: m.meterId, bands: m.bands }),
    );
  }

  meterDelete(datapathId: bigint, meterId: number): void {
    const n = this.namesOf(datapathId);
    if (n !== undefined) this.store.shadow.removeMeter(n.vnf, meterId);
  }

  clear(datapathId: bigint): void {
    const n = this.namesOf(datapathId);
    if (n !== undefined) this.store.shadow.clearInstance(n.vnf);
    this.names.delete(datapathId);
  }

  /** Everything queued before it is committed when this returns, or when the promise it returns resolves (see Store.commit). */
  flush(): void | Promise<void> {
    if (!this.store.isOpen) return;
    return this.store.commit()?.then(() => undefined);
  }
}
