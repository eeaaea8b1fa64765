/**
 * tshark as an independent judge of our bytes. A full scripted session runs
 * in this process — the controller core, the embedded emulated NIC dialling
 * it, two vNFs (two tenants) on delegated channels — with a recording TCP
 * proxy on every link, so what is judged is exactly what nicvisor, the
 * emulated NIC and the codec-built vNF clients wrote. Message types the
 * session does not produce in some direction are added from the codec's
 * encoder. Every message becomes one pcap frame (text2pcap -l 147, user
 * DLT 147 mapped to Wireshark's openflow dissector), so one bad message
 * cannot hide the rest; then: as many
 * frames as messages, each decoded as the OpenFlow 1.3 type we wrote, no
 * malformed frame, no expert warning or error.
 *
 * The hostile inputs the test sends to provoke errors (bad version, bad
 * length, a HELLO offering only 1.0) are recorded too but not judged: they
 * are not ours. The errors nicvisor answers them with are.
 *
 * Without tshark/text2pcap the test is skipped (it fails when CI=true).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeMessage,
  Framer,
  OFPAT,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPFC,
  OFPFF,
  OFPG,
  OFPGC,
  OFPGT,
  OFPHFC,
  OFPIT,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMP,
  OFPP,
  OFPPC,
  OFPPR,
  OFPR,
  OFPRR,
  OFPT,
  OFPTT,
  type OfpMessage,
} from '@nicvisor/openflow';
import { createOwnership, type Ownership } from '@nicvisor/tenancy';
import { EmbeddedNicDriver } from '../../apps/controller/src/nic/embedded-driver.js';
import { OpenflowCore } from '../../apps/controller/src/openflow/core.js';
import { flowMod, output, udpFrame, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { everyMultipartRequest } from '../fuzz/mutate.js';
import { have, peerMissing } from './harness.js';

const TSHARK = have('tshark') && have('text2pcap');
const USER_DLT = 'uat:user_dlts:"User 0 (DLT=147)","openflow","0","","0",""';
/** Wireshark's expert severities (PI_WARN, PI_ERROR): anything at or above a warning fails the judge. */
const PI_WARN = 0x00600000;

/** Who wrote a message: a switch-side or a controller-side writer. */
type Writer = 'nic' | 'nicvisor→nic' | 'nicvisor→vnf' | 'vnf' | 'encoder:switch' | 'encoder:controller';

interface Recorded {
  writer: Writer;
  raw: Buffer;
  /** Deliberately broken input of the test: recorded, not judged. */
  hostile: boolean;
}

const recorded: Recorded[] = [];
/** The byte prefix of each deliberately broken message the test sends (they go through the proxies too). */
const hostileBytes: Buffer[] = [];

/**
 * A TCP proxy that frames and records both directions before forwarding
 * them unchanged: `clientWriter` names whoever connects, `serverWriter`
 * the endpoint behind it.
 */
class RecordingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly clientWriter: Writer,
    private readonly serverWriter: Writer,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    const upstream = netConnect({ host: '127.0.0.1', port: this.upstreamPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    this.pipe(client, upstream, this.clientWriter);
    this.pipe(upstream, client, this.serverWriter);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  }

  private pipe(from: Socket, to: Socket, writer: Writer): void {
    const framer = new Framer();
    from.on('data', (chunk: Buffer) => {
      for (const raw of framer.push(chunk)) {
        const copy = Buffer.from(raw);
        recorded.push({ writer, raw: copy, hostile: hostileBytes.some((h) => copy.equals(h)) });
      }
      to.write(chunk);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Vnf {
  own: Ownership;
  dpid: bigint;
  proxy: RecordingProxy;
  client: VnfClient;
}

const N_TABLES = 8;
let core: OpenflowCore;
let driver: EmbeddedNicDriver;
let nicProxy: RecordingProxy;
const proxies: RecordingProxy[] = [];
const clients: VnfClient[] = [];

async function vnfConnection(v: { proxy: RecordingProxy }): Promise<VnfClient> {
  const c = await VnfClient.open(v.proxy.port);
  clients.push(c);
  return c;
}

/** An instance on the emulated NIC, its operator flows, and its delegated channel behind a recording proxy. */
async function allocate(vnf: string, tenant: string, dpid: bigint, ports: number[]): Promise<Vnf> {
  await driver.createInstance({ vnf, datapathId: dpid, ports, nTables: N_TABLES });
  const r = createOwnership({ vnf, tenant, ports, tableCount: N_TABLES });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  await core.waitReady(dpid);
  await core.installOperatorFlows(r.ownership, dpid);
  const ch = await core.openChannel(r.ownership, dpid, { mode: 'listen', port: 0 });
  const proxy = new RecordingProxy(Number(ch.endpoint.split(':')[2]), 'vnf', 'nicvisor→vnf');
  await proxy.listen();
  proxies.push(proxy);
  const v = { own: r.ownership, dpid, proxy } as Vnf;
  v.client = await vnfConnection(v);
  return v;
}

/** Sends deliberately broken bytes (recorded as hostile) and waits for the error answering them. */
async function sendHostile(c: VnfClient, raw: Buffer, xid: number): Promise<void> {
  hostileBytes.push(raw);
  c.socket.write(raw);
  await c.waitFor((m) => m.xid === xid && m.type === OFPT.ERROR);
}

/** One client's whole repertoire: every request a controller sends, allowed and denied. */
async function vnfSession(v: Vnf, other: Vnf, phase: number): Promise<void> {
  const c = v.client;
  const [p1, p2] = v.own.ports as [number, number];
  const ask = (m: OfpMessage) => c.request(m);
  await ask({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.from('are you there') });
  await ask({ type: OFPT.FEATURES_REQUEST, xid: 0 });
  c.send({ type: OFPT.SET_CONFIG, xid: c.xid(), flags: 0, missSendLen: 256 });
  await ask({ type: OFPT.GET_CONFIG_REQUEST, xid: 0 });
  c.send({ type: OFPT.SET_ASYNC, xid: c.xid(), packetInMask: [0b111, 0b1], portStatusMask: [0b111, 0b111], flowRemovedMask: [0b11111, 0] });
  await ask({ type: OFPT.GET_ASYNC_REQUEST, xid: 0 });
  await ask({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 10n });
  // Stale generation id: OFPRRFC_STALE; then back to EQUAL (no generation check).
  await ask({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 5n });
  await ask({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.EQUAL, generationId: 0n });
  await ask({ type: OFPT.EXPERIMENTER, xid: 0, experimenter: 0x2320, expType: 10, data: Buffer.from('00000000', 'hex') });
  c.send({ type: OFPT.ERROR, xid: c.xid(), errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_TYPE, data: encodeMessage({ type: OFPT.BARRIER_REPLY, xid: 9 }) });

  // State: a meter, groups, flows of every instruction kind (view tables 0..).
  const meterId = 1 + phase;
  c.send({
    type: OFPT.METER_MOD,
    xid: c.xid(),
    command: OFPMC.ADD,
    flags: OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS,
    meterId,
    bands: [
      { type: OFPMBT.DROP, rate: 10_000, burstSize: 1000 },
      { type: OFPMBT.DSCP_REMARK, rate: 5000, burstSize: 500, precLevel: 1 },
    ],
  });
  c.send({ type: OFPT.GROUP_MOD, xid: c.xid(), command: OFPGC.ADD, groupType: OFPGT.ALL, groupId: 1, buckets: [{ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [output(p2)] }] });
  c.send({
    type: OFPT.GROUP_MOD,
    xid: c.xid(),
    command: OFPGC.ADD,
    groupType: OFPGT.SELECT,
    groupId: 2,
    buckets: [
      { weight: 3, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [output(p1)] },
      { weight: 1, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [{ type: OFPAT.SET_FIELD, field: { field: 'eth_dst', value: '02:00:00:00:00:09' } }, output(p2)] },
    ],
  });
  c.send({ type: OFPT.GROUP_MOD, xid: c.xid(), command: OFPGC.MODIFY, groupType: OFPGT.ALL, groupId: 1, buckets: [{ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [output(p1)] }] });
  c.send({
    ...flowMod({
      tableId: 0,
      priority: 100,
      cookie: 0x11n,
      flags: OFPFF.SEND_FLOW_REM,
      match: [
        { field: 'in_port', value: p1 },
        { field: 'eth_type', value: 0x0800 },
        { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' },
        { field: 'ip_proto', value: 17 },
        { field: 'udp_dst', value: 2000 },
      ],
      instructions: [
        { type: OFPIT.METER, meterId },
        { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.DEC_NW_TTL }, { type: OFPAT.SET_FIELD, field: { field: 'ipv4_src', value: '10.9.9.9' } }] },
        { type: OFPIT.WRITE_ACTIONS, actions: [{ type: OFPAT.GROUP, groupId: 2 }] },
        { type: OFPIT.WRITE_METADATA, metadata: 0xabn, metadataMask: 0xffn },
        { type: OFPIT.GOTO_TABLE, tableId: 1 },
      ],
    }),
    xid: c.xid(),
  });
  c.send({
    ...flowMod({
      tableId: 1,
      priority: 5,
      match: [
        { field: 'eth_type', value: 0x86dd },
        { field: 'ipv6_dst', value: 'fe80::1', mask: 'ffff:ffff::' },
        { field: 'vlan_vid', value: 0x1000 | 10 },
      ],
      instructions: [{ type: OFPIT.CLEAR_ACTIONS, actions: [] }, { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.POP_VLAN }, { type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, { type: OFPAT.SET_MPLS_TTL, mplsTtl: 9 }, output(p2)] }],
    }),
    xid: c.xid(),
  });
  // The table-miss of its first table goes to the controller: packet-ins for this vNF.
  c.send({ ...flowMod({ tableId: 0, priority: 0, actions: [output(OFPP.CONTROLLER, 0xffff)] }), xid: c.xid() });
  c.send({ ...flowMod({ tableId: 0, priority: 50, command: OFPFC.MODIFY_STRICT, match: [{ field: 'in_port', value: p2 }], actions: [output(p1)] }), xid: c.xid() });
  c.send({ type: OFPT.TABLE_MOD, xid: c.xid(), tableId: 0, config: 0 });
  c.send({ type: OFPT.PORT_MOD, xid: c.xid(), portNo: p2, hwAddr: portMac(v, p2), config: OFPPC.NO_PACKET_IN, mask: OFPPC.NO_PACKET_IN, advertise: 0 });
  c.send({ type: OFPT.PACKET_OUT, xid: c.xid(), bufferId: 0xffffffff, inPort: OFPP.CONTROLLER, actions: [output(p1)], data: udpFrame('10.0.0.7') });
  await c.barrier();

  // Every multipart request a controller sends, and a queue config request.
  for (const body of everyMultipartRequest(OFPP.ANY)) {
    const xid = c.xid();
    c.send({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body });
    await c.waitFor((m) => m.xid === xid && (m.type === OFPT.ERROR || (m.type === OFPT.MULTIPART_REPLY && (m.flags & 1) === 0)));
  }
  await ask({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 0, port: p1 });

  // Denied: each answered with the spec's error, data = the request's first bytes.
  await ask(flowMod({ tableId: 0, priority: 7, actions: [output(other.own.ports[0]!)] }));
  await ask(flowMod({ tableId: 200, priority: 7, actions: [output(p1)] }));
  await ask({ type: OFPT.PACKET_OUT, xid: 0, bufferId: 0xffffffff, inPort: OFPP.CONTROLLER, actions: [output(other.own.ports[0]!)], data: udpFrame() });
  await ask({ type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.ADD, groupType: OFPGT.INDIRECT, groupId: OFPG.MAX + 1, buckets: [] });
  await ask({ type: OFPT.FEATURES_REPLY, xid: 0, datapathId: 1n, nBuffers: 0, nTables: 1, auxiliaryId: 0, capabilities: 0, reserved: 0 });
  await ask({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.TABLE_FEATURES, entries: [{ tableId: 0, name: 't0', metadataMatch: 0n, metadataWrite: 0n, config: 0, maxEntries: 10, properties: [] }] } });
  const badVersion = encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 0x7000 + phase });
  badVersion[0] = 0x05;
  await sendHostile(c, badVersion, 0x7000 + phase);
  const shortFlowMod = encodeMessage({ ...flowMod({ tableId: 0 }), xid: 0x7100 + phase }).subarray(0, 24);
  shortFlowMod.writeUInt16BE(24, 2);
  await sendHostile(c, Buffer.from(shortFlowMod), 0x7100 + phase);
  // A slave may not modify state: OFPBRC_IS_SLAVE.
  await ask({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.SLAVE, generationId: 20n });
  await ask(flowMod({ tableId: 0, priority: 9, actions: [output(p1)] }));
  await ask({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.EQUAL, generationId: 0n });
  await c.barrier();
}

function portMac(v: Vnf, portNo: number): string {
  return driver.nic.getInstance(v.dpid).portDescs().find((p) => p.portNo === portNo)!.hwAddr;
}

/** Messages the session does not produce in some direction, written by the codec's encoder (realistic values). */
function encoderSupplement(): Array<{ writer: Writer; msg: OfpMessage }> {
  const fr = (reason: number) => ({ type: OFPT.FLOW_REMOVED, xid: 0, cookie: 7n, priority: 10, reason, tableId: 1, durationSec: 3, durationNsec: 500, idleTimeout: 10, hardTimeout: 0, packetCount: 4n, byteCount: 256n, match: [{ field: 'in_port', value: 1 }] }) as OfpMessage;
  return [
    // Echo and experimenter messages from the switch side, and a switch's hello failure.
    { writer: 'encoder:switch', msg: { type: OFPT.ECHO_REQUEST, xid: 1, data: Buffer.alloc(0) } },
    { writer: 'encoder:controller', msg: { type: OFPT.ECHO_REPLY, xid: 1, data: Buffer.alloc(0) } },
    { writer: 'encoder:switch', msg: { type: OFPT.EXPERIMENTER, xid: 2, experimenter: 0x00002320, expType: 3, data: Buffer.from('0102030405060708', 'hex') } },
    { writer: 'encoder:switch', msg: { type: OFPT.ERROR, xid: 3, errorType: OFPET.HELLO_FAILED, code: OFPHFC.EPERM, data: Buffer.from('not permitted', 'ascii') } },
    { writer: 'encoder:switch', msg: { type: OFPT.ERROR, xid: 4, errorType: OFPET.EXPERIMENTER, expType: 1, experimenter: 0x00002320, data: Buffer.alloc(0) } },
    // Flow-removed of every reason, packet-in of every reason, port-status of every reason.
    ...[OFPRR.IDLE_TIMEOUT, OFPRR.HARD_TIMEOUT, OFPRR.GROUP_DELETE, OFPRR.METER_DELETE].map((r) => ({ writer: 'encoder:switch' as const, msg: fr(r) })),
    ...[OFPR.NO_MATCH, OFPR.INVALID_TTL].map((reason) => ({
      writer: 'encoder:switch' as const,
      msg: { type: OFPT.PACKET_IN, xid: 0, bufferId: 0xffffffff, totalLen: 64, reason, tableId: 1, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: udpFrame() } as OfpMessage,
    })),
    ...[OFPPR.ADD, OFPPR.DELETE].map((reason) => ({
      writer: 'encoder:switch' as const,
      msg: {
        type: OFPT.PORT_STATUS,
        xid: 0,
        reason,
        desc: { portNo: 9, hwAddr: '02:00:00:00:00:09', name: 'p9', config: 0, state: 4, curr: 0x2820, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 10_000_000 },
      } as OfpMessage,
    })),
    // A multipart request of more than one part, and a meter deletion.
    { writer: 'encoder:controller', msg: { type: OFPT.MULTIPART_REQUEST, xid: 5, flags: 1, body: { mpType: OFPMP.PORT_DESC } } },
    { writer: 'encoder:controller', msg: { type: OFPT.METER_MOD, xid: 6, command: OFPMC.DELETE, flags: 0, meterId: 1, bands: [] } },
  ];
}

const typeCounts = (rs: readonly Recorded[]) => new Set(rs.map((r) => r.raw[1]));

/**
 * The two kinds of error tshark cannot read whole, though they are right:
 *
 * - 'cut': §7.5.4 has the data of an error be (at least) the first 64 bytes
 *   of the failed request, and nicvisor sends exactly those. tshark dissects
 *   the data as a whole message and reports the cut as malformed. The data
 *   must be exactly the first 64 bytes of a request the vNF sent; a twin
 *   carrying the whole request is judged instead.
 * - 'hostile': the answer to the test's deliberately broken input carries
 *   that input, which tshark rightly finds broken. The data must be exactly
 *   those bytes; the error's own type and code must still read right (as
 *   for every error).
 */
function excuseOf(r: Recorded): { why: 'cut'; twin: Buffer } | { why: 'hostile' } | undefined {
  const raw = r.raw;
  if (raw[1] !== OFPT.ERROR || raw.length < 12) return undefined;
  const errorType = raw.readUInt16BE(8);
  if (errorType === OFPET.HELLO_FAILED || errorType === OFPET.EXPERIMENTER) return undefined;
  const data = raw.subarray(12);
  if (hostileBytes.some((h) => h.equals(data))) return { why: 'hostile' };
  if (data.length !== 64 || data.readUInt16BE(2) <= 64) return undefined;
  const request = recorded.find((q) => q.writer === 'vnf' && q.raw.length > 64 && q.raw.subarray(0, 64).equals(data));
  if (request === undefined) return undefined;
  return { why: 'cut', twin: encodeMessage({ type: OFPT.ERROR, xid: raw.readUInt32BE(4), errorType, code: raw.readUInt16BE(10), data: request.raw }) };
}

function odText(msgs: readonly Buffer[]): string {
  const lines: string[] = [];
  for (const b of msgs) {
    for (let o = 0; o < b.length; o += 16) {
      lines.push(`${o.toString(16).padStart(6, '0')} ${[...b.subarray(o, o + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface Judged {
  frame: number;
  types: string;
  malformed: string;
  severities: string;
  messages: string;
  errorType: string;
  errorCode: string;
}

/** Every message as one frame, through tshark: one row of fields per frame. */
function judge(msgs: readonly Buffer[]): Judged[] {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-tshark-'));
  try {
    writeFileSync(join(dir, 'm.txt'), odText(msgs));
    execFileSync('text2pcap', ['-q', '-l', '147', join(dir, 'm.txt'), join(dir, 'm.pcap')], { stdio: 'ignore' });
    const out = execFileSync(
      'tshark',
      ['-o', USER_DLT, '-r', join(dir, 'm.pcap'), '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'openflow_v4.type', '-e', '_ws.malformed', '-e', '_ws.expert.severity', '-e', '_ws.expert.message', '-e', 'openflow_v4.error.type', '-e', 'openflow_v4.error.code'],
      { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [frame, types, malformed, severities, messages, errorType, errorCode] = l.split('\t');
        return { frame: Number(frame), types: types ?? '', malformed: malformed ?? '', severities: severities ?? '', messages: messages ?? '', errorType: errorType ?? '', errorCode: errorCode ?? '' };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!TSHARK) {
  peerMissing('tshark and text2pcap', 'apt-get install -y tshark');
} else {
  describe('tshark judges every message of a full session', () => {
    let judged: Judged[];
    let ours: Recorded[];
    let excused: Map<number, NonNullable<ReturnType<typeof excuseOf>>>;
    let framesRaw: Buffer[];

    beforeAll(async () => {
      core = new OpenflowCore({ listener: { port: 0 } });
      await core.start();
      nicProxy = new RecordingProxy(core.listener.port, 'nic', 'nicvisor→nic');
      await nicProxy.listen();
      driver = new EmbeddedNicDriver({ controllerTarget: () => `tcp:127.0.0.1:${nicProxy.port}`, tickIntervalMs: 0 });
      const fw1 = await allocate('fw1', 'acme', 0x101n, [1, 2]);
      const lb1 = await allocate('lb1', 'globex', 0x201n, [5, 6]);
      await vnfSession(fw1, lb1, 0);
      await vnfSession(lb1, fw1, 1);

      // Async messages from the NIC: a packet-in (table miss → controller), a port status, a flow-removed.
      driver.nic.inject(1, udpFrame('10.1.1.1'));
      await fw1.client.waitFor((m) => m.type === OFPT.PACKET_IN);
      driver.nic.setLinkDown(2, true);
      await fw1.client.waitFor((m) => m.type === OFPT.PORT_STATUS);
      fw1.client.send({ ...flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE, cookie: 0x11n, cookieMask: 0xffn }), xid: fw1.client.xid() });
      await fw1.client.waitFor((m) => m.type === OFPT.FLOW_REMOVED);
      await fw1.client.barrier();

      // Straight to the NIC over nicvisor's session: the switch-side replies the channel answers itself.
      const s = core.readySession(fw1.dpid)!;
      // The session answers echo replies itself (liveness): the barrier below waits for this one.
      s.send({ type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.from('nic') });
      await s.request({ type: OFPT.GET_CONFIG_REQUEST, xid: 0 });
      s.send({ type: OFPT.SET_CONFIG, xid: 0, flags: 0, missSendLen: 0xffff });
      await s.request({ type: OFPT.GET_ASYNC_REQUEST, xid: 0 });
      s.send({ type: OFPT.SET_ASYNC, xid: 0, packetInMask: [0b111, 0], portStatusMask: [0b111, 0b111], flowRemovedMask: [0b11111, 0] });
      await s.request({ type: OFPT.EXPERIMENTER, xid: 0, experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) }).catch(() => undefined);
      await s.request({ type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.NOCHANGE, generationId: 0n });
      await s.barrier();

      // A vNF offering only OpenFlow 1.0: OFPET_HELLO_FAILED, connection closed.
      const old = await new Promise<Socket>((resolve) => {
        const sock = netConnect({ host: '127.0.0.1', port: fw1.proxy.port }, () => resolve(sock));
      });
      const oldHello = encodeMessage({ type: OFPT.HELLO, xid: 77, version: 1, elements: [] });
      hostileBytes.push(oldHello);
      old.write(oldHello);
      await new Promise<void>((resolve) => old.on('close', () => resolve()).on('error', () => undefined).resume());

      for (const c of clients) c.close();
      await Promise.all(proxies.map((p) => p.close()));
      await core.stop();
      await driver.close();
      await nicProxy.close();

      const supplement = encoderSupplement().map(({ writer, msg }) => ({ writer, raw: encodeMessage(msg), hostile: false }));
      ours = [...recorded.filter((r) => !r.hostile), ...supplement];
      excused = new Map(ours.flatMap((r, i) => {
        const e = excuseOf(r);
        return e === undefined ? [] : [[i, e] as const];
      }));
      const twins = [...excused.values()].flatMap((e) => (e.why === 'cut' ? [e.twin] : []));
      framesRaw = [...ours.map((r) => r.raw), ...twins];
      judged = judge(framesRaw);
    }, 110_000);

    it('the session covers every OpenFlow 1.3 message type, and every multipart type as request and reply', () => {
      const all = Object.values(OFPT);
      expect([...typeCounts(ours)].sort((a, b) => a - b)).toEqual(all);
      const real = ours.filter((r) => !r.writer.startsWith('encoder'));
      // Written by nicvisor or the emulated NIC themselves, not the encoder supplement:
      const fromSwitchSide = typeCounts(real.filter((r) => r.writer === 'nic' || r.writer === 'nicvisor→vnf'));
      for (const t of [OFPT.HELLO, OFPT.ERROR, OFPT.ECHO_REPLY, OFPT.FEATURES_REPLY, OFPT.GET_CONFIG_REPLY, OFPT.PACKET_IN, OFPT.FLOW_REMOVED, OFPT.PORT_STATUS, OFPT.MULTIPART_REPLY, OFPT.BARRIER_REPLY, OFPT.QUEUE_GET_CONFIG_REPLY, OFPT.ROLE_REPLY, OFPT.GET_ASYNC_REPLY]) {
        expect([t, fromSwitchSide.has(t)]).toEqual([t, true]);
      }
      const fromControllerSide = typeCounts(real.filter((r) => r.writer === 'nicvisor→nic' || r.writer === 'vnf'));
      for (const t of [OFPT.HELLO, OFPT.ERROR, OFPT.ECHO_REQUEST, OFPT.EXPERIMENTER, OFPT.FEATURES_REQUEST, OFPT.GET_CONFIG_REQUEST, OFPT.SET_CONFIG, OFPT.PACKET_OUT, OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.MULTIPART_REQUEST, OFPT.BARRIER_REQUEST, OFPT.QUEUE_GET_CONFIG_REQUEST, OFPT.ROLE_REQUEST, OFPT.GET_ASYNC_REQUEST, OFPT.SET_ASYNC, OFPT.METER_MOD]) {
        expect([t, fromControllerSide.has(t)]).toEqual([t, true]);
      }
      const mp = (type: number) => new Set(real.filter((r) => r.raw[1] === type).map((r) => r.raw.readUInt16BE(8)));
      const mpTypes = Object.values(OFPMP).sort((a, b) => a - b);
      expect([...mp(OFPT.MULTIPART_REQUEST)].sort((a, b) => a - b)).toEqual(mpTypes);
      // The experimenter multipart request is refused (BAD_EXPERIMENTER), so it has no reply.
      expect([...mp(OFPT.MULTIPART_REPLY)].sort((a, b) => a - b)).toEqual(mpTypes.filter((t) => t !== OFPMP.EXPERIMENTER));
      // nicvisor's errors for denied tenant requests, of several types.
      const errorTypes = new Set(real.filter((r) => r.writer === 'nicvisor→vnf' && r.raw[1] === OFPT.ERROR).map((r) => r.raw.readUInt16BE(8)));
      expect([...errorTypes].sort((a, b) => a - b)).toEqual(
        expect.arrayContaining([OFPET.HELLO_FAILED, OFPET.BAD_REQUEST, OFPET.BAD_ACTION, OFPET.GROUP_MOD_FAILED, OFPET.ROLE_REQUEST_FAILED, OFPET.TABLE_FEATURES_FAILED]),
      );
      expect(real.some((r) => r.writer === 'nicvisor→vnf' && r.raw[1] === OFPT.ERROR && r.raw.readUInt16BE(8) === OFPET.BAD_REQUEST && r.raw.readUInt16BE(10) === OFPBRC.BAD_VERSION)).toBe(true);
      expect(real.filter((r) => r.raw[1] === OFPT.MULTIPART_REPLY).length).toBeGreaterThan(0);
    });

    it('tshark reads one frame per message, each as the OpenFlow 1.3 type we wrote, errors with our type and code', () => {
      expect(judged).toHaveLength(framesRaw.length);
      const mismatches = judged.filter((j, i) => {
        const raw = framesRaw[i]!;
        if (j.frame !== i + 1 || Number(j.types.split('|')[0]) !== raw[1]) return true;
        return raw[1] === OFPT.ERROR && raw.readUInt16BE(8) !== OFPET.EXPERIMENTER && (Number(j.errorType) !== raw.readUInt16BE(8) || Number(j.errorCode) !== raw.readUInt16BE(10));
      });
      expect(mismatches.map((j) => ({ ...j, hex: framesRaw[j.frame - 1]!.toString('hex') }))).toEqual([]);
    });

    it('no malformed message, no expert warning or error (but the two kinds tshark misreads, see excuseOf)', () => {
      const flagged = (j: Judged) => j.malformed !== '' || j.severities.split('|').some((s) => s !== '' && Number(s) >= PI_WARN);
      const bad = judged.filter((j) => flagged(j) && !excused.has(j.frame - 1));
      expect(bad.map((j) => ({ ...j, writer: ours[j.frame - 1]?.writer ?? 'twin', hex: framesRaw[j.frame - 1]!.toString('hex') }))).toEqual([]);
      // Counted, so the exclusion cannot grow unnoticed: one 'hostile' per broken input answered with its bytes (not the 1.0 HELLO, answered with text).
      const kinds = [...excused.values()].map((e) => e.why);
      expect(kinds.filter((k) => k === 'hostile')).toHaveLength(hostileBytes.length - 1);
      expect(kinds.filter((k) => k === 'cut').length).toBeGreaterThan(0);
    });
  });
}
