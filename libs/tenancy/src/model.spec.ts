import { OFPG, OFPM } from '@nicvisor/openflow';
import {
  completeLayout,
  createOwnership,
  DEFAULT_QUOTAS,
  defaultLayout,
  OPERATOR_COOKIES,
  OwnershipErrorCode,
  validateLayout,
} from './model.js';

function codes(input: Parameters<typeof createOwnership>[0]): OwnershipErrorCode[] {
  const r = createOwnership(input);
  return r.ok ? [] : r.errors.map((e) => e.code);
}

const base = { vnf: 'fw1', tenant: 'acme', ports: [1, 2] };

describe('model: the ownership declaration', () => {
  it('defaultLayout(T): operator owns [0], the tenant 1..T-1, virtual', () => {
    expect(defaultLayout(4)).toEqual({ operator: [0], tenant: [1, 2, 3], virtual: true });
    expect(defaultLayout().tenant).toHaveLength(63);
  });

  it('completeLayout: a side left out is the complement of the other, lists sorted', () => {
    expect(completeLayout(5, { tenant: [4, 2] })).toEqual({ operator: [0, 1, 3], tenant: [2, 4], virtual: true });
    expect(completeLayout(5, { operator: [3, 0], virtual: false })).toEqual({ operator: [0, 3], tenant: [1, 2, 4], virtual: false });
    expect(completeLayout(3)).toEqual(defaultLayout(3));
  });

  it('createOwnership fills the defaults: 64 tables, default layout, quotas, operator ranges', () => {
    const r = createOwnership({ ...base, ports: [2, 1] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ownership.tableCount).toBe(64);
    expect(r.ownership.tables).toEqual(defaultLayout(64));
    expect(r.ownership.quotas).toEqual(DEFAULT_QUOTAS);
    expect(r.ownership.ports).toEqual([1, 2]);
    expect(r.ownership.reserved.groups).toEqual({ first: 0xf0000000, last: OFPG.MAX });
    expect(r.ownership.reserved.meters).toEqual({ first: 0xf0000000, last: OFPM.MAX });
    expect(r.ownership.reserved.cookies).toEqual(OPERATOR_COOKIES);
  });

  it('createOwnership merges partial quotas over the defaults', () => {
    const r = createOwnership({ ...base, quotas: { maxFlows: 10 } });
    expect(r.ok && r.ownership.quotas).toEqual({ ...DEFAULT_QUOTAS, maxFlows: 10 });
  });

  it('layout: a table beyond T-1 → TABLE_OUT_OF_RANGE', () => {
    expect(validateLayout(4, { operator: [0], tenant: [1, 2, 3, 4], virtual: true }).map((e) => e.code)).toEqual(['TABLE_OUT_OF_RANGE']);
  });

  it('layout: a table owned by both → TABLE_OWNED_TWICE', () => {
    expect(validateLayout(3, { operator: [0, 1], tenant: [1, 2], virtual: true }).map((e) => e.code)).toEqual(['TABLE_OWNED_TWICE']);
  });

  it('layout: a table listed twice on one side → TABLE_LISTED_TWICE', () => {
    expect(validateLayout(3, { operator: [0], tenant: [1, 2, 2], virtual: true }).map((e) => e.code)).toEqual(['TABLE_LISTED_TWICE']);
  });

  it('layout: a table owned by no one → TABLE_UNOWNED', () => {
    const errors = validateLayout(4, { operator: [0], tenant: [1, 2], virtual: true });
    expect(errors.map((e) => [e.code, e.field])).toEqual([['TABLE_UNOWNED', 'tables']]);
    expect(errors[0].message).toContain('3');
  });

  it('layout: the tenant owning nothing → NO_TENANT_TABLE', () => {
    expect(codes({ ...base, tableCount: 2, tables: { operator: [0, 1], tenant: [] } })).toEqual(['NO_TENANT_TABLE']);
  });

  it('layout: a table count outside 1..255 → BAD_TABLE_COUNT', () => {
    expect(codes({ ...base, tableCount: 0 })).toEqual(['BAD_TABLE_COUNT']);
    expect(codes({ ...base, tableCount: 256 })).toEqual(['BAD_TABLE_COUNT']);
    expect(codes({ ...base, tableCount: 255 })).toEqual([]);
  });

  it('operator owning no table is valid (the tenant owns table 0)', () => {
    expect(codes({ ...base, tableCount: 4, tables: { operator: [] } })).toEqual([]);
  });

  it('ports: 0, reserved numbers and duplicates → BAD_PORT / DUPLICATE_PORT', () => {
    expect(codes({ ...base, ports: [0, 0xfffffffd, 3, 3] })).toEqual(['BAD_PORT', 'BAD_PORT', 'DUPLICATE_PORT']);
  });

  it('quotas: negative or fractional → BAD_QUOTA naming the field', () => {
    const r = createOwnership({ ...base, quotas: { maxGroups: -1, packetInsPerSecond: 1.5 } });
    expect(r.ok ? [] : r.errors.map((e) => [e.code, e.field])).toEqual([
      ['BAD_QUOTA', 'quotas.maxGroups'],
      ['BAD_QUOTA', 'quotas.packetInsPerSecond'],
    ]);
  });

  it('reserved ranges beyond OFPG_MAX / OFPM_MAX or reversed → BAD_RESERVED_RANGE', () => {
    expect(codes({ ...base, reserved: { groups: { first: 0xf0000000, last: OFPG.ALL } } })).toEqual(['BAD_RESERVED_RANGE']);
    expect(codes({ ...base, reserved: { meters: { first: 10, last: 5 } } })).toEqual(['BAD_RESERVED_RANGE']);
  });

  it('empty vnf or tenant names → EMPTY_NAME', () => {
    expect(codes({ ...base, vnf: '', tenant: '' })).toEqual(['EMPTY_NAME', 'EMPTY_NAME']);
  });
});
