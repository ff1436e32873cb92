// ferkit's command line: global options, every registered command, and one error format
// (`ferkit: <message>` on stderr, exit 1; the stack only with FERKIT_DEBUG=1).
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { packageVersion } from './version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ferkit')
    .description('Facial expression recognition: train, evaluate and run SCN, ARBEx, IAL+GCA and pattern-map models')
    .version(packageVersion())
    .option('--backend <name>', 'TF.js backend: wasm, tensorflow or cpu (default: FERKIT_BACKEND, else the best available)')
    .option('--quiet', 'print results only, no progress')
    // Set before the commands are added: subcommands inherit these settings.
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'ferkit: ')) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const entry of commands.list()) entry.create(program);
  return program;
}

function debugging(): boolean {
  const v = process.env.FERKIT_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  // Commander has already printed its own message (unknown command, missing option, --help).
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`ferkit: ${message}\n`);
  if (debugging() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
