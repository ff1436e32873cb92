// The commander program: global options, every registered command, and errors in ferkit's format.
import { Command } from 'commander';
import { commands } from './commands/index.js';
import { packageVersion } from '../util/package-root.js';

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
    // Throw instead of exiting, so main decides the exit code and tests can parse in-process.
    .exitOverride();
  for (const entry of commands.list()) entry.create(program);
  return program;
}
