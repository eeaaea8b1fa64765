/**
 * Table virtualization: how the vNF numbers tables, and what each number it
 * uses means physically.
 *
 * - `virtual: true` (the default): the vNF's view is 0..k-1, its k owned
 *   tables in ascending physical order (its first owned table is its 0).
 *   Every id in the view is owned; every other id is outside it.
 * - `virtual: false`: the view is the physical ids 0..T-1. An id the tenant
 *   owns is `owned`; one the operator owns is `foreign` (visible but not
 *   owned); ids ≥ T are `outside`.
 *
 * The mapping is monotonic, so "forward" (goto to a higher table) means the
 * same in both numberings.
 */
import { OFPP } from '@nicvisor/openflow';
import { OPERATOR, Ownership, Principal, tenantOf } from './model.js';

/** What an id the vNF used refers to. */
export type TableRef = { kind: 'owned'; physical: number } | { kind: 'foreign'; physical: number } | { kind: 'outside' };

/** Derived lookups, built once per ownership object. */
interface Index {
  /** View id → physical id, -1 when not owned (256 entries: every u8 id). */
  toPhysical: Int16Array;
  /** Physical id → view id, -1 when not owned. */
  toVirtual: Int16Array;
  /** Physical id → 1 operator, 2 tenant, 0 none / out of range. */
  owner: Uint8Array;
  /** View id → what `resolveTable` answers for it (every u8 id; shared, frozen: no object per call). */
  refs: readonly TableRef[];
  ports: Set<number>;
}

const OUTSIDE: TableRef = Object.freeze({ kind: 'outside' });

const INDEX = new WeakMap<Ownership, Index>();
/** The last ownership looked up and its index: a channel asks about the same one message after message. */
let lastOwn: Ownership | undefined;
let lastIndex: Index | undefined;

function index(own: Ownership): Index {
  if (own === lastOwn) return lastIndex!;
  let ix = INDEX.get(own);
  if (ix === undefined) {
    ix = buildIndex(own);
    INDEX.set(own, ix);
  }
  lastOwn = own;
  lastIndex = ix;
  return ix;
}

function buildIndex(own: Ownership): Index {
  const toPhysical = new Int16Array(256).fill(-1);
  const toVirtual = new Int16Array(256).fill(-1);
  const owner = new Uint8Array(256);
  for (const t of own.tables.operator) if (t >= 0 && t < 256) owner[t] = 1;
  own.tables.tenant.forEach((t, i) => {
    if (t < 0 || t >= 256) return;
    owner[t] = 2;
    const v = own.tables.virtual ? i : t;
    toPhysical[v] = t;
    toVirtual[t] = v;
  });
  const refs: TableRef[] = [];
  for (let v = 0; v < 256; v++) refs.push(refOf(own, v, toPhysical[v] < 0 ? undefined : toPhysical[v]));
  return { toPhysical, toVirtual, owner, refs, ports: new Set(own.ports) };
}

/** What view id `viewTable` refers to, given its physical id when owned. */
function refOf(own: Ownership, viewTable: number, physical: number | undefined): TableRef {
  if (physical !== undefined) return Object.freeze({ kind: 'owned', physical });
  if (!own.tables.virtual && viewTable < own.tableCount) return Object.freeze({ kind: 'foreign', physical: viewTable });
  return OUTSIDE;
}

/** The physical id of a table the vNF names, when it owns it. */
export function toPhysical(own: Ownership, viewTable: number): number | undefined {
  const p = index(own).toPhysical[viewTable & 0xff];
  return p < 0 || viewTable > 0xff ? undefined : p;
}

/** The id the vNF knows a physical table by, when it owns it. */
export function toVirtual(own: Ownership, physicalTable: number): number | undefined {
  const v = index(own).toVirtual[physicalTable & 0xff];
  return v < 0 || physicalTable > 0xff ? undefined : v;
}

/** Resolves an id from the vNF: owned (with its physical id), visible but not owned, or outside its view. */
export function resolveTable(own: Ownership, viewTable: number): TableRef {
  // Every id on the wire is a u8: answered from the index. Anything else is worked out as for the index.
  if ((viewTable & 0xff) === viewTable) return index(own).refs[viewTable];
  return refOf(own, viewTable, toPhysical(own, viewTable));
}

/** The tenant's tables, physical ids ascending. */
export function ownedTables(own: Ownership): readonly number[] {
  return own.tables.tenant;
}

/** How many tables the vNF sees (FEATURES_REPLY n_tables): k when virtual, T otherwise. */
export function viewTableCount(own: Ownership): number {
  return own.tables.virtual ? own.tables.tenant.length : own.tableCount;
}

/** Who owns a physical table; undefined for an id beyond the instance's tables. */
export function ownerOfTable(own: Ownership, physicalTable: number): Principal | undefined {
  const o = physicalTable > 0xff ? 0 : index(own).owner[physicalTable];
  return o === 2 ? tenantOf(own) : o === 1 ? OPERATOR : undefined;
}

export function isTenantTable(own: Ownership, physicalTable: number): boolean {
  return physicalTable <= 0xff && index(own).owner[physicalTable] === 2;
}

/** One of the instance's ports (a real port number, not a reserved one). */
export function isInstancePort(own: Ownership, port: number): boolean {
  return index(own).ports.has(port);
}

/** Output targets a vNF may use besides its ports: the NIC instance only has the vNF's ports, so FLOOD/ALL stay within them. */
export const ALLOWED_RESERVED_OUTPUTS: readonly number[] = [OFPP.IN_PORT, OFPP.CONTROLLER, OFPP.FLOOD, OFPP.ALL];
