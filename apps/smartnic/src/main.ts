/**
 * The standalone smart-NIC emulator: `npm run start:smartnic`.
 *
 * Management over the NestJS TCP transport on NICVISOR_SMARTNIC_RPC_HOST:
 * NICVISOR_SMARTNIC_RPC_PORT (default 127.0.0.1:8082; port 0 = ephemeral).
 * Prints `smartnic: listening on HOST:PORT` once bound.
 */
import 'reflect-metadata';
import type { AddressInfo, Server } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DEFAULT_NIC_PORTS, DEFAULT_RPC_HOST, DEFAULT_RPC_PORT, ENV } from './smartnic.constants.js';
import { SmartnicModule } from './smartnic.module.js';

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected an integer ${min}..${max}`);
  return n;
}

async function bootstrap(): Promise<void> {
  const host = process.env[ENV.RPC_HOST] || DEFAULT_RPC_HOST;
  const port = intFromEnv(ENV.RPC_PORT, DEFAULT_RPC_PORT, 0, 65535);
  const nicPorts = intFromEnv(ENV.NIC_PORTS, DEFAULT_NIC_PORTS, 1, 4096);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(SmartnicModule.forRoot({ nicPorts }), {
    transport: Transport.TCP,
    options: { host, port },
    logger: ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  await app.listen();
  const bound = (app.unwrap<Server>().address() as AddressInfo).port;
  process.stdout.write(`smartnic: listening on ${host}:${bound} (${nicPorts} NIC ports)\n`);
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`smartnic: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
