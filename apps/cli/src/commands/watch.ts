/**
 * watch VNF: the instance's server-sent events. In a terminal, a table of
 * its flows redrawn on every change with the latest counters; otherwise one
 * line per event. Runs until Ctrl-C (or --count events).
 */
import { Command, InvalidArgumentError } from 'commander';
import { flowStatsFromJson, formatFlowStats } from '@nicvisor/openflow/text/index.js';
import { ApiError, Client, enc, type Instance } from './client.js';
import { fetchFlows, sortFlows } from './dump.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads a text/event-stream body, event by event. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep).replace(/^\r?\n\r?\n/, '');
      const ev: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const k = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (k === 'event') ev.event = v;
        else if (k === 'id') ev.id = v;
        else if (k === 'data') data.push(v);
      }
      ev.data = data.join('\n');
      if (data.length > 0 || ev.event !== 'message') yield ev;
    }
  }
}

/** One event as a line: `flow-added tenant:acme table=3, priority=7 actions=drop`, `counters flows=5 packets=0 bytes=0`. */
export function eventLine(ev: SseEvent, at = new Date()): string {
  const time = at.toISOString();
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(ev.data) as Record<string, unknown>;
  } catch {
    return `${time} ${ev.event} ${ev.data}`;
  }
  if (ev.event.startsWith('flow-') && typeof data.flow === 'object' && data.flow !== null) {
    const text = formatFlowStats(flowStatsFromJson(data.flow), { stats: false });
    return `${time} ${ev.event} owner=${String(data.owner ?? '?')} ${text}`;
  }
  return `${time} ${ev.event} ${Object.entries(data)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ')}`;
}

async function redraw(client: Client, inst: Instance, counters: string, recent: string[]): Promise<void> {
  const rows = sortFlows(await fetchFlows(client, inst, false));
  const lines = [
    `nicvisor watch ${inst.vnf} (tenant ${inst.tenant}, dpid ${inst.datapathId}) — ${new Date().toISOString()} — Ctrl-C to stop`,
    counters,
    '',
    `${'OWNER'.padEnd(14)} FLOW`,
    ...rows.map((r) => `${r.owner.padEnd(14)} ${formatFlowStats(r.flow, { stats: true })}`),
    '',
    'recent events:',
    ...recent.slice(-8),
  ];
  process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
}

function count(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a positive integer`);
  return Number(v);
}

export function watchCommand(): Command {
  return new Command('watch')
    .description('live view of flow changes and counters (a refreshing table in a terminal, one line per event otherwise), until Ctrl-C')
    .argument('<vnf|dpid>')
    .option('--lines', 'one line per event even in a terminal')
    .option('--count <n>', 'stop after N events', count)
    .action(async (ref: string, opts: { lines?: boolean; count?: number }, cmd: Command) => {
      const client = Client.of(cmd);
      const inst = await client.resolve(ref);
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const tty = process.stdout.isTTY && !opts.lines;
      let res: Response;
      try {
        res = await fetch(`${client.base}/v1/instances/${enc(inst.vnf)}/events`, { headers: client.headers({ accept: 'text/event-stream' }), signal: abort.signal });
      } catch (e) {
        if (abort.signal.aborted) return;
        throw new ApiError(`cannot reach the controller at ${client.base} (${(e as Error).message})`, 'is it running?');
      }
      if (!res.ok || res.body === null) throw new ApiError(`GET /v1/instances/${inst.vnf}/events: ${res.status}`);
      let counters = 'counters: (waiting)';
      const recent: string[] = [];
      if (tty) await redraw(client, inst, counters, recent);
      else out(`${new Date().toISOString()} watching ${inst.vnf} (dpid ${inst.datapathId})`);
      let n = 0;
      try {
        for await (const ev of readSse(res.body)) {
          const line = eventLine(ev);
          if (tty) {
            if (ev.event === 'counters') counters = `counters: ${line.split(' ').slice(2).join(' ')}`;
            else recent.push(line);
            await redraw(client, inst, counters, recent);
          } else out(line);
          if (opts.count !== undefined && ++n >= opts.count) break;
        }
      } catch (e) {
        if (!abort.signal.aborted) throw e;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        abort.abort();
      }
    });
}
