/** `nicvisor ofp-parse FILE`: decode a file of concatenated raw messages. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError, printMessages, type PrintOptions } from './messages.js';

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${file}: ${err.code ?? err.message}`, 'FILE is a file of raw OpenFlow messages, header included');
  }
}

export function ofpParseCommand(): Command {
  return new Command('ofp-parse')
    .description('decode a file of concatenated raw OpenFlow 1.3 messages')
    .argument('<file>', 'file of raw messages')
    .option('--json', 'print each message as a JSON object, one per line')
    .option('--check', 're-encode each message and report whether the bytes are identical')
    .action((file: string, opts: PrintOptions) => {
      process.exitCode = printMessages(readInput(file), opts);
    });
}
