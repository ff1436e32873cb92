// The options every command shares (`ferkit --backend cpu --quiet <command>`), read from any
// subcommand, and the engine start that honours --backend.
import type { Command } from 'commander';
import type { EngineInfo } from '../engine/backend.js';

export interface GlobalOptions {
  /** --backend; undefined leaves the choice to FERKIT_BACKEND, then the default. */
  backend?: string;
  /** --quiet: results only, no progress bars or chatter. */
  quiet: boolean;
}

/** The global options as seen from `cmd` (the program or any of its subcommands). */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { backend?: string; quiet?: boolean };
  return { backend: o.backend, quiet: Boolean(o.quiet) };
}

/** Starts TF.js on the backend asked for with --backend (else FERKIT_BACKEND, else the default). */
export async function startEngine(cmd: Command): Promise<EngineInfo> {
  // Imported on demand so that `ferkit --help` and commands without tensors do not load TF.js.
  const { initEngine } = await import('../engine/backend.js');
  return initEngine(globalOptions(cmd).backend);
}
