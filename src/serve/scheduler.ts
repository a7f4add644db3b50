/**
 * The batching scheduler: concurrent HTTP requests share one batched `Generator` call.
 *
 * Waves: requests that arrive while the generator is busy wait in a queue; when the current
 * wave ends, every waiting job is taken at once, grouped by what one `Generator.generate` call
 * must share (temperature, top-p, stop strings), and each group runs as ONE call whose rows are
 * all the group's choices (a request with n = 4 is four rows). Per-request `max_tokens` is per
 * row. Inside a call the generator batches continuously (finished rows leave, waiting rows take
 * their place, up to `maxBatch` rows), but a job cannot join a call that has started: this is
 * batching per wave, not token-level continuous batching across requests.
 *
 * Seeds: a job with a seed runs in a call of its own with `createRng(seed)`, so the same request
 * with the same seed gives the same completions whatever else is in flight. Jobs without a seed
 * draw from the server's rng.
 *
 * Cancellation: a job whose client went away (`cancelled()`) before its wave starts is dropped;
 * once its rows are decoding they finish (bounded by max_tokens) but nothing more is sent to it.
 * Other jobs are not affected either way.
 */
import type { Completion, Generator } from "../engine/generate.js";
import { createRng, type Rng } from "../games/rng.js";

export interface Job {
  readonly prompt: readonly number[];
  readonly n: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly stop: readonly string[];
  readonly seed: number | null;
  /** Streaming: each choice's new text as it is generated (stop strings not yet trimmed). */
  readonly onText?: (choice: number, delta: string) => void;
  /** True once the client has gone; checked before the job's wave and before every callback. */
  readonly cancelled: () => boolean;
}

export interface SchedulerStats {
  readonly waves: number;
  readonly calls: number;
  /** Largest number of rows in one generate call. */
  readonly maxRows: number;
  readonly jobs: number;
}

interface Queued {
  readonly job: Job;
  readonly resolve: (c: Completion[]) => void;
  readonly reject: (e: unknown) => void;
}

export class Scheduler {
  private readonly queue: Queued[] = [];
  private running = false;
  private stats_ = { waves: 0, calls: 0, maxRows: 0, jobs: 0 };

  constructor(
    private readonly generator: Generator,
    private readonly rng: Rng,
    private readonly maxBatch = 64,
  ) {}

  get stats(): SchedulerStats {
    return { ...this.stats_ };
  }

  /** The job's completions, one per choice. */
  submit(job: Job): Promise<Completion[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const wave = this.queue.splice(0).filter((q) => {
          if (!q.job.cancelled()) return true;
          q.reject(new Error("cancelled"));
          return false;
        });
        this.stats_.waves++;
        for (const group of groups(wave)) await this.run(group);
      }
    } finally {
      this.running = false;
    }
  }

  private async run(group: readonly Queued[]): Promise<void> {
    const first = (group[0] as Queued).job;
    const rows = group.flatMap((q, j) => Array.from({ length: q.job.n }, (_, c) => ({ q, j, c })));
    this.stats_.calls++;
    this.stats_.jobs += group.length;
    this.stats_.maxRows = Math.max(this.stats_.maxRows, rows.length);
    try {
      const completions = await this.generator.generate(
        rows.map((r) => ({ prompt: r.q.job.prompt, maxNewTokens: r.q.job.maxTokens })),
        {
          maxNewTokens: Math.max(...group.map((q) => q.job.maxTokens)),
          temperature: first.temperature,
          topP: first.topP,
          rng: first.seed === null ? this.rng.split() : createRng(first.seed),
          skipSpecialTokens: true,
          maxBatch: this.maxBatch,
          ...(first.stop.length === 0 ? {} : { stopStrings: first.stop }),
          onText: (row, delta) => {
            const r = rows[row];
            if (r === undefined || r.q.job.onText === undefined || r.q.job.cancelled()) return;
            r.q.job.onText(r.c, delta);
          },
        },
      );
      let k = 0;
      for (const q of group) {
        q.resolve(completions.slice(k, k + q.job.n));
        k += q.job.n;
      }
    } catch (e) {
      for (const q of group) q.reject(e);
    }
  }
}

/** Jobs that can share one generate call; a seeded job always runs alone. */
export function groups<T extends { readonly job: Job }>(wave: readonly T[]): T[][] {
  const byKey = new Map<string, T[]>();
  const out: T[][] = [];
  for (const q of wave) {
    if (q.job.seed !== null) {
      out.push([q]);
      continue;
    }
    const key = JSON.stringify([q.job.temperature, q.job.topP, q.job.stop]);
    let g = byKey.get(key);
    if (g === undefined) {
      byKey.set(key, (g = []));
      out.push(g);
    }
    g.push(q);
  }
  return out;
}
