/**
 * Test support for the instance, agent, group and meter specs: a switch
 * instance on a ManualClock with a controller session that records what
 * the switch sends, and builders for the common messages. Not part of the
 * library's API.
 */
import {
  Action,
  decodeMessage,
  encodeMessage,
  FlowMod,
  GroupMod,
  Instruction,
  Match,
  MeterMod,
  OFP_NO_BUFFER,
  OFPAT,
  OFPFC,
  OFPG,
  OFPIT,
  OFPP,
  OFPT,
  OfpMessage,
  ourHello,
} from '@nicvisor/openflow';
import { ManualClock } from './clock.js';
import { AgentSession, InstanceOptions, SwitchInstance } from './instance.js';

export interface Frame {
  port: number;
  frame: Buffer;
}

/** A controller connection: `send` returns what the switch answered (and sent asynchronously) meanwhile. */
export class TestController {
  readonly inbox: OfpMessage[] = [];
  readonly session: AgentSession;
  private xid = 100;

  constructor(readonly sw: SwitchInstance, handshake = true) {
    this.session = sw.openSession((raw) => this.inbox.push(decodeMessage(raw)));
    if (handshake) {
      this.session.receive(encodeMessage(ourHello(1)));
      this.take();
    }
  }

  nextXid(): number {
    return this.xid++;
  }

  /** Sends a message (its xid replaced by a fresh one unless given) and returns everything received meanwhile. */
  send<M extends OfpMessage>(msg: M): OfpMessage[] {
    return this.sendRaw(encodeMessage(msg));
  }

  sendRaw(raw: Buffer): OfpMessage[] {
    this.session.receive(raw);
    return this.take();
  }

  take(): OfpMessage[] {
    return this.inbox.splice(0, this.inbox.length);
  }
}

/** A switch with ports 1..nPorts, a ManualClock, frames out collected. */
export class TestSwitch {
  readonly clock = new ManualClock(1000);
  readonly sw: SwitchInstance;
  readonly out: Frame[] = [];

  constructor(opts: Partial<InstanceOptions> & { nPorts?: number } = {}) {
    const n = opts.nPorts ?? 4;
    this.sw = new SwitchInstance({
      datapathId: 0x1234n,
      ports: Array.from({ length: n }, (_, i) => ({ portNo: i + 1 })),
      clock: this.clock,
      ...opts,
    });
    this.sw.onTransmit((port, frame) => this.out.push({ port, frame: Buffer.from(frame) }));
  }

  controller(handshake = true): TestController {
    return new TestController(this.sw, handshake);
  }

  /** Frames sent since the last call. */
  takeFrames(): Frame[] {
    return this.out.splice(0, this.out.length);
  }
}

export function flowMod(p: Partial<FlowMod> & { actions?: Action[] }): FlowMod {
  const { actions, ...rest } = p;
  const instructions: Instruction[] = rest.instructions ?? (actions !== undefined ? [applyActions(...actions)] : []);
  return {
    type: OFPT.FLOW_MOD,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0x8000,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    ...rest,
    instructions,
  };
}

export function applyActions(...actions: Action[]): Instruction {
  return { type: OFPIT.APPLY_ACTIONS, actions };
}

export function writeActions(...actions: Action[]): Instruction {
  return { type: OFPIT.WRITE_ACTIONS, actions };
}

export function output(port: number, maxLen = 0xffff): Action {
  return { type: OFPAT.OUTPUT, port, maxLen };
}

export function group(groupId: number): Action {
  return { type: OFPAT.GROUP, groupId };
}

export function groupMod(p: Partial<GroupMod>): GroupMod {
  return { type: OFPT.GROUP_MOD, xid: 1, command: 0, groupType: 0, groupId: 1, buckets: [], ...p };
}

export function bucket(actions: Action[], weight = 0, watchPort: number = OFPP.ANY, watchGroup: number = OFPG.ANY) {
  return { weight, watchPort, watchGroup, actions };
}

export function meterMod(p: Partial<MeterMod>): MeterMod {
  return { type: OFPT.METER_MOD, xid: 1, command: 0, flags: 1, meterId: 1, bands: [], ...p };
}

export function inPort(port: number): Match {
  return [{ field: 'in_port', value: port }];
}

/** An Ethernet/IPv4/UDP frame of `size` bytes (≥ 42), TTL 64. */
export function udpFrame(opts: { src?: number; dst?: number; sport?: number; dport?: number; size?: number; ttl?: number; dscp?: number } = {}): Buffer {
  const size = Math.max(42, opts.size ?? 64);
  const b = Buffer.alloc(size);
  Buffer.from('020000000002', 'hex').copy(b, 0);
  Buffer.from('020000000001', 'hex').copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b[15] = (opts.dscp ?? 0) << 2;
  b.writeUInt16BE(size - 14, 16);
  b[22] = opts.ttl ?? 64;
  b[23] = 17;
  b.writeUInt32BE(opts.src ?? 0x0a000001, 26);
  b.writeUInt32BE(opts.dst ?? 0x0a000002, 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, 24);
  b.writeUInt16BE(opts.sport ?? 1000, 34);
  b.writeUInt16BE(opts.dport ?? 2000, 36);
  b.writeUInt16BE(size - 34, 38);
  return b;
}

/** The ERROR messages among `msgs`, as [type, code, xid]. */
export function errorsOf(msgs: OfpMessage[]): Array<[number, number, number]> {
  return msgs.filter((m) => m.type === OFPT.ERROR).map((m) => [(m as { errorType: number }).errorType, (m as { code: number }).code, m.xid]);
}
