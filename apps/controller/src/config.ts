/**
 * The controller's configuration: environment variables with defaults,
 * validated once at start-up. A bad value is a `ConfigError` listing every
 * problem with the variable's name; `main.ts` prints it and exits.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export const ENV = {
  HTTP_HOST: 'NICVISOR_HTTP_HOST',
  HTTP_PORT: 'NICVISOR_HTTP_PORT',
  RPC_HOST: 'NICVISOR_RPC_HOST',
  RPC_PORT: 'NICVISOR_RPC_PORT',
  OF_HOST: 'NICVISOR_OF_HOST',
  OF_PORT: 'NICVISOR_OF_PORT',
  OF_UNIX: 'NICVISOR_OF_UNIX',
  CHANNEL_HOST: 'NICVISOR_CHANNEL_HOST',
  CHANNEL_PORTS: 'NICVISOR_CHANNEL_PORTS',
  REQUIRE_TLS: 'NICVISOR_REQUIRE_TLS',
  RELAY_PORT: 'NICVISOR_RELAY_PORT',
  DATA_DIR: 'NICVISOR_DATA_DIR',
  NIC: 'NICVISOR_NIC',
  NIC_PORTS: 'NICVISOR_NIC_PORTS',
  API_TOKENS: 'NICVISOR_API_TOKENS',
  API_TOKEN_FILE: 'NICVISOR_API_TOKEN_FILE',
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

/**
 * Where the NIC is: the emulator embedded in this process, a standalone
 * one's management endpoint, or an Open vSwitch's OVSDB (`unix:PATH` or
 * `tcp:HOST:PORT`, as `ovs-vsctl --db` takes it).
 */
export type NicTarget = { kind: 'embedded'; ports: number } | { kind: 'tcp'; host: string; port: number } | { kind: 'ovs'; db: string };

/** The unix socket of the NIC listener when NICVISOR_NIC=ovs:unix:PATH and NICVISOR_OF_UNIX is unset: beside the OVSDB socket. */
export const OVS_DEFAULT_OF_SOCKET = 'nicvisor-of.sock';
/** sun_path holds 108 bytes, the terminating NUL included. */
const MAX_UNIX_PATH = 107;

/** Delegated listen endpoints: ports `first..last`, or `{first: 0, last: 0}` for ephemeral ones. */
export interface PortRange {
  first: number;
  last: number;
}

export interface ControllerConfig {
  http: { host: string; port: number };
  rpc: { host: string; port: number };
  /** The NIC-side OpenFlow listener, and its unix socket (an absolute path) if any. */
  openflow: { host: string; port: number; unixPath?: string };
  /** requireTls (NICVISOR_REQUIRE_TLS=1): delegated channels must use mutual TLS. */
  channels: { host: string; ports: PortRange; requireTls?: boolean; /** NICVISOR_RELAY_PORT (0: ephemeral): the configuration relays' TLS endpoint, on the channel host */ relayPort?: number };
  /** Absolute path of the data directory. */
  dataDir: string;
  nic: NicTarget;
  auth: AuthConfig;
}

/** `admin`: every route and pattern; `read`: GET routes and the read-only patterns only. */
export type ApiScope = 'admin' | 'read';
export const API_SCOPES: readonly ApiScope[] = ['admin', 'read'];

export interface ApiToken {
  scope: ApiScope;
  token: string;
}

/**
 * Who may call the orchestrator API: the tokens of NICVISOR_API_TOKENS or of
 * NICVISOR_API_TOKEN_FILE, or (neither set: the demo) one admin token
 * generated into `<dataDir>/api-token` on first start and reused after.
 */
export type AuthConfig = { source: 'env' | 'file'; tokens: ApiToken[]; file?: string } | { source: 'generated'; file: string };

/** Name of the generated token file in the data directory. */
export const GENERATED_TOKEN_FILE = 'api-token';

/** RFC 6750's b64token characters; 16 at least, so a token cannot be guessed. */
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{16,}$/;

/**
 * Parses a token list: `SCOPE:TOKEN` entries separated by commas (the
 * variable) or one a line (a file; blank lines and `#` comments skipped).
 * Problems name the entry by position and scope, never the token itself.
 */
export function parseApiTokens(text: string, where: string, separator: 'comma' | 'line'): { tokens: ApiToken[]; problems: string[] } {
  const entries = separator === 'comma' ? text.split(',') : text.split('\n').filter((l) => !/^\s*(#|$)/.test(l));
  const tokens: ApiToken[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const e = entry.trim();
    const at = `${where} entry ${i + 1}`;
    const colon = e.indexOf(':');
    const scope = colon < 0 ? '' : e.slice(0, colon);
    const token = colon < 0 ? '' : e.slice(colon + 1);
    if (colon < 0) problems.push(`${at}: expected SCOPE:TOKEN with SCOPE admin or read`);
    else if (!(API_SCOPES as readonly string[]).includes(scope)) problems.push(`${at}: scope "${scope.slice(0, 16)}" is not admin or read`);
    else if (!TOKEN_RE.test(token)) problems.push(`${at} (${scope}): the token must be 16 or more of A-Z a-z 0-9 . _ ~ + / = -`);
    else if (tokens.some((t) => t.token === token)) problems.push(`${at} (${scope}): the same token is listed twice`);
    else tokens.push({ scope: scope as ApiScope, token });
  });
  if (entries.length === 0 && problems.length === 0) problems.push(`${where}: no tokens (expected SCOPE:TOKEN entries)`);
  return { tokens, problems };
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

/** One line for the start-up banner. */
export function describeNic(nic: NicTarget): string {
  if (nic.kind === 'embedded') return `embedded emulated NIC (${nic.ports} ports)`;
  return nic.kind === 'tcp' ? `tcp:${nic.host}:${nic.port}` : `Open vSwitch, OVSDB ${nic.db}`;
}

/** Parses `ovs:unix:ABSOLUTE-PATH` or `ovs:tcp:HOST:PORT` into the OVSDB remote; undefined when malformed. */
export function parseOvsTarget(text: string): string | undefined {
  if (!text.startsWith('ovs:')) return undefined;
  const db = text.slice(4);
  if (db.startsWith('unix:')) return isAbsolute(db.slice(5)) && Buffer.byteLength(db.slice(5)) <= MAX_UNIX_PATH ? db : undefined;
  return parseTcpTarget(db) === undefined ? undefined : db;
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
  const openflow: ControllerConfig['openflow'] = { host: host(ENV.OF_HOST), port: port(ENV.OF_PORT, DEFAULTS.ofPort) };

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
  const requireTlsText = raw(env, ENV.REQUIRE_TLS) ?? '0';
  if (!/^(0|1|true|false)$/.test(requireTlsText)) problems.push(`${ENV.REQUIRE_TLS}=${requireTlsText}: expected 1 or 0`);
  const requireTls = requireTlsText === '1' || requireTlsText === 'true';
  const relayPort = raw(env, ENV.RELAY_PORT) === undefined ? undefined : port(ENV.RELAY_PORT, 0);
  const channels = { host: host(ENV.CHANNEL_HOST), ports, ...(requireTls ? { requireTls } : {}), ...(relayPort === undefined ? {} : { relayPort }) };

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
    const ovs = parseOvsTarget(nicText);
    if (t !== undefined) nic = { kind: 'tcp', ...t };
    else if (ovs !== undefined) nic = { kind: 'ovs', db: ovs };
    else problems.push(`${ENV.NIC}=${nicText}: expected "embedded", "tcp:HOST:PORT", "ovs:unix:/ABSOLUTE/db.sock" or "ovs:tcp:HOST:PORT"`);
  }

  // Open vSwitch connects to unix-socket controllers only inside its run directory, where its db.sock usually is.
  const unixText = raw(env, ENV.OF_UNIX) ?? (nic.kind === 'ovs' && nic.db.startsWith('unix:') ? join(dirname(nic.db.slice(5)), OVS_DEFAULT_OF_SOCKET) : undefined);
  if (unixText !== undefined) {
    const unixPath = isAbsolute(unixText) ? unixText : resolve(cwd, unixText);
    if (Buffer.byteLength(unixPath) > MAX_UNIX_PATH) problems.push(`${ENV.OF_UNIX}=${unixText}: a unix socket path is at most ${MAX_UNIX_PATH} bytes`);
    else openflow.unixPath = unixPath;
  }

  const auth = authConfig(env, cwd, dataDir, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return { http, rpc, openflow, channels, dataDir, nic, auth };
}

function authConfig(env: Env, cwd: string, dataDir: string, problems: string[]): AuthConfig {
  const listed = raw(env, ENV.API_TOKENS);
  const fileName = raw(env, ENV.API_TOKEN_FILE);
  if (listed !== undefined && fileName !== undefined) {
    problems.push(`${ENV.API_TOKENS} and ${ENV.API_TOKEN_FILE}: set one of them, not both`);
    return { source: 'env', tokens: [] };
  }
  if (listed !== undefined) {
    const r = parseApiTokens(listed, ENV.API_TOKENS, 'comma');
    problems.push(...r.problems);
    return { source: 'env', tokens: r.tokens };
  }
  if (fileName !== undefined) {
    const file = isAbsolute(fileName) ? fileName : resolve(cwd, fileName);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`${ENV.API_TOKEN_FILE}=${fileName}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return { source: 'file', tokens: [], file };
    }
    const r = parseApiTokens(text, `${ENV.API_TOKEN_FILE}=${fileName}`, 'line');
    problems.push(...r.problems);
    return { source: 'file', tokens: r.tokens, file };
  }
  return { source: 'generated', file: join(dataDir, GENERATED_TOKEN_FILE) };
}

/** Injection token of the ControllerConfig. */
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');
