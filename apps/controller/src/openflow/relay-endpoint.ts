/**
 * Where configuration relays (apps/relay) reach nicvisor: one TLS port
 * (NICVISOR_RELAY_PORT) on the management network. A relay authenticates
 * with its compute node's certificate (SAN URI `urn:nicvisor:node:NODE`,
 * from nicvisor's CA); each of its connections carries one vNF's OpenFlow
 * channel and starts with one line the relay writes itself before relaying
 * any vNF byte:
 *
 *     NICVISOR-RELAY vnf=NAME\n
 *
 * The relay writes it for the unix socket the connection came from, so a
 * vNF's identity is the socket it uses, never something it says. nicvisor
 * accepts the connection only for a vNF placed on that node (the instance's
 * `node`); the rest of the bytes go to the vNF's channel as if it had
 * connected itself. Refusals are logged and, for a known vNF, audited.
 */
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { MutationAudit, VnfChannel } from './delegated-channel.js';

/** The relay's first line on each connection. */
export const RELAY_PREAMBLE = 'NICVISOR-RELAY vnf=';
const MAX_PREAMBLE = 128;
const PREAMBLE_TIMEOUT_MS = 5000;

export interface RelayEndpointOptions {
  host: string;
  /** 0: ephemeral. */
  port: number;
  /** nicvisor's key and certificate, and the CA (PEM). */
  credentials: { key: string; cert: string; ca: string };
  /** The node a verified relay certificate names, or why it names none (revoked, not a node). */
  nodeOf(peer: X509Certificate): { node: string } | { refused: string };
  channel(vnf: string): VnfChannel | undefined;
  audit?(e: MutationAudit): void;
  log(line: string): void;
}

export class RelayEndpoint {
  private server: Server | undefined;

  constructor(private readonly opts: RelayEndpointOptions) {}

  /** Binds; resolves with the port. */
  listen(): Promise<number> {
    const o = this.opts;
    const server = createServer({ ...o.credentials, requestCert: true, rejectUnauthorized: true, handshakeTimeout: PREAMBLE_TIMEOUT_MS }, (s) => this.accept(s));
    server.on('tlsClientError', (e: NodeJS.ErrnoException) => o.log(`relay endpoint: TLS handshake failed (${e.code ?? e.message})`));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private accept(s: TLSSocket): void {
    const from = `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
    const peer = s.getPeerX509Certificate();
    const who = peer === undefined ? { refused: 'no client certificate' } : this.opts.nodeOf(peer);
    if ('refused' in who) {
      this.opts.log(`relay endpoint: refused ${from}: ${who.refused}`);
      s.destroy();
      return;
    }
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => done(undefined, 'no preamble'), PREAMBLE_TIMEOUT_MS).unref();
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl >= 0) done(head.subarray(0, nl).toString('latin1'), undefined, head.subarray(nl + 1));
      else if (head.length > MAX_PREAMBLE) done(undefined, 'preamble too long');
    };
    const done = (line: string | undefined, problem?: string, rest?: Buffer): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.pause();
      const vnf = line?.startsWith(RELAY_PREAMBLE) ? line.slice(RELAY_PREAMBLE.length) : undefined;
      const ch = vnf === undefined ? undefined : this.opts.channel(vnf);
      const why =
        problem ?? (vnf === undefined ? 'malformed preamble' : ch === undefined ? `no channel for vNF "${vnf}"` : ch.node !== who.node ? `vNF "${vnf}" is ${ch.node === undefined ? 'on no node' : `on node "${ch.node}"`}` : undefined);
      if (why !== undefined || ch === undefined) {
        const detail = `relay of node "${who.node}" from ${from} refused: ${why ?? ''}`;
        this.opts.log(detail);
        if (ch !== undefined) {
          this.opts.audit?.({ vnf: ch.vnf, tenant: ch.ownership.tenant, datapathId: ch.datapathId, message: 'RELAY', result: 'denied', count: 1, detail });
        }
        s.destroy();
        return;
      }
      if (rest !== undefined && rest.length > 0) s.unshift(rest);
      ch.acceptRelayed(s);
    };
    s.on('data', onData);
    s.on('error', () => s.destroy());
  }

  /** Stops accepting; relayed connections belong to their channels, which close them. */
  close(): void {
    this.server?.close();
  }

  /** NestJS lifecycle: the app's shutdown closes the endpoint. */
  beforeApplicationShutdown(): void {
    this.close();
  }
}
