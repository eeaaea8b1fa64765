/** Start-up configuration: defaults, overrides, and every bad value named. */
import { ConfigError, describeNic, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    expect(loadConfig({}, '/srv')).toEqual({
      http: { host: '127.0.0.1', port: 8080 },
      rpc: { host: '127.0.0.1', port: 8081 },
      openflow: { host: '127.0.0.1', port: 6653 },
      channels: { host: '127.0.0.1', ports: { first: 16653, last: 17652 } },
      dataDir: '/srv/data',
      nic: { kind: 'embedded', ports: 16 },
      auth: { source: 'generated', file: '/srv/data/api-token' },
    });
  });

  it('reads overrides, port 0 = ephemeral', () => {
    const c = loadConfig({ NICVISOR_HTTP_PORT: '0', NICVISOR_CHANNEL_PORTS: '20000-20009', NICVISOR_NIC: 'tcp:10.0.0.2:8082', NICVISOR_DATA_DIR: '/var/nv' });
    expect(c.http.port).toBe(0);
    expect(c.channels.ports).toEqual({ first: 20000, last: 20009 });
    expect(c.nic).toEqual({ kind: 'tcp', host: '10.0.0.2', port: 8082 });
    expect(c.dataDir).toBe('/var/nv');
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ NICVISOR_HTTP_PORT: 'eighty', NICVISOR_RPC_PORT: '70000', NICVISOR_CHANNEL_PORTS: '9-3', NICVISOR_NIC: 'udp:x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const v of ['NICVISOR_HTTP_PORT=eighty', 'NICVISOR_RPC_PORT=70000', 'NICVISOR_CHANNEL_PORTS=9-3', 'NICVISOR_NIC=udp:x']) expect(problems).toContain(v);
  });

  it('reads an Open vSwitch NIC; its NIC listener gets a unix socket beside db.sock unless NICVISOR_OF_UNIX says where', () => {
    const c = loadConfig({ NICVISOR_NIC: 'ovs:unix:/run/openvswitch/db.sock' }, '/srv');
    expect(c.nic).toEqual({ kind: 'ovs', db: 'unix:/run/openvswitch/db.sock' });
    expect(c.openflow).toEqual({ host: '127.0.0.1', port: 6653, unixPath: '/run/openvswitch/nicvisor-of.sock' });
    expect(describeNic(c.nic)).toBe('Open vSwitch, OVSDB unix:/run/openvswitch/db.sock');

    const t = loadConfig({ NICVISOR_NIC: 'ovs:tcp:10.0.0.3:6640', NICVISOR_OF_UNIX: 'run/of.sock' }, '/srv');
    expect(t.nic).toEqual({ kind: 'ovs', db: 'tcp:10.0.0.3:6640' });
    expect(t.openflow.unixPath).toBe('/srv/run/of.sock');
    expect(loadConfig({ NICVISOR_NIC: 'ovs:tcp:10.0.0.3:6640' }).openflow.unixPath).toBeUndefined();
    expect(loadConfig({ NICVISOR_OF_UNIX: '/tmp/of.sock' }).openflow.unixPath).toBe('/tmp/of.sock');
  });

  it('names a bad Open vSwitch target and a unix socket path too long for sun_path', () => {
    for (const [env, named] of [
      [{ NICVISOR_NIC: 'ovs:unix:db.sock' }, 'NICVISOR_NIC=ovs:unix:db.sock'],
      [{ NICVISOR_NIC: 'ovs:tcp:10.0.0.3' }, 'NICVISOR_NIC=ovs:tcp:10.0.0.3'],
      [{ NICVISOR_NIC: 'ovs:ssl:10.0.0.3:6640' }, 'NICVISOR_NIC=ovs:ssl:10.0.0.3:6640'],
      [{ NICVISOR_OF_UNIX: `/${'x'.repeat(107)}` }, 'NICVISOR_OF_UNIX=/xxx'],
    ] as const) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(named);
    }
  });
});
