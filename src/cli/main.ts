// ferkit's command line.
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { packageVersion } from './version.js';

const program = new Command();
program
  .name('ferkit')
  .description('Facial expression recognition: train, evaluate and run SCN, ARBEx, IAL+GCA and pattern-map models')
  .version(packageVersion())
  .option('--backend <name>', 'TF.js backend: wasm, tensorflow or cpu (default: FERKIT_BACKEND, else the best available)')
  .option('--quiet', 'print results only, no progress')
  .showHelpAfterError()
  .exitOverride();

for (const add of commands) add(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const err = e as Error;
  process.stderr.write(`ferkit: ${err.message}\n`);
  if (process.env.FERKIT_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
