/**
 * The nicvisor command line. Exit codes: 0 success; 1 the controller
 * refused or could not be reached (or a --check found a message that
 * re-encodes differently); 2 malformed input or a usage error (a bad flow
 * token is named); 70 an internal error.
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_MALFORMED } from './commands/messages.js';
import { ofpParseCommand } from './commands/ofp-parse.js';
import { ofpPrintCommand } from './commands/ofp-print.js';
import { auditCommand } from './commands/audit.js';
import { credentialsCommand } from './commands/credentials.js';
import { DEFAULT_URL } from './commands/client.js';
import { dumpCommands } from './commands/dump.js';
import { instanceCommands } from './commands/instances.js';
import { modCommands } from './commands/mods.js';
import { watchCommand } from './commands/watch.js';

function configure(cmd: Command, path: string): Command {
  cmd.showHelpAfterError(`(run \`${path} --help\` for usage)`).exitOverride();
  for (const sub of cmd.commands) configure(sub, `${path} ${sub.name()}`);
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command('nicvisor')
    .description('OpenFlow 1.3 controller for smart-NIC instances: tools')
    .showHelpAfterError('(run `nicvisor --help` for usage)')
    .option('--controller <url>', `the controller's REST API (default: $NICVISOR_URL or ${DEFAULT_URL})`)
    .option('--token <token>', "the API's bearer token (default: $NICVISOR_TOKEN, or the demo's $NICVISOR_DATA_DIR/api-token)")
    .option('--token-file <file>', 'read the bearer token from FILE (a bare token, or SCOPE:TOKEN lines: the first is used)')
    .exitOverride();
  const commands = [...instanceCommands(), ...dumpCommands(), ...modCommands(), watchCommand(), auditCommand(), credentialsCommand(), ofpPrintCommand(), ofpParseCommand()];
  for (const cmd of commands) {
    // Subcommands get their own copy of these settings only when configured on each.
    program.addCommand(configure(cmd, `nicvisor ${cmd.name()}`));
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
      process.exitCode = (e as { exitCode?: number }).exitCode ?? EXIT_MALFORMED;
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
