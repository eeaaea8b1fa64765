/**
 * Ownership as data: what one vNF's tenant owns on its instance. Everything
 * the policy, the table view and the routing decide is read from this
 * declaration; nothing else is consulted. An `Ownership` is treated as
 * immutable (derived lookups are cached per object): to change one, build a
 * new one with `createOwnership`.
 */
import { OFPG, OFPM, OFPP, OFPTT } from '@nicvisor/openflow';

/** Who a table, a flow, a group or a message belongs to. */
export type Principal = { kind: 'operator' } | { kind: 'tenant'; tenant: string };
export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

export const OPERATOR: Principal = Object.freeze({ kind: 'operator' });

export function tenantPrincipal(tenant: string): TenantPrincipal {
  return { kind: 'tenant', tenant };
}

/**
 * Which principal owns each physical table. `virtual`: the vNF sees its own
 * tables renumbered 0..k-1 in ascending physical order (see view.ts);
 * otherwise it sees physical ids. Both lists are kept sorted ascending.
 */
export interface TableLayout {
  operator: number[];
  tenant: number[];
  virtual: boolean;
}

/** Per-vNF limits; counted on what is actually installed (see `Usage`). */
export interface Quotas {
  maxFlows: number;
  maxGroups: number;
  maxMeters: number;
  /** Packet-ins relayed to the vNF per second (a token bucket, burst = one second's worth). */
  packetInsPerSecond: number;
}

/**
 * Defaults: 4096 flows (a mid-size smart-NIC's exact-match budget for one
 * VF), 256 groups, 64 meters, 1000 packet-ins per second.
 */
export const DEFAULT_QUOTAS: Readonly<Quotas> = Object.freeze({
  maxFlows: 4096,
  maxGroups: 256,
  maxMeters: 64,
  packetInsPerSecond: 1000,
});

/** An inclusive id range. */
export interface IdRange {
  first: number;
  last: number;
}

/** A cookie namespace: a cookie `c` is in it when `(c & mask) === value`. */
export interface CookieSpace {
  value: bigint;
  mask: bigint;
}

/**
 * The operator's group ids: 0xf0000000..OFPG_MAX. The tenant can neither
 * create, modify, delete, reference nor see them.
 */
export const OPERATOR_GROUPS: Readonly<IdRange> = Object.freeze({ first: 0xf0000000, last: OFPG.MAX });
/** The operator's meter ids: 0xf0000000..OFPM_MAX (the virtual meters above OFPM_MAX are the operator's too). */
export const OPERATOR_METERS: Readonly<IdRange> = Object.freeze({ first: 0xf0000000, last: OFPM.MAX });
/**
 * The cookie namespace nicvisor stamps on the operator's flows: top 16 bits
 * 0x6e76 ("nv"). A tenant may not add a flow with such a cookie, nor select
 * the namespace with cookie/cookie_mask, so a cookie alone tells whose a flow
 * is (the resync relies on it). Operator flows also live only in operator
 * tables, and tenant flow-mods only ever reach tenant tables, so the two can
 * never touch each other whatever the cookies.
 */
export const OPERATOR_COOKIES: Readonly<CookieSpace> = Object.freeze({
  value: 0x6e76_0000_0000_0000n,
  mask: 0xffff_0000_0000_0000n,
});

export interface Reserved {
  groups: IdRange;
  meters: IdRange;
  cookies: CookieSpace;
}

export const DEFAULT_RESERVED: Readonly<Reserved> = Object.freeze({
  groups: OPERATOR_GROUPS,
  meters: OPERATOR_METERS,
  cookies: OPERATOR_COOKIES,
});

/** The ownership declaration of one instance (one vNF). */
export interface Ownership {
  vnf: string;
  tenant: string;
  /** Instance port numbers the vNF may use (the instance has no others). Sorted, distinct. */
  ports: number[];
  /** T: the instance's physical table count, ids 0..T-1. */
  tableCount: number;
  tables: TableLayout;
  quotas: Quotas;
  reserved: Reserved;
}

/**
 * What the tenant has installed on the instance right now, as the shadow
 * counts it from what the NIC accepted (not from what was asked).
 * `groups` / `meters` are the installed ids (needed to narrow OFPG_ALL /
 * OFPM_ALL deletes and to tell a new id from a replacement).
 */
export interface Usage {
  flows: number;
  groups: readonly number[];
  meters: readonly number[];
}

export const NO_USAGE: Readonly<Usage> = Object.freeze({ flows: 0, groups: [], meters: [] });

export const DEFAULT_TABLE_COUNT = 64;

/** The default layout: operator [0], tenant [1..T-1], virtual. */
export function defaultLayout(tableCount: number = DEFAULT_TABLE_COUNT): TableLayout {
  const tenant: number[] = [];
  for (let t = 1; t < tableCount; t++) tenant.push(t);
  return { operator: [0], tenant, virtual: true };
}

/**
 * A layout from a partial one, as an orchestrator may give it: a side that
 * is left out is the complement of the other in 0..T-1; neither side → the
 * default; `virtual` defaults to true. Lists come back sorted; nothing is
 * validated here (see `validateLayout`).
 */
export function completeLayout(tableCount: number, partial: Partial<TableLayout> = {}): TableLayout {
  const virtual = partial.virtual ?? true;
  const all = Array.from({ length: Math.max(0, tableCount) }, (_, t) => t);
  const sort = (l: readonly number[]): number[] => [...l].sort((a, b) => a - b);
  if (partial.operator === undefined && partial.tenant === undefined) return { ...defaultLayout(tableCount), virtual };
  if (partial.tenant === undefined) {
    const op = new Set(partial.operator);
    return { operator: sort(partial.operator ?? []), tenant: all.filter((t) => !op.has(t)), virtual };
  }
  if (partial.operator === undefined) {
    const ten = new Set(partial.tenant);
    return { operator: all.filter((t) => !ten.has(t)), tenant: sort(partial.tenant), virtual };
  }
  return { operator: sort(partial.operator), tenant: sort(partial.tenant), virtual };
}

/** A named reason an ownership declaration is refused. */
export type OwnershipErrorCode =
  | 'BAD_TABLE_COUNT'
  | 'TABLE_OUT_OF_RANGE'
  | 'TABLE_LISTED_TWICE'
  | 'TABLE_OWNED_TWICE'
  | 'TABLE_UNOWNED'
  | 'NO_TENANT_TABLE'
  | 'BAD_PORT'
  | 'DUPLICATE_PORT'
  | 'BAD_QUOTA'
  | 'BAD_RESERVED_RANGE'
  | 'EMPTY_NAME';

export interface OwnershipError {
  code: OwnershipErrorCode;
  /** The field at fault, e.g. "tables.tenant", "ports", "quotas.maxFlows". */
  field: string;
  message: string;
}

function isUint(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/**
 * Every table 0..T-1 owned by exactly one principal, nothing outside it, the
 * tenant owning at least one. T is 1..255 (table ids stop at OFPTT_MAX).
 * Returns every problem found, empty when the layout is valid.
 */
export function validateLayout(tableCount: number, layout: TableLayout): OwnershipError[] {
  const errors: OwnershipError[] = [];
  if (!isUint(tableCount) || tableCount < 1 || tableCount > OFPTT.MAX + 1) {
    errors.push({ code: 'BAD_TABLE_COUNT', field: 'tableCount', message: `table count ${tableCount} is not 1..${OFPTT.MAX + 1}` });
    return errors;
  }
  const owner = new Map<number, 'operator' | 'tenant'>();
  for (const side of ['operator', 'tenant'] as const) {
    const seen = new Set<number>();
    for (const t of layout[side]) {
      const field = `tables.${side}`;
      if (!isUint(t) || t >= tableCount) {
        errors.push({ code: 'TABLE_OUT_OF_RANGE', field, message: `table ${t} is not within 0..${tableCount - 1}` });
        continue;
      }
      if (seen.has(t)) {
        errors.push({ code: 'TABLE_LISTED_TWICE', field, message: `table ${t} is listed twice` });
        continue;
      }
      seen.add(t);
      const other = owner.get(t);
      if (other !== undefined) {
        errors.push({ code: 'TABLE_OWNED_TWICE', field, message: `table ${t} is owned by both the operator and the tenant` });
        continue;
      }
      owner.set(t, side);
    }
  }
  if (!layout.tenant.some((t) => isUint(t) && t < tableCount)) {
    errors.push({ code: 'NO_TENANT_TABLE', field: 'tables.tenant', message: 'the tenant must own at least one table' });
  }
  const unowned: number[] = [];
  for (let t = 0; t < tableCount; t++) if (!owner.has(t)) unowned.push(t);
  if (unowned.length > 0) {
    errors.push({ code: 'TABLE_UNOWNED', field: 'tables', message: `tables ${unowned.join(',')} are owned by no one` });
  }
  return errors;
}

export interface OwnershipInput {
  vnf: string;
  tenant: string;
  ports: readonly number[];
  tableCount?: number;
  tables?: Partial<TableLayout>;
  quotas?: Partial<Quotas>;
  reserved?: Partial<Reserved>;
}

export type OwnershipResult = { ok: true; ownership: Ownership } | { ok: false; errors: OwnershipError[] };

function validateRange(field: string, r: IdRange, max: number): OwnershipError[] {
  if (isUint(r.first) && isUint(r.last) && r.first >= 1 && r.first <= r.last && r.last <= max) return [];
  return [{ code: 'BAD_RESERVED_RANGE', field, message: `${field} ${r.first}..${r.last} is not a range within 1..${max}` }];
}

/**
 * Builds and validates an instance's ownership: the layout completed as in
 * `completeLayout`, quotas and reserved ranges defaulted, ports sorted.
 * Ports are 1..OFPP_MAX and distinct; quotas non-negative integers.
 */
export function createOwnership(input: OwnershipInput): OwnershipResult {
  const tableCount = input.tableCount ?? DEFAULT_TABLE_COUNT;
  const tables = completeLayout(tableCount, input.tables);
  const quotas: Quotas = { ...DEFAULT_QUOTAS, ...input.quotas };
  const reserved: Reserved = { ...DEFAULT_RESERVED, ...input.reserved };
  const errors: OwnershipError[] = [];
  if (!input.vnf) errors.push({ code: 'EMPTY_NAME', field: 'vnf', message: 'vnf must be a non-empty name' });
  if (!input.tenant) errors.push({ code: 'EMPTY_NAME', field: 'tenant', message: 'tenant must be a non-empty name' });
  errors.push(...validateLayout(tableCount, tables));
  const seen = new Set<number>();
  for (const p of input.ports) {
    if (!isUint(p) || p < 1 || p > OFPP.MAX) {
      errors.push({ code: 'BAD_PORT', field: 'ports', message: `port ${p} is not a port number 1..${OFPP.MAX}` });
    } else if (seen.has(p)) {
      errors.push({ code: 'DUPLICATE_PORT', field: 'ports', message: `port ${p} is listed twice` });
    }
    seen.add(p);
  }
  for (const key of Object.keys(quotas) as (keyof Quotas)[]) {
    if (!isUint(quotas[key])) {
      errors.push({ code: 'BAD_QUOTA', field: `quotas.${key}`, message: `quotas.${key} must be a non-negative integer` });
    }
  }
  errors.push(...validateRange('reserved.groups', reserved.groups, OFPG.MAX));
  errors.push(...validateRange('reserved.meters', reserved.meters, OFPM.MAX));
  if (errors.length > 0) return { ok: false, errors };
  const ports = [...new Set(input.ports)].sort((a, b) => a - b);
  return { ok: true, ownership: { vnf: input.vnf, tenant: input.tenant, ports, tableCount, tables, quotas, reserved } };
}

/** The principal of the vNF an ownership describes. */
export function tenantOf(own: Ownership): TenantPrincipal {
  return tenantPrincipal(own.tenant);
}

export function inRange(r: IdRange, id: number): boolean {
  return id >= r.first && id <= r.last;
}

export function inCookieSpace(space: CookieSpace, cookie: bigint): boolean {
  return (cookie & space.mask) === space.value;
}
