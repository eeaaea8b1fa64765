/**
 * `npm run conformance -- DIR [--json]`: runs every Ryu switch-suite JSON
 * file under DIR against the emulated NIC (see ryu-switch.ts).
 *
 * Prints `RELPATH: P passed, F failed` per file with each failure indented
 * below it, then `N passed, M failed`. With --json the report is JSON on
 * stdout and the summary line goes to stderr. Exit 0 iff nothing failed;
 * 2 on a usage error.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatFile, runSuite, summaryLine } from './ryu-switch.js';

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  if (rest.length !== 1 || rest[0].startsWith('-')) {
    process.stderr.write('usage: npm run conformance -- DIR [--json]\n');
    return 2;
  }
  const dir = resolve(rest[0]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`conformance: ${rest[0]} is not a directory\n`);
    return 2;
  }
  const report = await runSuite(dir, json ? undefined : (f) => process.stdout.write(`${formatFile(f)}\n`));
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`${summaryLine(report)}\n`);
  } else {
    process.stdout.write(`${summaryLine(report)}\n`);
  }
  return report.failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`conformance: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 2;
  },
);
