/**
 * The controller's REST API as the CLI uses it: base URL from --controller,
 * NICVISOR_URL or http://127.0.0.1:8080; failures become CliErrors with a hint.
 */
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

export class Client {
  constructor(readonly base: string) {}

  static of(cmd: Command): Client {
    const o = cmd.optsWithGlobals<{ controller?: string }>();
    const url = (o.controller ?? process.env.NICVISOR_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(`bad controller URL "${url}"`, 'give --controller http://HOST:PORT (or set NICVISOR_URL)');
    return new Client(url);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
        res.status === 404 && /no instance/.test(msg)
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
