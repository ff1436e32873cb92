// Runs the CLI (bin/ferkit.js) in a child process from the repository root, as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ferkit ...args`. env entries override the parent's; FERKIT_DEBUG is off unless set here. */
export function ferkit(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): CliResult {
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'bin/ferkit.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, FERKIT_DEBUG: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `ferkit` child process that runs alongside the test (servers, workers, a batch to kill):
 *  its output collected as it comes, `waitFor` a line, `done` its exit. */
export interface FerkitProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first output line from now on matching `re` (rejects on exit or after `timeoutMs`). */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
  done: Promise<CliResult>;
}

export function startFerkit(args: string[], env: Record<string, string> = {}): FerkitProcess {
  const child = spawn(process.execPath, [resolve(repoRoot, 'bin/ferkit.js'), ...args], { cwd: repoRoot, env: { ...process.env, FERKIT_DEBUG: '', ...env } });
  let stdout = '';
  let stderr = '';
  // Complete lines of both streams in arrival order; waiters look only at lines that come after them.
  const lines: string[] = [];
  const partial = { out: '', err: '' };
  const waiters: { re: RegExp; from: number; resolve: (line: string) => void }[] = [];
  const take = (key: 'out' | 'err', text: string) => {
    const parts = (partial[key] + text).split('\n');
    partial[key] = parts.pop()!;
    lines.push(...parts);
    for (const w of [...waiters]) {
      const line = lines.slice(w.from).find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', (b: Buffer) => ((stdout += b.toString()), take('out', b.toString())));
  child.stderr!.on('data', (b: Buffer) => ((stderr += b.toString()), take('err', b.toString())));
  const done = new Promise<CliResult>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  const waitFor = (re: RegExp, timeoutMs = 120_000) =>
    new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${stdout}${stderr}`)), timeoutMs);
      waiters.push({ re, from: lines.length, resolve: (l) => (clearTimeout(timer), res(l)) });
      void done.then((r) => {
        clearTimeout(timer);
        rej(new Error(`ferkit ${args[0]} exited (code ${r.code}) before a line matching ${re}:\n${r.stdout}${r.stderr}`));
      });
    });
  return { child, output: () => stdout + stderr, waitFor, done };
}

/** `ferkit ...args` without blocking the test's event loop (servers in the test keep answering). */
export function ferkitAsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startFerkit(args, env).done;
}
