/**
 * The nicvisor command line. Exit codes: 0 success, 1 a --check found a
 * message that re-encodes differently, 2 malformed input or a usage error.
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_MALFORMED } from './commands/messages.js';
import { ofpParseCommand } from './commands/ofp-parse.js';
import { ofpPrintCommand } from './commands/ofp-print.js';

export function buildProgram(): Command {
  const program = new Command('nicvisor')
    .description('OpenFlow 1.3 controller for smart-NIC instances: tools')
    .showHelpAfterError('(run `nicvisor --help` for usage)')
    .exitOverride();
  for (const cmd of [ofpPrintCommand(), ofpParseCommand()]) {
    // Subcommands get their own copy of these settings only when configured on each.
    program.addCommand(cmd.showHelpAfterError(`(run \`nicvisor ${cmd.name()} --help\` for usage)`).exitOverride());
  }
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed the message; help and --version exit 0, usage errors 2 (not commander's 1).
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_MALFORMED;
    } else if (e instanceof CliError) {
      process.stderr.write(`nicvisor: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
      process.exitCode = EXIT_MALFORMED;
    } else {
      process.stderr.write(`nicvisor: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 70;
    }
  }
}

// `nicvisor ofp-parse big.bin | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

await main(process.argv);
