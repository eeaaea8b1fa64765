/** Runs the real binary, as a user would: `node bin/nicvisor.js …`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = process.cwd();
/** Each run starts node and transpiles the sources: seconds apiece on a busy 2-core machine. */
const SLOW = 120_000;
const PACKETS = join(ROOT, 'test/fixtures/ryu-of13/codec/packets');
const packet = (name: string) => readFileSync(join(PACKETS, `${name}.packet`));

function nicvisor(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/nicvisor.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const FLOW_MOD_LINE = 'OFPT_FLOW_MOD (OF1.3) (xid=0x0): ADD priority=123,in_port=6,dl_src=f2:0b:a4:7d:f8:ea buf:0xffff actions=goto_table:1';

describe('nicvisor ofp-print', () => {
  it('prints one line per message of hex with spaces and newlines, several messages concatenated', () => {
    const hex = packet('4-3-ofp_flow_mod').toString('hex');
    const spaced = `${hex.slice(0, 10)} ${hex.slice(10, 40)}\n${hex.slice(40)}`;
    const r = nicvisor('ofp-print', spaced + '\n04000008 00000001');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([FLOW_MOD_LINE, 'OFPT_HELLO (OF1.3) (xid=0x1):']);
  }, SLOW);

  it('rejects bad hex with exit 2 and a clear message', () => {
    const r = nicvisor('ofp-print', '0400000g');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('not hexadecimal: "g" at digit 8');
    expect(r.stderr).toContain('hint:');
    const odd = nicvisor('ofp-print', '04000');
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain('odd number of hex digits');
  }, SLOW);
});

describe('nicvisor ofp-parse', () => {
  const names = ['4-3-ofp_flow_mod', '4-6-ofp_features_reply', '4-12-ofp_flow_stats_reply', '4-10-ofp_hello', '4-41-ofp_error_msg_experimenter'];
  let all: string;
  beforeAll(() => {
    all = file('all.bin', Buffer.concat(names.map(packet)));
  }, SLOW);

  it('prints each message of a file on one line', () => {
    const r = nicvisor('ofp-parse', all);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines).toHaveLength(names.length);
    expect(r.lines[0]).toBe(FLOW_MOD_LINE);
    expect(r.lines[1]).toMatch(/^OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x0\): dpid:000008606e7f74e7 /);
    expect(r.lines[2]).toMatch(/^OFPST_FLOW reply \(OF1\.3\) \(xid=0x0\): 4 flows: /);
  }, SLOW);

  it('prints JSON objects, one per line, with named types and lossless 64-bit values', () => {
    const r = nicvisor('ofp-parse', '--json', all);
    expect(r.code).toBe(0);
    const objects = r.lines.map((l) => JSON.parse(l));
    expect(objects.map((o) => o.type)).toEqual(['FLOW_MOD', 'FEATURES_REPLY', 'MULTIPART_REPLY', 'HELLO', 'ERROR']);
    expect(objects[0]).toMatchObject({ xid: 0, priority: 123, cookie: '0', match: [{ field: 'in_port', value: 6 }, { field: 'eth_src', value: 'f2:0b:a4:7d:f8:ea' }] });
    expect(objects[1].datapathId).toBe('000008606e7f74e7');
    expect(objects[2].body.mpType).toBe('FLOW');
  }, SLOW);

  it('--check: every fixture re-encodes identically (exit 0)', () => {
    const r = nicvisor('ofp-parse', '--check', all);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      '#1 @0 FLOW_MOD xid=0x0: identical',
      '#2 @80 FEATURES_REPLY xid=0x0: identical',
      '#3 @112 MULTIPART_REPLY xid=0x0: identical',
      `#4 @${80 + 32 + packet('4-12-ofp_flow_stats_reply').length} HELLO xid=0x0: identical`,
      `#5 @${80 + 32 + packet('4-12-ofp_flow_stats_reply').length + packet('4-10-ofp_hello').length} ERROR xid=0x0: identical`,
    ]);
  }, SLOW);

  it('--check: a set padding byte, which decoding ignores, makes the re-encoding differ (exit 1)', () => {
    const hello = packet('libofproto-OFP13-hello');
    const fm = Buffer.from(packet('4-3-ofp_flow_mod'));
    fm[46] = 0xff; // ofp_flow_mod.pad[2], after flags
    const r = nicvisor('ofp-parse', '--check', file('padded.bin', Buffer.concat([hello, fm])));
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`#1 @0 HELLO xid=0x0: identical`, `#2 @${hello.length} FLOW_MOD xid=0x0: differs at byte 46`]);
  }, SLOW);

  it('truncated input: exit 2, the error and its offset on stderr, earlier messages still printed, no stack trace', () => {
    const hello = packet('libofproto-OFP13-hello');
    const truncated = readFileSync(join(PACKETS, '../truncated/libofproto-OFP13-flow_mod.first64.bin'));
    const r = nicvisor('ofp-parse', file('truncated.bin', Buffer.concat([hello, truncated])));
    expect(r.code).toBe(2);
    expect(r.lines).toEqual(['OFPT_HELLO (OF1.3) (xid=0x0): version bitmap: 0x04']);
    expect(r.stderr).toContain('OFPBRC_BAD_LEN');
    expect(r.stderr).toContain(`(at byte ${hello.length})`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, SLOW);

  it('a header length under 8: exit 2 with the offset', () => {
    const hello = packet('libofproto-OFP13-hello');
    const r = nicvisor('ofp-print', hello.toString('hex') + '0400000400000000');
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.stderr).toContain(`(at byte ${hello.length})`);
  }, SLOW);

  it('a malformed message inside a well-framed stream: reported with its offset, the others printed', () => {
    const bad = Buffer.from(packet('4-3-ofp_flow_mod'));
    bad[0x30] = 0x07; // match type 7 is not OFPMT_OXM
    const hello = packet('libofproto-OFP13-hello');
    const r = nicvisor('ofp-parse', file('badmatch.bin', Buffer.concat([bad, hello])));
    expect(r.code).toBe(2);
    expect(r.lines).toEqual(['OFPT_HELLO (OF1.3) (xid=0x0): version bitmap: 0x04']);
    expect(r.stderr).toContain('OFPBMC_BAD_TYPE');
    expect(r.stderr).toContain('message #1 at offset 0');
  }, SLOW);

  it('an empty file holds no messages: exit 0, no output', () => {
    const r = nicvisor('ofp-parse', file('empty.bin', Buffer.alloc(0)));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  }, SLOW);

  it('a missing file: exit 2 with the reason', () => {
    const r = nicvisor('ofp-parse', join(dir, 'nope.bin'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ENOENT');
  }, SLOW);
});

describe('usage', () => {
  it.each([[['frobnicate']], [['ofp-parse']], [['ofp-print', '--nope', '04']], [[]]])('nicvisor %j exits 2 with a hint', (args) => {
    const r = nicvisor(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--help/);
  }, SLOW);

  it('--help exits 0', () => {
    const r = nicvisor('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ofp-print');
    expect(r.stdout).toContain('ofp-parse');
  }, SLOW);
});
