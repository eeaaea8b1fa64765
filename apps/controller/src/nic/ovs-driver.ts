/**
 * Open vSwitch as the NIC (`NICVISOR_NIC=ovs:unix:/run/openvswitch/db.sock`):
 * one bridge per instance — userspace datapath (`datapath_type=netdev`, no
 * kernel module), OpenFlow 1.3 only, `fail-mode=secure` (no learning switch
 * of its own when the controller is away), `other-config:datapath-id` = the
 * instance's datapath id, nicvisor's NIC listener as its only controller.
 * NIC port N is an internal port `nvpN` with `ofport_request=N`, so it has
 * the same number in the instance.
 *
 * OVSDB is driven through `ovs-vsctl --db=…`, one process per call, rather
 * than the OVSDB JSON-RPC protocol (RFC 7047): allocation is rare and waits
 * for the instance to dial in anyway, and ovs-vsctl provides what a raw
 * client would have to rebuild — multi-command transactions that keep the
 * references between Open_vSwitch, Bridge, Port and Interface rows right,
 * and waiting until ovs-vswitchd has applied them (next_cfg/cur_cfg), so
 * the bridge and its ports exist when a call returns.
 */
import { execFile } from 'node:child_process';
import { CreateInstanceRequest, DriverInstance, NicDriver, NicDriverError } from './nic-driver.js';

export interface OvsDriverOptions {
  /** The OVSDB remote, `unix:PATH` or `tcp:HOST:PORT`. */
  db: string;
  /** The controller target the bridges dial, e.g. `unix:PATH` of nicvisor's NIC listener (read when a bridge is created). */
  controllerTarget: () => string;
  /** Per ovs-vsctl call, including the wait for ovs-vswitchd (ms). Default 10000. */
  timeoutMs?: number;
  /** Runs ovs-vsctl with these arguments, resolving with its stdout, rejecting with its stderr as the message. Default: `ovs-vsctl` on PATH. */
  run?: (args: string[], timeoutMs: number) => Promise<string>;
}

/** ovs-vsctl as a child process. */
export function runVsctl(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ovs-vsctl', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(stderr.trim() || err.message));
    });
  });
}

/** Open vSwitch has 254 flow tables per bridge, whatever the instance asked for; ownership narrows what a tenant sees. */
export const OVS_TABLES = 254;
/** ofport_request accepts 1..65279 (OFPP_MAX of OpenFlow 1.0, which OVS keeps for port numbers). */
export const OVS_MAX_PORT = 0xfeff;
/** Marks the bridges this driver manages (the value is the vNF). */
const VNF_KEY = 'nicvisor-vnf';
const PORT_PREFIX = 'nvp';
/** Bridge names become network device names (IFNAMSIZ: 15 characters). */
const MAX_IFNAME = 15;
/** Open vSwitch's reconnection backoff caps at 8 s by default; an instance should be back soon after a controller restart. */
const MAX_BACKOFF_MS = 1000;

export function bridgeName(datapathId: bigint): string {
  const name = `nvbr${datapathId.toString(16)}`;
  if (datapathId <= 0n || name.length > MAX_IFNAME) throw new NicDriverError('BAD_ARGUMENT', `datapath id 0x${datapathId.toString(16)} does not fit an Open vSwitch bridge name (1..0x${'f'.repeat(MAX_IFNAME - 4)})`);
  return name;
}

export function portName(nicPort: number): string {
  if (!Number.isInteger(nicPort) || nicPort < 1 || nicPort > OVS_MAX_PORT) throw new NicDriverError('BAD_ARGUMENT', `bad NIC port number ${nicPort} (Open vSwitch: 1..${OVS_MAX_PORT})`);
  return `${PORT_PREFIX}${nicPort}`;
}

/** A value in ovs-vsctl's syntax: a quoted string (its escapes are JSON's). */
const q = (s: string): string => JSON.stringify(s);

/** ovs-vsctl commands (after `--`) that give a bridge the internal port of a NIC port. */
function addPortArgs(bridge: string, nicPort: number): string[] {
  const name = portName(nicPort);
  return ['--', 'add-port', bridge, name, '--', 'set', 'Interface', name, 'type=internal', `ofport_request=${nicPort}`];
}

// OVSDB's JSON notation of values (RFC 7047 §5.1), as `ovs-vsctl --format=json` prints them.
type Atom = string | number | boolean | ['uuid', string];
type Datum = Atom | ['set', Atom[]] | ['map', Array<[Atom, Atom]>];

function setOf(d: Datum): Atom[] {
  return Array.isArray(d) && d[0] === 'set' ? (d[1] as Atom[]) : [d as Atom];
}

function mapOf(d: Datum): Map<string, string> {
  return new Map(Array.isArray(d) && d[0] === 'map' ? (d[1] as Array<[Atom, Atom]>).map(([k, v]) => [String(k), String(v)]) : []);
}

function uuidOf(a: Atom): string {
  return Array.isArray(a) ? a[1] : String(a);
}

/** The rows of one `--format=json list TABLE` output, by heading. */
function rows(text: string): Array<Record<string, Datum>> {
  const t = JSON.parse(text) as { headings: string[]; data: Datum[][] };
  return t.data.map((r) => Object.fromEntries(t.headings.map((h, i) => [h, r[i]!])));
}

interface Bridge extends DriverInstance {
  name: string;
}

export class OvsNicDriver implements NicDriver {
  readonly name: string;
  /** Check-then-change steps (does the port exist? then add it) run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: OvsDriverOptions) {
    this.name = `ovs:${opts.db}`;
  }

  /** Runs ovs-vsctl; its refusal becomes a NicDriverError carrying its message. */
  private async vsctl(args: string[]): Promise<string> {
    const ms = this.opts.timeoutMs ?? 10_000;
    // ovs-vsctl gives up by itself after --timeout (whole seconds); the process limit is a backstop.
    const full = [`--db=${this.opts.db}`, `--timeout=${Math.max(1, Math.ceil(ms / 1000))}`, ...args];
    try {
      return await (this.opts.run ?? runVsctl)(full, ms + 2000);
    } catch (e) {
      throw new NicDriverError('OVSDB', `ovs-vsctl ${args.filter((a) => a !== '--').slice(0, 3).join(' ')}: ${(e as Error).message}`);
    }
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The bridges this driver made, with their NIC ports. */
  private async bridges(): Promise<Bridge[]> {
    const out = await this.vsctl([
      '--format=json',
      '--',
      '--columns=name,other_config,external_ids,ports',
      'list',
      'Bridge',
      '--',
      '--columns=_uuid,interfaces',
      'list',
      'Port',
      '--',
      '--columns=_uuid,name,ofport',
      'list',
      'Interface',
    ]);
    const [bridgeText, portText, ifaceText] = out.trim().split('\n');
    const ifaces = new Map(rows(ifaceText!).map((r) => [uuidOf(r._uuid as Atom), { name: String(r.name), ofport: r.ofport }]));
    const portIfaces = new Map(rows(portText!).map((r) => [uuidOf(r._uuid as Atom), setOf(r.interfaces!).map(uuidOf)]));
    const result: Bridge[] = [];
    for (const b of rows(bridgeText!)) {
      if (!mapOf(b.external_ids!).has(VNF_KEY)) continue;
      const dpid = mapOf(b.other_config!).get('datapath-id');
      if (dpid === undefined || !/^[0-9a-fA-F]{16}$/.test(dpid)) continue;
      const ports: DriverInstance['ports'] = [];
      for (const p of setOf(b.ports!)) {
        for (const i of portIfaces.get(uuidOf(p)) ?? []) {
          const iface = ifaces.get(i);
          const m = iface === undefined ? null : new RegExp(`^${PORT_PREFIX}(\\d+)$`).exec(iface.name);
          // ofport is an empty set until ovs-vswitchd has opened the interface, -1 if it failed.
          if (m !== null && typeof iface!.ofport === 'number' && iface!.ofport > 0) ports.push({ nicPort: Number(m[1]), portNo: iface!.ofport });
        }
      }
      ports.sort((x, y) => x.nicPort - y.nicPort);
      result.push({ name: String(b.name), datapathId: BigInt(`0x${dpid}`), nTables: OVS_TABLES, ports });
    }
    return result;
  }

  /** Fails with PORT_IN_USE when a NIC port already belongs to a bridge. */
  private static checkFree(bridges: Bridge[], nicPorts: readonly number[]): void {
    for (const b of bridges) {
      const taken = b.ports.find((p) => nicPorts.includes(p.nicPort));
      if (taken !== undefined) throw new NicDriverError('PORT_IN_USE', `NIC port ${taken.nicPort} belongs to bridge ${b.name} (instance 0x${b.datapathId.toString(16)})`);
    }
  }

  /** Checks that ovs-vswitchd opened each port under its requested number. */
  private async checkPorts(nicPorts: readonly number[]): Promise<void> {
    if (nicPorts.length === 0) return;
    const names = nicPorts.map(portName);
    const out = await this.vsctl(['--format=json', '--columns=name,ofport,error', 'list', 'Interface', ...names]);
    for (const r of rows(out)) {
      const want = Number(String(r.name).slice(PORT_PREFIX.length));
      if (r.ofport !== want) {
        const error = setOf(r.error!).join('');
        throw new NicDriverError('PORT_FAILED', `Open vSwitch gave port ${String(r.name)} number ${JSON.stringify(r.ofport)}, not ${want}${error === '' ? '' : `: ${error}`}`);
      }
    }
  }

  createInstance(req: CreateInstanceRequest): Promise<void> {
    return this.serialized(async () => {
      const br = bridgeName(req.datapathId);
      if (new Set(req.ports).size !== req.ports.length) throw new NicDriverError('BAD_ARGUMENT', `a NIC port is given twice in ${req.ports.join(',')}`);
      const existing = await this.bridges();
      if (existing.some((b) => b.datapathId === req.datapathId || b.name === br)) throw new NicDriverError('EXISTS', `instance 0x${req.datapathId.toString(16)} exists (bridge ${br})`);
      OvsNicDriver.checkFree(existing, req.ports);
      await this.vsctl([
        '--',
        'add-br',
        br,
        '--',
        'set',
        'Bridge',
        br,
        'datapath_type=netdev',
        'protocols=OpenFlow13',
        'fail_mode=secure',
        `other_config:datapath-id=${q(req.datapathId.toString(16).padStart(16, '0'))}`,
        `external_ids:${VNF_KEY}=${q(req.vnf)}`,
        '--',
        '--id=@ctl',
        'create',
        'Controller',
        `target=${q(this.opts.controllerTarget())}`,
        `max_backoff=${MAX_BACKOFF_MS}`,
        '--',
        'set',
        'Bridge',
        br,
        'controller=@ctl',
        ...req.ports.flatMap((p) => addPortArgs(br, p)),
      ]);
      try {
        await this.checkPorts(req.ports);
      } catch (e) {
        await this.vsctl(['--if-exists', 'del-br', br]).catch(() => undefined);
        throw e;
      }
    });
  }

  destroyInstance(datapathId: bigint): Promise<void> {
    return this.serialized(async () => {
      const b = (await this.bridges()).find((x) => x.datapathId === datapathId);
      if (b === undefined) throw new NicDriverError('NO_SUCH_INSTANCE', `no instance 0x${datapathId.toString(16)}`);
      // Its Controller row goes with it (OVSDB collects rows nothing refers to).
      await this.vsctl(['del-br', b.name]);
    });
  }

  async listInstances(): Promise<DriverInstance[]> {
    return (await this.bridges()).map(({ datapathId, nTables, ports }) => ({ datapathId, nTables, ports }));
  }

  attachPort(datapathId: bigint, nicPort: number): Promise<void> {
    return this.serialized(async () => {
      const all = await this.bridges();
      const b = all.find((x) => x.datapathId === datapathId);
      if (b === undefined) throw new NicDriverError('NO_SUCH_INSTANCE', `no instance 0x${datapathId.toString(16)}`);
      OvsNicDriver.checkFree(all, [nicPort]);
      await this.vsctl(addPortArgs(b.name, nicPort));
      await this.checkPorts([nicPort]);
    });
  }

  detachPort(nicPort: number): Promise<void> {
    return this.serialized(async () => {
      const b = (await this.bridges()).find((x) => x.ports.some((p) => p.nicPort === nicPort));
      if (b === undefined) throw new NicDriverError('PORT_NOT_ATTACHED', `NIC port ${nicPort} is not attached`);
      await this.vsctl(['del-port', b.name, portName(nicPort)]);
    });
  }

  /** Nothing of its own to release: the bridges are the NIC's and outlive the controller. */
  async close(): Promise<void> {
    await this.queue;
  }
}
