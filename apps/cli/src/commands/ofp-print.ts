/** `nicvisor ofp-print HEX…`: decode messages given as hexadecimal on the command line. */
import { Command } from 'commander';
import { CliError, printMessages, type PrintOptions } from './messages.js';

/** Hex digits, with any whitespace (and an optional leading 0x) ignored. */
export function parseHex(words: readonly string[]): Buffer {
  let text = words.join('').replace(/\s+/g, '');
  if (/^0x/i.test(text)) text = text.slice(2);
  const bad = text.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new CliError(
      `not hexadecimal: ${JSON.stringify(text[bad])} at digit ${bad + 1}`,
      'give the message bytes as hex digits, e.g. `nicvisor ofp-print 0400000800000001`',
    );
  }
  if (text.length % 2 !== 0) {
    throw new CliError(`odd number of hex digits (${text.length}): the last byte is incomplete`, 'each byte takes two hex digits');
  }
  return Buffer.from(text, 'hex');
}

export function ofpPrintCommand(): Command {
  return new Command('ofp-print')
    .description('decode OpenFlow 1.3 messages given in hex (spaces and newlines allowed; several messages may follow each other)')
    .argument('<hex...>', 'the raw bytes of one or more messages, in hex')
    .option('--json', 'print each message as a JSON object, one per line')
    .option('--check', 're-encode each message and report whether the bytes are identical')
    .action((hex: string[], opts: PrintOptions) => {
      process.exitCode = printMessages(parseHex(hex), opts);
    });
}
