/**
 * The Open vSwitch driver's OVSDB side without an Open vSwitch: the
 * ovs-vsctl commands it issues, and how it reads ovs-vsctl's JSON listing
 * (captured from Open vSwitch 3.1). test/interop/ovs-nic.spec.ts runs it
 * against a real one.
 */
import { NicDriverError } from './nic-driver.js';
import { bridgeName, OVS_TABLES, OvsNicDriver, portName } from './ovs-driver.js';

/**
 * `ovs-vsctl --format=json -- --columns=name,other_config,external_ids,ports list Bridge
 * -- --columns=_uuid,interfaces list Port -- --columns=_uuid,name,ofport list Interface`
 * with nvbr1 (datapath 1, vNF fw1: nvp1 → 1, nvp2 → 2, nvp7 failed to open: -1) and a
 * bridge nicvisor did not make (br-ext, whose eth9 is not open yet).
 */
const LISTING = `{"data":[["nvbr1",["map",[["datapath-id","0000000000000001"]]],["map",[["nicvisor-vnf","fw1"]]],["set",[["uuid","41e22c79-1164-43de-b084-23738fc91da5"],["uuid","b6ea0c52-cbf9-485d-a3bd-6799c9ea8a30"],["uuid","dc6a32ed-2f2d-4175-b851-daa3d25688fc"],["uuid","ddcdd59f-8e98-4824-8819-7de6a9904574"]]]],["br-ext",["map",[]],["map",[]],["set",[["uuid","d8ac10ff-4dfd-4bff-9a44-1506ed318347"],["uuid","f8015f4f-5e9b-4d90-a193-2c40de3d25ea"]]]]],"headings":["name","other_config","external_ids","ports"]}
{"data":[[["uuid","dc6a32ed-2f2d-4175-b851-daa3d25688fc"],["uuid","0ac3d6a9-f8a1-4f46-887f-2390239efaf5"]],[["uuid","41e22c79-1164-43de-b084-23738fc91da5"],["uuid","f990df20-95a9-4122-903a-9b3ddfa5c894"]],[["uuid","b6ea0c52-cbf9-485d-a3bd-6799c9ea8a30"],["uuid","e60749cd-26ba-4061-9d3f-874f2ca75b15"]],[["uuid","ddcdd59f-8e98-4824-8819-7de6a9904574"],["uuid","e37be510-79f6-4703-bb1e-cd48db46920f"]],[["uuid","d8ac10ff-4dfd-4bff-9a44-1506ed318347"],["uuid","759fe21b-d1f2-414e-b390-99d6e424e713"]],[["uuid","f8015f4f-5e9b-4d90-a193-2c40de3d25ea"],["uuid","e55e3c50-c9f6-471e-900a-f65a9775c76a"]]],"headings":["_uuid","interfaces"]}
{"data":[[["uuid","e37be510-79f6-4703-bb1e-cd48db46920f"],"nvp7",-1],[["uuid","e55e3c50-c9f6-471e-900a-f65a9775c76a"],"eth9",["set",[]]],[["uuid","f990df20-95a9-4122-903a-9b3ddfa5c894"],"nvp2",2],[["uuid","e60749cd-26ba-4061-9d3f-874f2ca75b15"],"nvp1",1],[["uuid","0ac3d6a9-f8a1-4f46-887f-2390239efaf5"],"nvbr1",65534],[["uuid","759fe21b-d1f2-414e-b390-99d6e424e713"],"br-ext",["set",[]]]],"headings":["_uuid","name","ofport"]}
`;
const EMPTY_LISTING = `{"data":[],"headings":["name","other_config","external_ids","ports"]}
{"data":[],"headings":["_uuid","interfaces"]}
{"data":[],"headings":["_uuid","name","ofport"]}
`;

/** `--format=json --columns=name,ofport,error list Interface NAME…`, one row per name. */
function interfaces(rows: Array<[string, number | null, string?]>): string {
  const data = rows.map(([name, ofport, error]) => [name, ofport ?? ['set', []], error === undefined ? ['set', []] : error]);
  return `${JSON.stringify({ data, headings: ['name', 'ofport', 'error'] })}\n`;
}

/** Records each call's arguments (after --db and --timeout) and answers listings from the given state. */
function fakeVsctl(state: { listing: string; ofports?: Map<string, number | null> }) {
  const calls: string[][] = [];
  const run = async (args: string[]): Promise<string> => {
    expect(args.slice(0, 2)).toEqual(['--db=unix:/run/ovs/db.sock', '--timeout=10']);
    const rest = args.slice(2);
    calls.push(rest);
    if (rest.includes('Bridge') && rest.includes('list')) return state.listing;
    if (rest[1] === '--columns=name,ofport,error') return interfaces(rest.slice(4).map((n) => [n, state.ofports?.get(n) ?? Number(n.slice(3))]));
    return '';
  };
  return { calls, run };
}

function driver(fake: ReturnType<typeof fakeVsctl>): OvsNicDriver {
  return new OvsNicDriver({ db: 'unix:/run/ovs/db.sock', controllerTarget: () => 'unix:/run/ovs/nicvisor-of.sock', run: fake.run });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(NicDriverError);
  return (e as NicDriverError).code;
}

describe('OvsNicDriver', () => {
  it('names bridges and ports within a network device name', () => {
    expect(bridgeName(1n)).toBe('nvbr1');
    expect(bridgeName(0xfffffffffffn)).toBe('nvbrfffffffffff');
    expect(() => bridgeName(0x1000000000000n)).toThrow(NicDriverError);
    expect(portName(65279)).toBe('nvp65279');
    expect(() => portName(0xff00)).toThrow(NicDriverError);
    expect(() => portName(0)).toThrow(NicDriverError);
  });

  it('lists only its own bridges, with the ports Open vSwitch opened under their numbers', async () => {
    const d = driver(fakeVsctl({ listing: LISTING }));
    expect(await d.listInstances()).toEqual([
      {
        datapathId: 1n,
        nTables: OVS_TABLES,
        ports: [
          { nicPort: 1, portNo: 1 },
          { nicPort: 2, portNo: 2 },
        ],
      },
    ]);
  });

  it('creates a bridge in one transaction: netdev, OpenFlow13, secure, the datapath id, the controller, internal ports numbered as requested', async () => {
    const fake = fakeVsctl({ listing: EMPTY_LISTING });
    await driver(fake).createInstance({ vnf: 'fw1', datapathId: 0x2an, ports: [3, 4], nTables: 64 });
    expect(fake.calls).toHaveLength(3);
    expect(fake.calls[1]).toEqual([
      '--',
      'add-br',
      'nvbr2a',
      '--',
      'set',
      'Bridge',
      'nvbr2a',
      'datapath_type=netdev',
      'protocols=OpenFlow13',
      'fail_mode=secure',
      'other_config:datapath-id="000000000000002a"',
      'external_ids:nicvisor-vnf="fw1"',
      '--',
      '--id=@ctl',
      'create',
      'Controller',
      'target="unix:/run/ovs/nicvisor-of.sock"',
      'max_backoff=1000',
      '--',
      'set',
      'Bridge',
      'nvbr2a',
      'controller=@ctl',
      '--',
      'add-port',
      'nvbr2a',
      'nvp3',
      '--',
      'set',
      'Interface',
      'nvp3',
      'type=internal',
      'ofport_request=3',
      '--',
      'add-port',
      'nvbr2a',
      'nvp4',
      '--',
      'set',
      'Interface',
      'nvp4',
      'type=internal',
      'ofport_request=4',
    ]);
    expect(fake.calls[2]).toEqual(['--format=json', '--columns=name,ofport,error', 'list', 'Interface', 'nvp3', 'nvp4']);
  });

  it('refuses an existing instance, a NIC port of another bridge, a port given twice', async () => {
    const fake = fakeVsctl({ listing: LISTING });
    const d = driver(fake);
    expect(await refusal(d.createInstance({ vnf: 'x', datapathId: 1n, ports: [], nTables: 64 }))).toBe('EXISTS');
    expect(await refusal(d.createInstance({ vnf: 'x', datapathId: 2n, ports: [5, 2], nTables: 64 }))).toBe('PORT_IN_USE');
    expect(await refusal(d.createInstance({ vnf: 'x', datapathId: 2n, ports: [5, 5], nTables: 64 }))).toBe('BAD_ARGUMENT');
    expect(fake.calls.every((c) => c.includes('list'))).toBe(true);
  });

  it('deletes the bridge again when Open vSwitch did not give a port its number', async () => {
    const fake = fakeVsctl({ listing: EMPTY_LISTING, ofports: new Map([['nvp4', -1]]) });
    expect(await refusal(driver(fake).createInstance({ vnf: 'fw1', datapathId: 9n, ports: [3, 4], nTables: 64 }))).toBe('PORT_FAILED');
    expect(fake.calls.at(-1)).toEqual(['--if-exists', 'del-br', 'nvbr9']);
  });

  it('destroys, attaches and detaches by what the listing says', async () => {
    const fake = fakeVsctl({ listing: LISTING });
    const d = driver(fake);
    await d.destroyInstance(1n);
    expect(fake.calls.at(-1)).toEqual(['del-br', 'nvbr1']);
    expect(await refusal(d.destroyInstance(5n))).toBe('NO_SUCH_INSTANCE');

    await d.attachPort(1n, 8);
    expect(fake.calls.at(-2)).toEqual(['--', 'add-port', 'nvbr1', 'nvp8', '--', 'set', 'Interface', 'nvp8', 'type=internal', 'ofport_request=8']);
    expect(await refusal(d.attachPort(1n, 2))).toBe('PORT_IN_USE');
    expect(await refusal(d.attachPort(5n, 9))).toBe('NO_SUCH_INSTANCE');

    await d.detachPort(2);
    expect(fake.calls.at(-1)).toEqual(['del-port', 'nvbr1', 'nvp2']);
    expect(await refusal(d.detachPort(9))).toBe('PORT_NOT_ATTACHED');
  });

  it("reports ovs-vsctl's own refusal", async () => {
    const d = new OvsNicDriver({
      db: 'unix:/run/ovs/db.sock',
      controllerTarget: () => 'unix:/x',
      run: () => Promise.reject(new Error('ovs-vsctl: unix:/run/ovs/db.sock: database connection failed (No such file or directory)')),
    });
    const e = await d.listInstances().catch((x: unknown) => x as NicDriverError);
    expect(e).toBeInstanceOf(NicDriverError);
    expect((e as NicDriverError).code).toBe('OVSDB');
    expect((e as NicDriverError).message).toContain('database connection failed');
  });
});
