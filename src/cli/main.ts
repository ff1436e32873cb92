// `ferkit` entry point: runs the program with one error format (`ferkit: <message>` on stderr,
// exit 1; the stack only with FERKIT_DEBUG=1).
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

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
