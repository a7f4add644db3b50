/**
 * Bradley–Terry ratings from a round robin, on the Elo scale, with Hessian intervals.
 *
 *   P(i beats j) = σ(θi − θj),   a draw counts as half a win for each side.
 *   maximise  Σ_pairs [w_ij log σ(θi−θj) + w_ji log σ(θj−θi)]  −  Σ_i θi² / (2·s²)
 *
 * The Gaussian prior (s = `priorSd`, default 3 in log-odds ≈ 520 Elo) keeps ratings finite when
 * a player never loses (a perfect TicTacToe player), where plain maximum likelihood diverges; it
 * pulls ratings toward 0 less the more games there are. Newton's method on the concave objective
 * converges in a few steps. Covariance = (−H)⁻¹ at the optimum; ratings are reported relative
 * to their mean (Elo = 400/ln 10 · (θi − mean θ)), and the 95% interval is ±1.96 standard deviations
 * of that centred value (a Laplace approximation: accurate with many games per pair).
 */
import { Z95 } from "./stats.js";

export const ELO_PER_NAT = 400 / Math.LN10;

/** One pairing's results from `i`'s side. */
export interface PairResult {
  readonly i: number;
  readonly j: number;
  readonly wins: number;
  readonly draws: number;
  readonly losses: number;
}

export interface Rating {
  readonly player: number;
  /** Elo relative to the mean of all players. */
  readonly elo: number;
  readonly low: number;
  readonly high: number;
  /** Standard deviation in Elo. */
  readonly sd: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and dense). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs((m[r] as number[])[c] as number) > Math.abs((m[p] as number[])[c] as number)) p = r;
    [m[c], m[p]] = [m[p] as number[], m[c] as number[]];
    const pivot = (m[c] as number[])[c] as number;
    if (Math.abs(pivot) < 1e-300) throw new Error("singular system in the rating fit");
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = ((m[r] as number[])[c] as number) / pivot;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) (m[r] as number[])[k] = ((m[r] as number[])[k] as number) - f * ((m[c] as number[])[k] as number);
    }
  }
  return m.map((row, i) => (row[n] as number) / (row[i] as number));
}

export function bradleyTerry(players: number, results: readonly PairResult[], priorSd = 3): Rating[] {
  if (!(Number.isInteger(players) && players >= 2)) throw new Error(`ratings need at least two players; got ${players}`);
  // Score (wins + draws/2) and games between each ordered pair.
  const score = Array.from({ length: players }, () => new Array<number>(players).fill(0));
  const games = Array.from({ length: players }, () => new Array<number>(players).fill(0));
  for (const r of results) {
    if (r.i === r.j || r.i < 0 || r.j < 0 || r.i >= players || r.j >= players) throw new Error(`bad pairing ${r.i} vs ${r.j} for ${players} players`);
    const n = r.wins + r.draws + r.losses;
    (score[r.i] as number[])[r.j] = ((score[r.i] as number[])[r.j] as number) + r.wins + r.draws / 2;
    (score[r.j] as number[])[r.i] = ((score[r.j] as number[])[r.i] as number) + r.losses + r.draws / 2;
    (games[r.i] as number[])[r.j] = ((games[r.i] as number[])[r.j] as number) + n;
    (games[r.j] as number[])[r.i] = ((games[r.j] as number[])[r.i] as number) + n;
  }
  const prior = 1 / (priorSd * priorSd);
  let theta = new Array<number>(players).fill(0);
  const hessian = (): number[][] => {
    const h = Array.from({ length: players }, () => new Array<number>(players).fill(0));
    for (let i = 0; i < players; i++) {
      (h[i] as number[])[i] = -prior;
      for (let j = 0; j < players; j++) {
        const n = (games[i] as number[])[j] as number;
        if (i === j || n === 0) continue;
        const p = sigmoid((theta[i] as number) - (theta[j] as number));
        const w = n * p * (1 - p);
        (h[i] as number[])[i] = ((h[i] as number[])[i] as number) - w;
        (h[i] as number[])[j] = ((h[i] as number[])[j] as number) + w;
      }
    }
    return h;
  };
  for (let iter = 0; iter < 100; iter++) {
    const g = theta.map((t, i) => {
      let s = -prior * t;
      for (let j = 0; j < players; j++) {
        const n = (games[i] as number[])[j] as number;
        if (i !== j && n > 0) s += ((score[i] as number[])[j] as number) - n * sigmoid(t - (theta[j] as number));
      }
      return s;
    });
    const step = solve(hessian().map((row) => row.map((x) => -x)), g);
    theta = theta.map((t, i) => t + (step[i] as number));
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  // Covariance of θ, then of each centred θi − mean θ.
  const negH = hessian().map((row) => row.map((x) => -x));
  const cov = Array.from({ length: players }, (_, k) => solve(negH, Array.from({ length: players }, (__, r) => (r === k ? 1 : 0))));
  const mean = theta.reduce((a, b) => a + b, 0) / players;
  return theta.map((t, i) => {
    const c = Array.from({ length: players }, (_, k) => (k === i ? 1 : 0) - 1 / players);
    let v = 0;
    for (let a = 0; a < players; a++) for (let b = 0; b < players; b++) v += (c[a] as number) * (c[b] as number) * ((cov[a] as number[])[b] as number);
    const sd = Math.sqrt(Math.max(v, 0)) * ELO_PER_NAT;
    const elo = (t - mean) * ELO_PER_NAT;
    return { player: i, elo, sd, low: elo - Z95 * sd, high: elo + Z95 * sd };
  });
}
