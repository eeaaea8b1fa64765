import { OPERATOR, tenantPrincipal } from './model.js';
import { ownerOfTable, resolveTable, toPhysical, toVirtual, viewTableCount } from './view.js';
import { CUSTOM, CUSTOM_VIRTUAL, OWN, PHYS } from '../test/fixtures.js';

describe('view: table virtualization', () => {
  it('virtual: the first owned table is the vNF\'s 0, the view is 0..k-1', () => {
    expect([0, 1, 6, 7].map((t) => toPhysical(OWN, t))).toEqual([1, 2, 7, undefined]);
    expect([0, 1, 7].map((t) => toVirtual(OWN, t))).toEqual([undefined, 0, 6]);
    expect(viewTableCount(OWN)).toBe(7);
  });

  it('virtual with a custom layout: owned tables renumbered in ascending physical order', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((t) => toPhysical(CUSTOM_VIRTUAL, t))).toEqual([1, 2, 4, 5, 6, 7, undefined]);
    expect(toVirtual(CUSTOM_VIRTUAL, 3)).toBeUndefined();
    expect(toVirtual(CUSTOM_VIRTUAL, 4)).toBe(2);
  });

  it('virtual=false: physical ids, identity on owned tables only', () => {
    expect([0, 1, 7].map((t) => toPhysical(PHYS, t))).toEqual([undefined, 1, 7]);
    expect(toVirtual(PHYS, 5)).toBe(5);
    expect(viewTableCount(PHYS)).toBe(8);
  });

  it('resolveTable: virtual view has owned or outside, nothing in between', () => {
    expect(resolveTable(OWN, 0)).toEqual({ kind: 'owned', physical: 1 });
    expect(resolveTable(OWN, 7)).toEqual({ kind: 'outside' });
    expect(resolveTable(OWN, 0xfe)).toEqual({ kind: 'outside' });
  });

  it('resolveTable: visible but not owned (virtual=false) vs outside the view', () => {
    expect(resolveTable(PHYS, 0)).toEqual({ kind: 'foreign', physical: 0 });
    expect(resolveTable(CUSTOM, 3)).toEqual({ kind: 'foreign', physical: 3 });
    expect(resolveTable(CUSTOM, 4)).toEqual({ kind: 'owned', physical: 4 });
    expect(resolveTable(PHYS, 8)).toEqual({ kind: 'outside' });
  });

  it('resolveTable: ids beyond a u8 are outside every view; answers are per ownership, asked in any order', () => {
    expect(resolveTable(PHYS, 0x100)).toEqual({ kind: 'outside' });
    expect(resolveTable(OWN, 0x101)).toEqual({ kind: 'outside' });
    for (let i = 0; i < 2; i++) {
      expect(resolveTable(OWN, 1)).toEqual({ kind: 'owned', physical: 2 });
      expect(resolveTable(PHYS, 1)).toEqual({ kind: 'owned', physical: 1 });
      expect(resolveTable(CUSTOM, 3)).toEqual({ kind: 'foreign', physical: 3 });
    }
  });

  it('ownerOfTable: operator, tenant, or nobody beyond T', () => {
    expect(ownerOfTable(OWN, 0)).toEqual(OPERATOR);
    expect(ownerOfTable(OWN, 1)).toEqual(tenantPrincipal('acme'));
    expect(ownerOfTable(OWN, 8)).toBeUndefined();
  });
});
