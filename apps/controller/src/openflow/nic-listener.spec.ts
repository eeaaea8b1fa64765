/**
 * The NIC listener's unix socket (NICVISOR_OF_UNIX, what an Open vSwitch in
 * another network namespace dials): an emulated NIC instance completes its
 * handshake over it, a stale socket file is replaced, a live one is not
 * taken over, and closing removes the file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Framer } from '@nicvisor/openflow';
import { SmartNic } from '@nicvisor/softswitch/nic.js';
import { NicListener } from './nic-listener.js';
import { NicRegistry } from './nic-registry.js';

describe('NicListener on a unix socket', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nicvisor-listener-'));
    path = join(dir, 'of.sock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('registers an instance that connects over the unix socket, next to the TCP listener', async () => {
    const log: string[] = [];
    const registry = new NicRegistry();
    const listener = new NicListener(registry, { port: 0, unixPath: path, log: (l) => log.push(l) });
    await listener.listen();
    expect(listener.target).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    expect(listener.unixTarget).toBe(`unix:${path}`);

    // The emulated instance's agent, carried over the unix socket.
    const nic = new SmartNic({ ports: 2 });
    const instance = nic.createInstance({ datapathId: 0x77n, ports: [1, 2], nTables: 4 });
    const socket = connect(path);
    const framer = new Framer();
    const session = instance.openSession((raw) => socket.write(raw));
    socket.on('data', (c: Buffer) => {
      for (const raw of framer.push(c)) session.receive(raw);
    });
    const s = await registry.waitFor(0x77n);
    expect([...s.ports.keys()].sort()).toEqual([1, 2]);
    expect(log).toContain(`NIC instance 0x0000000000000077 connected from unix:${path}`);

    socket.destroy();
    session.close();
    registry.close();
    await listener.close();
    nic.shutdown();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a socket file nobody listens on', async () => {
    // A process that died without closing its server leaves the file behind.
    execFileSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    expect(existsSync(path)).toBe(true);
    const listener = new NicListener(new NicRegistry(), { port: 0, unixPath: path });
    await listener.listen();
    expect(listener.unixTarget).toBe(`unix:${path}`);
    await listener.close();
  });

  it('does not take over a socket another process listens on', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(path, resolve));
    const listener = new NicListener(new NicRegistry(), { port: 0, unixPath: path });
    await expect(listener.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(listener.unixTarget).toBeUndefined();
    await listener.close();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });
});
