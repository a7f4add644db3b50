/**
 * The batching scheduler: concurrent HTTP requests share one batched `Generator` call.
 *
 * Waves: requests that arrive while the generator is busy wait in a queue; when the current
 * wave ends (after a pause of at most 50 ms while requests are still arriving, so that
 * clients answered by the last wave can join the next; see `gather`), every waiting job is taken at once, grouped by what one `Generator.generate` call
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
  /** Requests announced (body being read, prompt being encoded) but not yet submitted. */
  private arriving = 0;
  /** Jobs the next wave expects: those waiting when the last wave ended plus those it answered. */
  private expected = 0;
  private stats_ = { waves: 0, calls: 0, maxRows: 0, jobs: 0 };

  constructor(
    private readonly generator: Generator,
    private readonly rng: Rng,
    private readonly maxBatch = 64,
    /** Longest pause to let concurrent requests join a wave. */
    private readonly gatherMs = 50,
  ) {}

  get stats(): SchedulerStats {
    return { ...this.stats_ };
  }

  /**
   * Announces a request that will probably be submitted soon; the returned function withdraws
   * it if it never is (a bad request). Submitting withdraws it too. Waves wait for announced
   * requests (up to `gatherMs`).
   */
  announce(): () => void {
    this.arriving++;
    let open = true;
    return () => {
      if (open) this.arriving--;
      open = false;
    };
  }

  /** The job's completions, one per choice. `withdraw` is the function `announce` returned. */
  submit(job: Job, withdraw?: () => void): Promise<Completion[]> {
    withdraw?.();
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (!this.running) {
        // Started on the next turn of the event loop, so requests submitted in the same turn share the first wave.
        this.running = true;
        setImmediate(() => void this.loop());
      }
    });
  }

  /**
   * Waits (2 ms steps, at most `gatherMs`) while requests are announced, or while fewer jobs wait
   * than `expected`: clients answered by the last wave send their next request a few
   * milliseconds later, and without this pause the first of them would start a wave of one while
   * the rest wait for it (and a load would settle into two half-size cohorts taking turns). A
   * steady load thus keeps its whole batch together; a lone client never waits.
   */
  private async gather(): Promise<void> {
    const until = performance.now() + this.gatherMs;
    while ((this.arriving > 0 || this.queue.length < this.expected) && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        if (this.gatherMs > 0) await this.gather();
        const wave = this.queue.splice(0).filter((q) => {
          if (!q.job.cancelled()) return true;
          q.reject(new Error("cancelled"));
          return false;
        });
        this.stats_.waves++;
        for (const group of groups(wave)) await this.run(group);
        // The clients just answered will likely send again: the next wave waits for them too.
        this.expected = this.queue.length + wave.length;
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
