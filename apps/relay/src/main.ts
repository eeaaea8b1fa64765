/**
 * The configuration relay as a process: `npm run start:relay -- --controller
 * HOST:PORT --key node.key --cert node.crt --ca ca.crt --socket-dir DIR
 * --vnf fw1 [--vnf fw2 …]`. The key and certificate are the node's (`POST
 * /v1/nodes/:node/credentials`); each vNF's VM gets `DIR/<vnf>.sock`.
 * Prints `relay: listening` once every socket is bound; SIGTERM/SIGINT
 * close them.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { Relay } from './relay.js';

const collect = (v: string, all: string[]): string[] => [...all, v];

async function main(argv: string[]): Promise<void> {
  const o = new Command('nicvisor-relay')
    .requiredOption('--controller <host:port>', "nicvisor's relay endpoint (NICVISOR_RELAY_PORT)")
    .requiredOption('--key <file>', "the node's private key, PEM")
    .requiredOption('--cert <file>', "the node's certificate, PEM")
    .requiredOption('--ca <file>', "nicvisor's CA certificate, PEM")
    .requiredOption('--socket-dir <dir>', 'where the vNF sockets are created (<dir>/<vnf>.sock)')
    .requiredOption('--vnf <name>', 'a vNF placed on this node (repeat)', collect, [])
    .exitOverride()
    .parse(argv)
    .opts<{ controller: string; key: string; cert: string; ca: string; socketDir: string; vnf: string[] }>();
  const m = /^(.+):(\d{1,5})$/.exec(o.controller);
  if (m === null) throw new CommanderError(2, 'relay.controller', `--controller ${o.controller}: expected HOST:PORT`);
  const relay = new Relay({
    controller: { host: m[1]!, port: Number(m[2]) },
    credentials: { key: readFileSync(o.key, 'utf8'), cert: readFileSync(o.cert, 'utf8'), ca: readFileSync(o.ca, 'utf8') },
    socketDir: o.socketDir,
    vnfs: o.vnf,
    log: (line) => process.stderr.write(`relay: ${line}\n`),
  });
  await relay.start();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void relay.close().then(() => process.exit(0)));
  process.stdout.write(`relay: listening: ${o.vnf.map((v) => `${v} on unix:${relay.socketPath(v)}`).join(', ')}\n`);
}

main(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) process.exit(e.exitCode === 1 ? 2 : e.exitCode);
  process.stderr.write(`relay: ${(e as Error).message}\n`);
  process.exit(1);
});
