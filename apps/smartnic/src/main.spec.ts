/** The standalone emulator process: NICVISOR_SMARTNIC_RPC_PORT=0 binds an ephemeral port and prints it. */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { NIC_PATTERNS } from './smartnic.constants.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

it('starts, prints its ephemeral port, and answers there', async () => {
  const child = spawn(process.execPath, ['--import', './bin/register.js', 'apps/smartnic/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NICVISOR_SMARTNIC_RPC_PORT: '0', NICVISOR_SMARTNIC_PORTS: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no "listening on" line within 20 s; output: ${out}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /smartnic: listening on 127\.0\.0\.1:(\d+) \(3 NIC ports\)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    expect(port).toBeGreaterThan(0);
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
    try {
      const ports = await firstValueFrom(client.send<Array<{ nicPort: number }>>(NIC_PATTERNS.PORT_LIST, {}));
      expect(ports.map((p) => p.nicPort)).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  } finally {
    child.kill('SIGTERM');
  }
});
