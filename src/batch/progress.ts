// Progress of a batch on stderr: a bar with items/s and ETA on a terminal, a line every 15 s
// otherwise (logs of a long run), nothing with --quiet.
import { SingleBar, Presets } from 'cli-progress';

const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
};

export class Progress {
  private readonly bar?: SingleBar;
  private done = 0;
  private failed = 0;
  private readonly t0 = performance.now();
  private lastLine = performance.now();
  private status = '';

  constructor(
    private readonly total: number,
    private readonly mode: 'bar' | 'lines' | 'off',
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {
    if (mode === 'bar') {
      this.bar = new SingleBar(
        { format: 'batch {bar} {value}/{total} items | {rate} items/s | ETA {remaining} | {failed} failed {status}', stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      );
      this.bar.start(total, 0, this.payload());
    }
  }

  /** Items per second since the start. */
  get rate(): number {
    return this.done / ((performance.now() - this.t0) / 1000);
  }

  private payload() {
    const eta = this.done > 0 ? (this.total - this.done) / this.rate : NaN;
    return { rate: this.done > 0 ? this.rate.toFixed(2) : '-', remaining: formatSeconds(eta), failed: this.failed, status: this.status };
  }

  tick(ok: boolean): void {
    this.done++;
    if (!ok) this.failed++;
    this.bar?.update(this.done, this.payload());
    if (this.mode === 'lines' && (performance.now() - this.lastLine > 15_000 || this.done === this.total)) {
      this.lastLine = performance.now();
      const p = this.payload();
      this.write(`batch: ${this.done}/${this.total} items, ${p.rate} items/s, ETA ${p.remaining}, ${this.failed} failed`);
    }
  }

  /** A short note after the numbers (queue mode: what the queue holds). */
  note(status: string): void {
    this.status = status;
    this.bar?.update(this.done, this.payload());
    if (this.mode === 'lines' && performance.now() - this.lastLine > 15_000) {
      this.lastLine = performance.now();
      this.write(`batch: ${this.done}/${this.total} items, ${status}`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
