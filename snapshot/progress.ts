// Progress of long snapshot work (writing, verifying, restoring) for people
// watching: a cli-progress bar when the output is a terminal; otherwise (log
// files, CI) no escape codes at all, just one plain line per 10%.
import { Presets, SingleBar } from "cli-progress";

export interface ProgressReporter {
  /** `done` out of the total given at creation (or the new `total`). */
  update(done: number, total?: number): void;
  /** Ends the bar (or prints the last plain line if 100% was not printed yet). */
  stop(): void;
}

export interface ProgressOptions {
  /** What the bar is about, e.g. "snapshot write". */
  readonly label: string;
  readonly total: number;
  /** "bytes" values are shown in MB; "keys" / "records" as counts. */
  readonly unit: "bytes" | "keys" | "records";
  /** Where a terminal bar draws (default process.stdout); no bar unless it is a TTY. */
  readonly stream?: NodeJS.WriteStream;
  /** Where plain lines go when there is no terminal (default: a line on `stream`). */
  readonly log?: (line: string) => void;
  /** Below this total nothing is shown (short work needs no bar); default SMALL_TOTAL[unit]. */
  readonly minTotal?: number;
}

/** Totals under which work is quick enough to show nothing. */
export const SMALL_TOTAL: Readonly<Record<ProgressOptions["unit"], number>> = { bytes: 8 * 1024 * 1024, keys: 50_000, records: 50_000 };

const SILENT: ProgressReporter = { update: () => {}, stop: () => {} };

const MB = 1024 * 1024;

function shown(n: number, unit: ProgressOptions["unit"]): string {
  return unit === "bytes" ? `${(n / MB).toFixed(1)} MB` : `${n} ${unit}`;
}

/** A bar on a TTY, plain lines per 10% otherwise. */
export function progressReporter(o: ProgressOptions): ProgressReporter {
  const stream = o.stream ?? process.stdout;
  if (o.total < (o.minTotal ?? SMALL_TOTAL[o.unit])) return SILENT;
  return stream.isTTY === true ? new BarReporter(o, stream) : new LineReporter(o, o.log ?? ((line) => void stream.write(`${line}\n`)));
}

class BarReporter implements ProgressReporter {
  private readonly bar: SingleBar;
  private readonly scale: number;
  private stopped = false;

  constructor(
    private readonly o: ProgressOptions,
    stream: NodeJS.WriteStream,
  ) {
    this.scale = o.unit === "bytes" ? MB : 1;
    const unit = o.unit === "bytes" ? "MB" : o.unit;
    this.bar = new SingleBar(
      {
        // No ETA: cli-progress prints "NULL" for it once the value stops moving (a finished phase).
        format: `${o.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
        barsize: 30,
        stream,
        hideCursor: true,
        formatValue: (v, _opts, type) => (type === "value" || type === "total") && o.unit === "bytes" ? v.toFixed(1) : String(v),
      },
      Presets.shades_classic,
    );
    this.bar.start(this.scaled(o.total), 0);
  }

  private scaled(n: number): number {
    return this.o.unit === "bytes" ? Math.round((n / this.scale) * 10) / 10 : n;
  }

  update(done: number, total?: number): void {
    if (this.stopped) return;
    if (total !== undefined) this.bar.setTotal(this.scaled(total));
    this.bar.update(this.scaled(done));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
  }
}

class LineReporter implements ProgressReporter {
  /** The highest tenth printed so far (-1: none). */
  private tenth = -1;
  private total: number;
  private done = 0;
  private readonly startedMs = Date.now();

  constructor(
    private readonly o: ProgressOptions,
    private readonly log: (line: string) => void,
  ) {
    this.total = o.total;
  }

  update(done: number, total?: number): void {
    if (total !== undefined) this.total = total;
    this.done = done;
    const t = this.total > 0 ? Math.min(10, Math.floor((done / this.total) * 10)) : 0;
    if (t <= this.tenth) return;
    this.tenth = t;
    this.print();
  }

  stop(): void {
    if (this.tenth < 10 && this.total > 0 && this.done >= this.total) {
      this.tenth = 10;
      this.print();
    }
  }

  private print(): void {
    const s = ((Date.now() - this.startedMs) / 1000).toFixed(1);
    this.log(`${this.o.label}: ${this.tenth * 10}% (${shown(this.done, this.o.unit)} of ${shown(this.total, this.o.unit)}, ${s} s)`);
  }
}
