/**
 * The controller's REST API as the CLI uses it: base URL from --controller,
 * NICVISOR_URL or http://127.0.0.1:8080; the bearer token from --token,
 * --token-file, NICVISOR_TOKEN or the demo's `$NICVISOR_DATA_DIR/api-token`;
 * failures become CliErrors with a hint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './messages.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Exit code of a failure reported by the controller (or reaching it). */
export const EXIT_API = 1;

export class ApiError extends CliError {
  readonly exitCode = EXIT_API;
}

export interface Instance {
  vnf: string;
  tenant: string;
  nic: string;
  datapathId: string;
  ports: number[];
  tables: { operator: number[]; tenant: number[]; virtual: boolean };
  quotas: Record<string, number>;
  channel: { mode: string; endpoint: string };
  createdAt?: string;
  connected?: boolean;
}

const TOKEN_HINT = 'give --token TOKEN or --token-file FILE, or set NICVISOR_TOKEN (`npm start` prints the demo\'s token once; it is kept in DATA_DIR/api-token)';

/** A token file: the first entry that is not blank or a comment, as `SCOPE:TOKEN` (the controller's format) or the bare token. */
function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read the token file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, TOKEN_HINT);
  }
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined) throw new CliError(`the token file ${file} holds no token`, TOKEN_HINT);
  return line.replace(/^(admin|read):/, '');
}

/** The token to send, if any: --token, --token-file, NICVISOR_TOKEN, then the demo's file in NICVISOR_DATA_DIR. */
function tokenOf(o: { token?: string; tokenFile?: string }): string | undefined {
  if (o.token !== undefined && o.token !== '') return o.token;
  if (o.tokenFile !== undefined) return readTokenFile(o.tokenFile);
  const env = process.env.NICVISOR_TOKEN;
  if (env !== undefined && env !== '') return env;
  const dir = process.env.NICVISOR_DATA_DIR;
  if (dir === undefined || dir === '') return undefined;
  try {
    return readTokenFile(join(dir, 'api-token'));
  } catch {
    return undefined;
  }
}

export class Client {
  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  static of(cmd: Command): Client {
    const o = cmd.optsWithGlobals<{ controller?: string; token?: string; tokenFile?: string }>();
    const url = (o.controller ?? process.env.NICVISOR_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(`bad controller URL "${url}"`, 'give --controller http://HOST:PORT (or set NICVISOR_URL)');
    return new Client(url, tokenOf(o));
  }

  /** The Authorization header (none without a token: the controller then says what is missing). */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === undefined ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ApiError(`cannot reach the controller at ${this.base} (${cause})`, 'start it with `npm start`, or point to it with --controller URL or NICVISOR_URL');
    }
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try {
        const j = JSON.parse(text) as { message?: unknown };
        if (j.message !== undefined) msg = Array.isArray(j.message) ? j.message.join('; ') : String(j.message);
      } catch {
        /* not JSON */
      }
      const hint =
        res.status === 401
          ? this.token === undefined
            ? TOKEN_HINT
            : 'the token is not one of this controller\'s: check --token / NICVISOR_TOKEN'
          : res.status === 403
            ? 'this command changes state: it needs an admin token (a read token only inspects)'
            : res.status === 404 && /no instance/.test(msg)
          ? '`nicvisor instances` lists the instances'
          : res.status === 404 && /^Cannot /.test(msg)
            ? `this controller has no ${method} ${path.replace(/\?.*/, '')} route`
            : res.status === 409
              ? '`nicvisor instance show VNF` shows the existing instance'
              : undefined;
      throw new ApiError(`${method} ${path.replace(/\?.*/, '')}: ${res.status} ${msg}`, hint);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** The instance named by a vNF name or a datapath id (hex, 0x optional, or decimal). */
  async resolve(ref: string): Promise<Instance> {
    const all = await this.get<Instance[]>('/v1/instances');
    const byName = all.find((i) => i.vnf === ref);
    if (byName) return byName;
    let dpid: bigint | undefined;
    if (/^(0x)?[0-9a-f]{1,16}$/i.test(ref) && /[a-f]|^0x|^0/i.test(ref)) dpid = BigInt(ref.startsWith('0x') ? ref : `0x${ref}`);
    else if (/^\d+$/.test(ref)) dpid = BigInt(ref);
    const byDpid = dpid === undefined ? undefined : all.find((i) => BigInt(`0x${i.datapathId}`) === dpid);
    if (byDpid) return byDpid;
    throw new ApiError(`no instance for "${ref}" (neither a vNF name nor a datapath id)`, '`nicvisor instances` lists the instances');
  }
}

export const enc = encodeURIComponent;
