/**
 * The configuration relay: one per compute node. For each vNF placed on the
 * node it listens on a unix socket of its own (standing in for the
 * virtio-serial port a hypervisor gives each VM), and relays every
 * connection on it to nicvisor's relay endpoint over mutual TLS with the
 * *node's* certificate, announcing the vNF by the socket the connection came
 * from (RELAY_PREAMBLE) before relaying a single byte of it. The vNF needs
 * no route to the management network, and cannot name another vNF: only the
 * relay writes the announcement, and nicvisor takes it only for vNFs placed
 * on the relay's node.
 *
 * Stateless: killed and restarted, it loses nothing but the connections
 * open at the time (the vNF reconnects; its flows stay on the NIC).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { RELAY_PREAMBLE } from '../../controller/src/openflow/relay-endpoint.js';
import { peerIdentity } from '../../controller/src/pki/ca.js';

export interface RelayOptions {
  /** nicvisor's relay endpoint (NICVISOR_RELAY_PORT). */
  controller: { host: string; port: number };
  /** The node's key and certificate (POST /v1/nodes/:node/credentials) and nicvisor's CA, PEM. */
  credentials: { key: string; cert: string; ca: string };
  /** The directory of the sockets: `<dir>/<vnf>.sock`. */
  socketDir: string;
  /** The vNFs placed on this node. */
  vnfs: readonly string[];
  log?(line: string): void;
}

export class Relay {
  private readonly servers: Server[] = [];
  private readonly open = new Set<Socket>();

  constructor(private readonly opts: RelayOptions) {}

  /** The socket a vNF's VM uses. */
  socketPath(vnf: string): string {
    return join(this.opts.socketDir, `${vnf}.sock`);
  }

  /** Creates every vNF's socket (replacing a stale one a killed relay left). */
  async start(): Promise<void> {
    mkdirSync(this.opts.socketDir, { recursive: true, mode: 0o700 });
    for (const vnf of this.opts.vnfs) {
      const path = this.socketPath(vnf);
      if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
      const server = createServer((s) => this.relay(vnf, s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
    }
  }

  private relay(vnf: string, local: Socket): void {
    const log = this.opts.log ?? (() => undefined);
    // Nothing of the vNF's is read until nicvisor has been authenticated and told who it is.
    local.pause();
    const { host, port } = this.opts.controller;
    const remote = tlsConnect({
      host,
      port,
      ...this.opts.credentials,
      checkServerIdentity: (_h, cert) => (peerIdentity(new X509Certificate(cert.raw))?.kind === 'controller' ? undefined : new Error('the relay endpoint is not nicvisor')),
    });
    this.open.add(local).add(remote);
    const end = (why: string) => {
      if (!local.destroyed || !remote.destroyed) log(`${vnf}: relayed connection ended: ${why}`);
      local.destroy();
      remote.destroy();
      this.open.delete(local);
      this.open.delete(remote);
    };
    remote.once('secureConnect', () => {
      remote.write(`${RELAY_PREAMBLE}${vnf}\n`);
      local.pipe(remote);
      remote.pipe(local);
    });
    remote.on('error', (e) => end(`nicvisor: ${e.message}`));
    local.on('error', (e) => end(`vNF: ${e.message}`));
    remote.on('close', () => end('nicvisor closed'));
    local.on('close', () => end('vNF closed'));
  }

  /** Closes the sockets and every relayed connection. */
  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }
}
