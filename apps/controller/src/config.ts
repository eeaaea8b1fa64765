/**
 * The controller's configuration: environment variables with defaults,
 * validated once at start-up. A bad value is a `ConfigError` listing every
 * problem with the variable's name; `main.ts` prints it and exits.
 */
import { isAbsolute, resolve } from 'node:path';

export const ENV = {
  HTTP_HOST: 'NICVISOR_HTTP_HOST',
  HTTP_PORT: 'NICVISOR_HTTP_PORT',
  RPC_HOST: 'NICVISOR_RPC_HOST',
  RPC_PORT: 'NICVISOR_RPC_PORT',
  OF_HOST: 'NICVISOR_OF_HOST',
  OF_PORT: 'NICVISOR_OF_PORT',
  CHANNEL_HOST: 'NICVISOR_CHANNEL_HOST',
  CHANNEL_PORTS: 'NICVISOR_CHANNEL_PORTS',
  DATA_DIR: 'NICVISOR_DATA_DIR',
  NIC: 'NICVISOR_NIC',
  NIC_PORTS: 'NICVISOR_NIC_PORTS',
} as const;

export const DEFAULTS = {
  host: '127.0.0.1',
  httpPort: 8080,
  rpcPort: 8081,
  ofPort: 6653,
  channelPorts: '16653-17652',
  dataDir: './data',
  nic: 'embedded',
  /** Ports of the embedded emulated NIC. */
  nicPorts: 16,
} as const;

/** Where the NIC is: the emulator embedded in this process, or a standalone one's management endpoint. */
export type NicTarget = { kind: 'embedded'; ports: number } | { kind: 'tcp'; host: string; port: number };

/** Delegated listen endpoints: ports `first..last`, or `{first: 0, last: 0}` for ephemeral ones. */
export interface PortRange {
  first: number;
  last: number;
}

export interface ControllerConfig {
  http: { host: string; port: number };
  rpc: { host: string; port: number };
  /** The NIC-side OpenFlow listener. */
  openflow: { host: string; port: number };
  channels: { host: string; ports: PortRange };
  /** Absolute path of the data directory. */
  dataDir: string;
  nic: NicTarget;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

const HOST_RE = /^[A-Za-z0-9.\-:[\]]+$/;

/** Parses `tcp:HOST:PORT`; undefined when malformed. */
export function parseTcpTarget(text: string): { host: string; port: number } | undefined {
  const m = /^tcp:(.+):(\d{1,5})$/.exec(text);
  if (!m || !HOST_RE.test(m[1]!)) return undefined;
  const port = parsePort(m[2]!);
  if (port === undefined || port === 0) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): ControllerConfig {
  const problems: string[] = [];

  const host = (name: string): string => {
    const v = raw(env, name) ?? DEFAULTS.host;
    if (!HOST_RE.test(v)) problems.push(`${name}=${v}: expected a host name or address`);
    return v;
  };
  const port = (name: string, fallback: number): number => {
    const v = raw(env, name);
    if (v === undefined) return fallback;
    const p = parsePort(v);
    if (p === undefined) {
      problems.push(`${name}=${v}: expected a TCP port 0..65535 (0 = ephemeral)`);
      return fallback;
    }
    return p;
  };

  const http = { host: host(ENV.HTTP_HOST), port: port(ENV.HTTP_PORT, DEFAULTS.httpPort) };
  const rpc = { host: host(ENV.RPC_HOST), port: port(ENV.RPC_PORT, DEFAULTS.rpcPort) };
  const openflow = { host: host(ENV.OF_HOST), port: port(ENV.OF_PORT, DEFAULTS.ofPort) };

  const rangeText = raw(env, ENV.CHANNEL_PORTS) ?? DEFAULTS.channelPorts;
  let ports: PortRange = { first: 16653, last: 17652 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(rangeText);
  const first = m ? parsePort(m[1]!) : undefined;
  const last = m ? parsePort(m[2] ?? m[1]!) : undefined;
  if (first === undefined || last === undefined || last < first || (first === 0 && last !== 0)) {
    problems.push(`${ENV.CHANNEL_PORTS}=${rangeText}: expected FIRST-LAST, 1 <= FIRST <= LAST <= 65535 (or 0 for ephemeral ports)`);
  } else {
    ports = { first, last };
  }
  const channels = { host: host(ENV.CHANNEL_HOST), ports };

  const dir = raw(env, ENV.DATA_DIR) ?? DEFAULTS.dataDir;
  const dataDir = isAbsolute(dir) ? dir : resolve(cwd, dir);

  let nicPorts: number = DEFAULTS.nicPorts;
  const nicPortsText = raw(env, ENV.NIC_PORTS);
  if (nicPortsText !== undefined) {
    const n = Number(nicPortsText);
    if (!/^\d+$/.test(nicPortsText) || n < 1 || n > 4096) problems.push(`${ENV.NIC_PORTS}=${nicPortsText}: expected an integer 1..4096`);
    else nicPorts = n;
  }
  const nicText = raw(env, ENV.NIC) ?? DEFAULTS.nic;
  let nic: NicTarget = { kind: 'embedded', ports: nicPorts };
  if (nicText !== 'embedded') {
    const t = parseTcpTarget(nicText);
    if (t === undefined) problems.push(`${ENV.NIC}=${nicText}: expected "embedded" or "tcp:HOST:PORT"`);
    else nic = { kind: 'tcp', ...t };
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { http, rpc, openflow, channels, dataDir, nic };
}

/** Injection token of the ControllerConfig. */
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');
