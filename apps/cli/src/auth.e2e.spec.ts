/**
 * The CLI and the API's bearer tokens, against real controllers (spawned
 * like `npm start`): --token / NICVISOR_TOKEN work, no token or a wrong one
 * is a clear 401 and exit 1, a read token inspects but may not change; the
 * demo (no tokens configured) prints its generated token once, keeps it
 * 0600 in the data directory, reuses it after a restart, and the CLI finds
 * it through NICVISOR_DATA_DIR.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_TOKENS } from '../../controller/src/spec-app.js';
import { nicvisor, startController, type Controller } from '../../../test/interop/harness.js';

/** No token from the environment: neither NICVISOR_TOKEN nor a data directory. */
const NO_TOKEN = { NICVISOR_TOKEN: '', NICVISOR_DATA_DIR: '' };

describe('nicvisor with bearer tokens', () => {
  let ctl: Controller;

  beforeAll(async () => {
    ctl = await startController();
  }, 60_000);
  afterAll(async () => {
    await ctl?.stop();
  });

  it('works with NICVISOR_TOKEN or --token, and says what is missing without one', async () => {
    expect(await nicvisor(ctl.url, ['instance', 'create', 'fw1', '--tenant', 'acme', '--ports', '1,2'])).toMatchObject({ code: 0, stderr: '' });
    const listed = await nicvisor(ctl.url, ['--token', TEST_TOKENS.admin, 'instances'], 30_000, NO_TOKEN);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toContain('fw1');

    const none = await nicvisor(ctl.url, ['instances'], 30_000, NO_TOKEN);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("nicvisor: GET /v1/instances: 401 missing bearer token: send 'Authorization: Bearer TOKEN'");
    expect(none.stderr).toContain('hint: give --token TOKEN or --token-file FILE, or set NICVISOR_TOKEN');

    const wrong = await nicvisor(ctl.url, ['--token', 'not-a-token-of-this-controller', 'instances'], 30_000, NO_TOKEN);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('401 unknown bearer token');
  }, 120_000);

  it('inspects with a read token but may not change anything (403)', async () => {
    const read = { NICVISOR_TOKEN: TEST_TOKENS.read };
    expect(await nicvisor(ctl.url, ['instance', 'show', 'fw1'], 30_000, read)).toMatchObject({ code: 0, stderr: '' });
    const refused = await nicvisor(ctl.url, ['instance', 'delete', 'fw1'], 30_000, read);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403 a read token may only inspect (GET); DELETE /v1/instances/fw1 needs an admin token');
    expect(refused.stderr).toContain('hint: this command changes state: it needs an admin token');
    expect((await nicvisor(ctl.url, ['instance', 'show', 'fw1'])).code).toBe(0);
  }, 120_000);
});

describe('the demo token', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nicvisor-demo-'));
  const demo = { NICVISOR_API_TOKENS: '' };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is printed once in the first curl, kept 0600 under the data directory, reused after a restart', async () => {
    const file = join(dataDir, 'api-token');
    let token: string;
    let ctl = await startController({ dataDir, env: demo });
    try {
      const out = ctl.output();
      token = /API token\s+(\S+)\s+\(admin; generated now and shown only now; kept in (\S+), mode 0600\)/.exec(out)![1]!;
      expect(out).toContain(`curl -s -X POST ${ctl.url}/v1/instances -H 'authorization: Bearer ${token}'`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // The CLI reads it from the data directory.
      expect(await nicvisor(ctl.url, ['instance', 'create', 'fw1', '--tenant', 'acme', '--ports', '1'], 30_000, { NICVISOR_TOKEN: '', NICVISOR_DATA_DIR: dataDir })).toMatchObject({ code: 0 });
      expect((await nicvisor(ctl.url, ['instances'], 30_000, NO_TOKEN)).code).toBe(1);
    } finally {
      await ctl.stop();
    }

    ctl = await startController({ dataDir, env: demo });
    try {
      const out = ctl.output();
      expect(out).not.toContain(token);
      expect(out).toContain(`API token     admin token in ${file}`);
      expect(out).toContain(`-H "authorization: Bearer $(cut -d: -f2 ${file})"`);
      const shown = await nicvisor(ctl.url, ['--token', token, 'instance', 'show', 'fw1'], 30_000, NO_TOKEN);
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await ctl.stop();
    }
  }, 180_000);
});
