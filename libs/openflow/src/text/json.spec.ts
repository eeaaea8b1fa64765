import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, OFPT, type FlowMod } from '@nicvisor/openflow';
import { toJson } from './index.js';

const PACKETS = join(process.cwd(), 'test/fixtures/ryu-of13/codec/packets');
const fixture = (name: string) => decodeMessage(readFileSync(join(PACKETS, `${name}.packet`)));

describe('toJson', () => {
  it('names types, turns bigints into decimal strings and Buffers into hex', () => {
    const fm: FlowMod = {
      type: OFPT.FLOW_MOD,
      xid: 7,
      cookie: 0xffffffffffffffffn,
      cookieMask: 0n,
      tableId: 0,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 1,
      bufferId: 0xffffffff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      flags: 0,
      match: [
        { field: 'metadata', value: 1n, mask: 0xffn },
        { oxmClass: 1, field: 31, hasMask: false, payload: Buffer.from([10, 0, 0, 1]) },
      ],
      instructions: [{ type: 4, actions: [{ type: 0, port: 1, maxLen: 0 }, { type: 0xffff, experimenter: 0x2320, data: Buffer.from('abcd', 'hex') }] }],
    };
    const json = toJson(fm);
    expect(json).toEqual({
      type: 'FLOW_MOD',
      xid: 7,
      cookie: '18446744073709551615',
      cookieMask: '0',
      tableId: 0,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 1,
      bufferId: 4294967295,
      outPort: 4294967295,
      outGroup: 4294967295,
      flags: 0,
      match: [
        { field: 'metadata', value: '1', mask: '255' },
        { oxmClass: 1, field: 31, hasMask: false, payload: '0a000001' },
      ],
      instructions: [
        {
          type: 'APPLY_ACTIONS',
          actions: [
            { type: 'OUTPUT', port: 1, maxLen: 0 },
            { type: 'EXPERIMENTER', experimenter: 0x2320, data: 'abcd' },
          ],
        },
      ],
    });
    // JSON-safe: survives stringify and parse unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('prints the datapath id as 16 hex digits', () => {
    const json = toJson(fixture('4-6-ofp_features_reply'));
    expect(json.type).toBe('FEATURES_REPLY');
    expect(json.datapathId).toBe('000008606e7f74e7');
  });

  it('names the multipart type', () => {
    const json = toJson(fixture('4-12-ofp_flow_stats_reply')) as { type: string; body: { mpType: string; entries: { cookie: string }[] } };
    expect(json.type).toBe('MULTIPART_REPLY');
    expect(json.body.mpType).toBe('FLOW');
    expect(json.body.entries[0].cookie).toBe('0');
  });

  it('converts every fixture to something JSON.stringify accepts', () => {
    for (const name of ['4-2-ofp_flow_mod', '4-56-ofp_table_features_reply', '4-59-ofp_packet_in', '4-10-ofp_hello', '4-36-ofp_queue_get_config_reply']) {
      // JSON.stringify throws on a bigint left behind.
      const text = JSON.stringify(toJson(fixture(name)));
      expect(JSON.parse(text)).toEqual(toJson(fixture(name)));
    }
  });
});
