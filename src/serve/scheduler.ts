/**
 * The batching scheduler: concurrent HTTP requests share one batched `Generator` call.
 *
 * Waves: requests that arrive while the generator is busy wait in a queue; when the current
 * wave ends (after a pause of at most 50 ms while requests are still arriving, so that
 * clients answered by the last wave can join the next; see `gather`), every waiting job is taken
 * at once and the wave runs as ONE generate call whose rows are all its jobs' choices (a request
 * with n = 4 is four rows). Everything a request sets is per row — max_tokens, temperature, top-p,
 * stop strings, logit bias, penalties, seed — so requests never need calls of their own. Inside a
 * call the generator batches continuously (finished rows leave, waiting rows take their place, up
 * to `maxBatch` rows), but a job cannot join a call that has started: this is batching per wave,
 * not token-level continuous batching across requests.
 *
 * Seeds: every row draws from its own rng. A job with a seed gets `createRng(seed)`, split once per
 * choice in order, so a seeded request gives the same completions alone or batched with anything
 * (up to the float rounding of batched matrix products). A job without one gets a split of the
 * server's rng.
 *
 * Cancellation: a job whose client went away (its `signal` aborted) before its wave starts is
 * dropped; once its rows are decoding they end at the generator's next step (they leave the
 * batch, so no more compute is spent on them) and nothing more is sent to it. Other jobs are not
 * affected either way.
 */
import type { Completion, Generator } from "../engine/infer/generate.js";
import type { LogitAdjustments } from "../engine/infer/sampling.js";
import { createRng, type Rng } from "../core/rng.js";

export interface Job extends LogitAdjustments {
  readonly prompt: readonly number[];
  readonly n: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly stop: readonly string[];
  readonly seed: number | null;
  /** Streaming: each choice's new text as it is generated (stop strings not yet trimmed). */
  readonly onText?: (choice: number, delta: string) => void;
  /** Aborted once the client has gone: checked before the job's wave, at every decode step and before every callback. */
  readonly signal: AbortSignal;
}

export interface SchedulerStats {
  readonly waves: number;
  readonly calls: number;
  /** Largest number of rows in one generate call. */
  readonly maxRows: number;
  readonly jobs: number;
  /** Jobs whose client went away before they were answered. */
  readonly cancelledJobs: number;
  /** Tokens generated for rows of cancelled jobs (before they stopped). */
  readonly cancelledTokens: number;
  /** Row-steps decoded by the generator so far (its `stats.decodeTokens`): the decode work done. */
  readonly decodeTokens: number;
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
  private stats_ = { waves: 0, calls: 0, maxRows: 0, jobs: 0, cancelledJobs: 0, cancelledTokens: 0 };

  constructor(
    private readonly generator: Generator,
    private readonly rng: Rng,
    private readonly maxBatch = 64,
    /** Longest pause to let concurrent requests join a wave. */
    private readonly gatherMs = 50,
  ) {}

  get stats(): SchedulerStats {
    return { ...this.stats_, decodeTokens: (this.generator.stats as { decodeTokens?: number } | undefined)?.decodeTokens ?? 0 };
  }

  /** True while a wave runs or jobs wait. */
  get busy(): boolean {
    return this.running;
  }

  /** Requests announced and not yet submitted or withdrawn. */
  get announced(): number {
    return this.arriving;
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
          if (!q.job.signal.aborted) return true;
          this.stats_.cancelledJobs++;
          q.reject(new Error("cancelled"));
          return false;
        });
        this.stats_.waves++;
        if (wave.length > 0) await this.run(wave);
        // The clients just answered will likely send again: the next wave waits for them too.
        this.expected = this.queue.length + wave.length;
      }
    } finally {
      this.running = false;
    }
  }

  private async run(wave: readonly Queued[]): Promise<void> {
    const rows = wave.flatMap((q) => {
      const jobRng = q.job.seed === null ? this.rng.split() : createRng(q.job.seed);
      return Array.from({ length: q.job.n }, (_, c) => ({ q, c, rng: jobRng.split() }));
    });
    this.stats_.calls++;
    this.stats_.jobs += wave.length;
    this.stats_.maxRows = Math.max(this.stats_.maxRows, rows.length);
    try {
      const completions = await this.generator.generate(
        rows.map(({ q: { job }, rng }) => ({
          prompt: job.prompt,
          maxNewTokens: job.maxTokens,
          rng,
          signal: job.signal,
          sampling: {
            temperature: job.temperature,
            topP: job.topP,
            ...(job.stop.length === 0 ? {} : { stopStrings: job.stop }),
            ...(job.logitBias === undefined ? {} : { logitBias: job.logitBias }),
            ...(job.presencePenalty === undefined ? {} : { presencePenalty: job.presencePenalty }),
            ...(job.frequencyPenalty === undefined ? {} : { frequencyPenalty: job.frequencyPenalty }),
          },
        })),
        {
          // Every row brings its own sampling and rng; these are the call's required defaults, unused.
          maxNewTokens: Math.max(...wave.map((q) => q.job.maxTokens)),
          temperature: 1,
          rng: this.rng,
          skipSpecialTokens: true,
          maxBatch: this.maxBatch,
          onText: (row, delta) => {
            const r = rows[row];
            if (r === undefined || r.q.job.onText === undefined || r.q.job.signal.aborted) return;
            r.q.job.onText(r.c, delta);
          },
        },
      );
      let k = 0;
      for (const q of wave) {
        const mine = completions.slice(k, k + q.job.n);
        k += q.job.n;
        if (q.job.signal.aborted) {
          this.stats_.cancelledJobs++;
          this.stats_.cancelledTokens += mine.reduce((s, c) => s + c.tokens.length, 0);
        }
        q.resolve(mine);
      }
    } catch (e) {
      for (const q of wave) q.reject(e);
    }
  }
}
