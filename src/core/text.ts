/** Small wording helpers shared by the command line's messages. */

/** `n` with its noun, singular for exactly one: count(1, "step") → "1 step", count(3, "run") → "3 runs". */
export function count(n: number, noun: string, pluralForm = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : pluralForm}`;
}
