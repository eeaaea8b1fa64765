import { decodeMessage, encodeMessage, FlowMod, OFPPR, OFPT, OfpMessage, ourHello } from '@nicvisor/openflow';
import { ManualClock } from './clock.js';
import { NicError, SmartNic } from './nic.js';
import type { SwitchInstance } from './instance.js';

/** A controller on an in-process session: HELLO sent, every message from the switch kept. */
function controllerOf(instance: SwitchInstance) {
  const got: OfpMessage[] = [];
  const session = instance.openSession((raw) => got.push(decodeMessage(raw)));
  session.receive(encodeMessage(ourHello(1)));
  return {
    got,
    session,
    flow(inPort: number, outPort: number) {
      const fm: FlowMod = {
        type: OFPT.FLOW_MOD,
        xid: 2,
        cookie: 0n,
        cookieMask: 0n,
        tableId: 0,
        command: 0,
        idleTimeout: 0,
        hardTimeout: 0,
        priority: 100,
        bufferId: 0xffffffff,
        outPort: 0xffffffff,
        outGroup: 0xffffffff,
        flags: 0,
        match: [{ field: 'in_port', value: inPort }],
        instructions: [{ type: 4, actions: [{ type: 0, port: outPort, maxLen: 0 }] }],
      };
      session.receive(encodeMessage(fm));
      session.receive(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 3 }));
      expect(got.filter((m) => m.type === OFPT.ERROR)).toEqual([]);
    },
  };
}

const frame = (tag: number) =>
  Buffer.concat([Buffer.from('222222222222121111111111', 'hex'), Buffer.from('88b5', 'hex'), Buffer.alloc(46, tag)]);

function capturing(nic: SmartNic, ...ports: number[]) {
  const seen = new Map<number, Buffer[]>(ports.map((p) => [p, []]));
  const subs = ports.map((p) => nic.capture(p).subscribe((f) => seen.get(p)!.push(Buffer.from(f))));
  return { seen, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

describe('SmartNic', () => {
  let nic: SmartNic;
  beforeEach(() => {
    nic = new SmartNic({ ports: 6, clock: new ManualClock() });
  });
  afterEach(() => nic.shutdown());

  it('maps NIC ports to instance ports and delivers to the owner only', () => {
    const a = nic.createInstance({ datapathId: 1n, ports: [1, 2] });
    const b = nic.createInstance({ datapathId: 2n, ports: [{ nicPort: 3, portNo: 1 }, { nicPort: 4, portNo: 2 }] });
    controllerOf(a).flow(1, 2);
    controllerOf(b).flow(1, 2);
    const cap = capturing(nic, 1, 2, 3, 4);
    expect(nic.inject(1, frame(1))).toBe(true);
    expect(nic.inject(3, frame(3))).toBe(true);
    expect(cap.seen.get(2)).toEqual([frame(1)]);
    expect(cap.seen.get(4)).toEqual([frame(3)]);
    expect(cap.seen.get(1)).toEqual([]);
    expect(cap.seen.get(3)).toEqual([]);
    cap.stop();
    expect(nic.listInstances()).toEqual([
      { datapathId: 1n, nTables: 8, ports: [{ nicPort: 1, portNo: 1 }, { nicPort: 2, portNo: 2 }] },
      { datapathId: 2n, nTables: 8, ports: [{ nicPort: 3, portNo: 1 }, { nicPort: 4, portNo: 2 }] },
    ]);
    const ports = nic.listPorts();
    expect(ports[1]).toMatchObject({ nicPort: 2, owner: 1n, portNo: 2, txFrames: 1 });
    expect(ports[2]).toMatchObject({ nicPort: 3, owner: 2n, portNo: 1, rxFrames: 1 });
  });

  it('also publishes every frame on captureAll', () => {
    const a = nic.createInstance({ datapathId: 1n, ports: [1, 2] });
    controllerOf(a).flow(1, 2);
    const all: Array<{ nicPort: number; frame: Buffer }> = [];
    const sub = nic.captureAll().subscribe((x) => all.push(x));
    nic.inject(1, frame(9));
    sub.unsubscribe();
    expect(all).toEqual([{ nicPort: 2, frame: frame(9) }]);
  });

  it('refuses bad requests without changing anything', () => {
    nic.createInstance({ datapathId: 1n, ports: [1] });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(NicError);
        return (e as NicError).code;
      }
      return 'no error';
    };
    expect(code(() => nic.createInstance({ datapathId: 1n }))).toBe('EXISTS');
    expect(code(() => nic.createInstance({ datapathId: 2n, ports: [2, 1] }))).toBe('PORT_IN_USE');
    expect(code(() => nic.createInstance({ datapathId: 2n, ports: [9] }))).toBe('NO_SUCH_PORT');
    expect(code(() => nic.createInstance({ datapathId: 2n, ports: [2, { nicPort: 3, portNo: 2 }] }))).toBe('BAD_ARGUMENT');
    expect(code(() => nic.destroyInstance(7n))).toBe('NO_SUCH_INSTANCE');
    expect(code(() => nic.attachPort(1n, 1, 5))).toBe('PORT_IN_USE');
    expect(code(() => nic.attachPort(1n, 2, 1))).toBe('PORT_IN_USE');
    expect(code(() => nic.detachPort(2))).toBe('PORT_NOT_ATTACHED');
    expect(code(() => nic.inject(0, frame(0)))).toBe('NO_SUCH_PORT');
    expect(nic.listInstances()).toEqual([{ datapathId: 1n, nTables: 8, ports: [{ nicPort: 1, portNo: 1 }] }]);
    expect(nic.listPorts().filter((p) => p.owner !== undefined).map((p) => p.nicPort)).toEqual([1]);
  });

  it('creating and destroying an instance leaves the others as they were', () => {
    const a = nic.createInstance({ datapathId: 1n, ports: [1, 2] });
    const ctlA = controllerOf(a);
    ctlA.flow(1, 2);
    const before = ctlA.got.length;
    const b = nic.createInstance({ datapathId: 2n, ports: [3, 4] });
    controllerOf(b).flow(3, 4);
    nic.destroyInstance(2n);
    // A's session heard nothing about B, and A still forwards.
    expect(ctlA.got.length).toBe(before);
    const cap = capturing(nic, 2, 4);
    expect(nic.inject(1, frame(1))).toBe(true);
    expect(cap.seen.get(2)).toHaveLength(1);
    // B's ports are free again: frames there are dropped and counted.
    expect(nic.inject(3, frame(3))).toBe(false);
    expect(cap.seen.get(4)).toEqual([]);
    expect(nic.listPorts()[2]).toMatchObject({ owner: undefined, droppedFrames: 1 });
    cap.stop();
    // and can go to a new instance.
    nic.createInstance({ datapathId: 3n, ports: [3] });
    expect(nic.listInstances().map((i) => i.datapathId)).toEqual([1n, 3n]);
  });

  it('attaches and detaches ports at run time, announced to that instance only', () => {
    const a = nic.createInstance({ datapathId: 1n, ports: [1] });
    const b = nic.createInstance({ datapathId: 2n, ports: [2] });
    const ctlA = controllerOf(a);
    const ctlB = controllerOf(b);
    const bBefore = ctlB.got.length;
    nic.attachPort(1n, 5, 7);
    const statusA = ctlA.got.filter((m) => m.type === OFPT.PORT_STATUS);
    expect(statusA).toHaveLength(1);
    expect(statusA[0]).toMatchObject({ reason: OFPPR.ADD, desc: { portNo: 7 } });
    ctlA.flow(1, 7);
    const cap = capturing(nic, 5);
    nic.inject(1, frame(1));
    expect(cap.seen.get(5)).toHaveLength(1);
    nic.detachPort(5);
    const statusA2 = ctlA.got.filter((m) => m.type === OFPT.PORT_STATUS);
    expect(statusA2[1]).toMatchObject({ reason: OFPPR.DELETE, desc: { portNo: 7 } });
    nic.inject(1, frame(1));
    expect(cap.seen.get(5)).toHaveLength(1);
    cap.stop();
    expect(ctlB.got.length).toBe(bBefore);
  });

  it('a link down drops frames both ways', () => {
    const a = nic.createInstance({ datapathId: 1n, ports: [1, 2] });
    controllerOf(a).flow(1, 2);
    const cap = capturing(nic, 2);
    nic.setLinkDown(1, true);
    expect(nic.inject(1, frame(1))).toBe(false);
    nic.setLinkDown(1, false);
    nic.setLinkDown(2, true);
    nic.inject(1, frame(1));
    expect(cap.seen.get(2)).toEqual([]);
    nic.setLinkDown(2, false);
    nic.inject(1, frame(1));
    expect(cap.seen.get(2)).toHaveLength(1);
    cap.stop();
  });
});
