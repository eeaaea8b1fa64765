/** audit [--vnf V] [--tenant T] [--since TIME]: the controller's audit log. */
import { Command, InvalidArgumentError } from 'commander';
import { Client } from './client.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** An ISO time, or a duration back from now: 30s, 15m, 2h, 1d. */
export function parseSince(v: string, now = Date.now()): string {
  const rel = /^(\d+)(s|m|h|d)$/.exec(v);
  if (rel) return new Date(now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) throw new InvalidArgumentError(`"${v}" is neither an ISO time (2026-01-31T12:00:00Z) nor a duration (30s, 15m, 2h, 1d)`);
  return new Date(t).toISOString();
}

function limit(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a positive integer`);
  return Number(v);
}

interface AuditEntry {
  id?: number;
  at: string;
  actor: string;
  action: string;
  vnf?: string;
  tenant?: string;
  result: string;
  status?: number;
  detail?: unknown;
  error?: unknown;
  count?: number;
}

export function auditCommand(): Command {
  return new Command('audit')
    .description("the audit log: orchestrator calls and the tenants' accepted or denied changes")
    .option('--vnf <vnf>', 'only this vNF')
    .option('--tenant <tenant>', 'only this tenant')
    .option('--since <time>', 'ISO time or a duration back from now (30s, 15m, 2h, 1d)', (v) => parseSince(v))
    .option('--limit <n>', 'at most N entries', limit)
    .option('--json', 'one JSON object per entry')
    .action(async (opts: { vnf?: string; tenant?: string; since?: string; limit?: number; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams();
      if (opts.vnf) q.set('vnf', opts.vnf);
      if (opts.tenant) q.set('tenant', opts.tenant);
      if (opts.since) q.set('since', opts.since);
      if (opts.limit) q.set('limit', String(opts.limit));
      const rows = await Client.of(cmd).get<AuditEntry[]>(`/v1/audit${q.size > 0 ? `?${q}` : ''}`);
      for (const e of rows) {
        if (opts.json) {
          out(JSON.stringify(e));
          continue;
        }
        const who = [e.vnf ? `vnf=${e.vnf}` : '', e.tenant ? `tenant=${e.tenant}` : ''].filter(Boolean).join(' ');
        const extra = e.error ?? e.detail;
        out(
          [e.at, e.actor.padEnd(18), e.action.padEnd(22), e.result.padEnd(6), e.status === undefined ? '' : String(e.status), who, e.count !== undefined ? `count=${e.count}` : '', extra === undefined ? '' : typeof extra === 'string' ? extra : JSON.stringify(extra)]
            .filter((x) => x !== '')
            .join(' '),
        );
      }
    });
}
