import { OFPBMC, OFPET, OfpError } from './errors.js';
import { decodeMatch, encodeMatch, Match, matchLength, OXM_FIELDS, validateMatch } from './oxm.js';
import { Reader, Writer } from './wire.js';

function code(fn: () => void): number | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OfpError);
    expect((e as OfpError).type).toBe(OFPET.BAD_MATCH);
    return (e as OfpError).code;
  }
  return undefined;
}

describe('OXM descriptor table', () => {
  it('has the 40 OpenFlow-basic fields with ids 0..39 in order', () => {
    expect(OXM_FIELDS).toHaveLength(40);
    OXM_FIELDS.forEach((d, i) => expect(d.id).toBe(i));
  });

  it('names only existing fields as prerequisites', () => {
    const names = new Set(OXM_FIELDS.map((d) => d.name));
    for (const d of OXM_FIELDS) for (const p of d.prereqs) expect(names.has(p.field)).toBe(true);
  });
});

describe('match codec', () => {
  it('pads to 8 bytes and round-trips every kind of value', () => {
    const match: Match = [
      { field: 'in_port', value: 7 },
      { field: 'metadata', value: 0x1234n, mask: 0xffffn },
      { field: 'eth_dst', value: '01:00:5e:00:00:00', mask: 'ff:ff:ff:80:00:00' },
      { field: 'eth_type', value: 0x86dd },
      { field: 'ipv6_src', value: '2001:db8::1' },
      { field: 'pbb_isid', value: 0xabcdef },
    ];
    const w = new Writer(matchLength(match));
    encodeMatch(match, w);
    expect(w.pos % 8).toBe(0);
    expect(decodeMatch(new Reader(w.buf, 0, w.pos))).toEqual(match);
  });

  it('rejects a field whose length disagrees with its width', () => {
    // in_port announced with 2 bytes instead of 4
    const bytes = Buffer.from('0001000a80000002000100000000000000', 'hex');
    expect(code(() => decodeMatch(new Reader(bytes, 0, bytes.length)))).toBe(OFPBMC.BAD_LEN);
  });

  it('rejects a non-OXM match type', () => {
    const bytes = Buffer.from('0000000400000000', 'hex');
    expect(code(() => decodeMatch(new Reader(bytes, 0, bytes.length)))).toBe(OFPBMC.BAD_TYPE);
  });
});

describe('validateMatch', () => {
  it('accepts fields whose prerequisites are present', () => {
    expect(
      code(() =>
        validateMatch([
          { field: 'eth_type', value: 0x0800 },
          { field: 'ip_proto', value: 6 },
          { field: 'tcp_dst', value: 80 },
        ]),
      ),
    ).toBeUndefined();
  });

  it('names a missing or wrong prerequisite OFPBMC_BAD_PREREQ', () => {
    expect(code(() => validateMatch([{ field: 'tcp_dst', value: 80 }]))).toBe(OFPBMC.BAD_PREREQ);
    expect(
      code(() =>
        validateMatch([
          { field: 'eth_type', value: 0x0806 },
          { field: 'ipv4_src', value: '10.0.0.1' },
        ]),
      ),
    ).toBe(OFPBMC.BAD_PREREQ);
    // vlan_pcp needs a VLAN to be present
    expect(
      code(() =>
        validateMatch([
          { field: 'vlan_vid', value: 0 },
          { field: 'vlan_pcp', value: 3 },
        ]),
      ),
    ).toBe(OFPBMC.BAD_PREREQ);
    expect(
      code(() =>
        validateMatch([
          { field: 'vlan_vid', value: 0x1000, mask: 0x1000 },
          { field: 'vlan_pcp', value: 3 },
        ]),
      ),
    ).toBeUndefined();
  });

  it('refuses duplicates, masks on unmaskable fields and out-of-range values', () => {
    expect(
      code(() =>
        validateMatch([
          { field: 'in_port', value: 1 },
          { field: 'in_port', value: 2 },
        ]),
      ),
    ).toBe(OFPBMC.DUP_FIELD);
    expect(code(() => validateMatch([{ field: 'in_port', value: 1, mask: 0xff }]))).toBe(OFPBMC.BAD_MASK);
    expect(code(() => validateMatch([{ field: 'vlan_vid', value: 0x2000 }]))).toBe(OFPBMC.BAD_VALUE);
  });

  it('treats value bits outside the mask as the caller chooses', () => {
    const match: Match = [
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_src', value: '192.168.10.10', mask: '255.255.255.0' },
    ];
    expect(code(() => validateMatch(match))).toBe(OFPBMC.BAD_WILDCARDS);
    expect(code(() => validateMatch(match, { bitsOutsideMask: 'ignore' }))).toBeUndefined();
  });
});
