/**
 * The barrier part of `npm run bench:channel`, run in a process of its own
 * (as a vNF's controller is; a client inside nicvisor's process would reach
 * it without the cross-process wake-ups a real one pays). Takes JSON on
 * argv[2]: `{ n, paths: [{ port, tls?, lead? }] }` (`tls`: PEM credentials
 * for mutual TLS; `lead`: hex bytes written
 * just before each barrier, e.g. a flow-mod). Opens one connection per
 * path, then sends n sequential barriers on each, the paths taking turns,
 * and prints `{ rtts }`: each path's round-trip times, in µs, in order.
 */
import { Client, dialTls, TlsCredentials } from './of-client.js';

interface Job {
  n: number;
  paths: Array<{ port: number; tls?: TlsCredentials; lead?: string }>;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const clients = await Promise.all(job.paths.map((p) => Client.open(p.port, p.tls === undefined ? undefined : dialTls(p.tls))));
  const leads = job.paths.map((p) => (p.lead === undefined ? undefined : Buffer.from(p.lead, 'hex')));
  const rtts = job.paths.map(() => [] as number[]);
  for (let i = 0; i < job.n; i++) {
    for (let k = 0; k < clients.length; k++) rtts[k].push(await clients[k].barrierRtt(0x10000000 + i, leads[k]));
  }
  const errors = clients.reduce((e, c) => e + c.errors, 0);
  for (const c of clients) c.close();
  process.stdout.write(JSON.stringify({ rtts, errors }));
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
