// The commander program in-process: the command registry, global options seen from a subcommand,
// and commander's errors in ferkit's format.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError, type Command } from 'commander';
import { commands } from '../../src/cli/commands/index.js';
import { globalOptions, type GlobalOptions } from '../../src/cli/global-options.js';
import { buildProgram } from '../../src/cli/program.js';

function quietProgram(): { program: Command; err: string[] } {
  const err: string[] = [];
  const program = buildProgram();
  // Commander shares one output configuration object with its subcommands and merges into it, so
  // this redirects every command's output while keeping the program's 'ferkit: ' error format.
  program.configureOutput({ writeOut: () => {}, writeErr: (s: string) => err.push(s) });
  return { program, err };
}

describe('CLI program', () => {
  it('adds exactly the registered commands', () => {
    assert.ok(commands.has('info') && commands.has('data'));
    const names = buildProgram().commands.map((c) => c.name()).sort();
    assert.deepEqual(names, commands.names());
  });

  it('a command registered twice is refused', () => {
    assert.throws(() => commands.register({ name: 'info', description: 'again', create: () => {} }), /command "info" is already registered/);
  });

  it('global options reach a subcommand', async () => {
    const { program } = quietProgram();
    let seen: GlobalOptions | undefined;
    program.command('probe').action((_o: unknown, cmd: Command) => {
      seen = globalOptions(cmd);
    });
    await program.parseAsync(['--backend', 'cpu', '--quiet', 'probe'], { from: 'user' });
    assert.deepEqual(seen, { backend: 'cpu', quiet: true });
    const { program: plain } = quietProgram();
    plain.command('probe').action((_o: unknown, cmd: Command) => {
      seen = globalOptions(cmd);
    });
    await plain.parseAsync(['probe'], { from: 'user' });
    assert.deepEqual(seen, { backend: undefined, quiet: false });
  });

  it("commander's own errors throw (no process exit) and read 'ferkit: ...'", async () => {
    const { program, err } = quietProgram();
    await assert.rejects(program.parseAsync(['data', 'check'], { from: 'user' }), (e: unknown) => {
      assert.ok(e instanceof CommanderError);
      assert.equal(e.exitCode, 1);
      return true;
    });
    assert.match(err.join(''), /^ferkit: required option '--dataset <name>' not specified/);
  });
});
