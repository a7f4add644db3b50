/**
 * Chat mode: an observation → one user turn for a real chat model (docs/prompting.md).
 *
 * The turn, in our own words: the model is Player N of a named two-player zero-sum game; then the
 * rules message; then the rest of the log in order (state views verbatim, actions as
 * "Player 1: [bet]" with "(you)" on the model's own seat, game-master notices as "[GAME] …"); the
 * legal actions when the game's action set is small and enumerable and the latest state does not
 * already list them all; and the request to reason step
 * by step and box the final action, with an example built from `observation.legal[0]`.
 *
 * Invariants: the prompt is a pure function of (info, observation, options); it holds nothing the
 * observation does not (the log carries the opponent's extracted actions, never its reasoning);
 * the wording lives in `CHAT_WORDING`, so a template is data plus this one renderer.
 */
import type { ChatMessage } from "../engine/tokenizer/tokenizer.js";
import type { GameInfo, Message, Observation, Seat } from "../games/game.js";
import { normaliseView } from "./compact.js";

export type { ChatMessage };

/** The fixed sentences of the chat prompt. `{…}` fields are filled by `renderGameBody`. */
export const CHAT_WORDING = {
  intro:
    "You are Player {seat} in a game of {name} ({id}) against one opponent. It is a two-player " +
    "zero-sum game: whatever one player wins, the other loses.",
  history: "What has happened so far:",
  currentState: "The current state:",
  legal: "Your legal actions now: {legal}",
  boxed:
    "Think it through step by step, then give your final action inside \\boxed{}, " +
    "for example \\boxed{{example}}.",
  boxedNoExample: "Think it through step by step, then give your final action inside \\boxed{}.",
  answerTag:
    "Reason about the position first, then give your final action between <answer> and </answer>, " +
    "for example <answer>{example}</answer>.",
  answerTagNoExample: "Reason about the position first, then give your final action between <answer> and </answer>.",
} as const;

/** How the model is asked to mark its final action. */
export type AnswerStyle = "boxed" | "answer-tag";

export interface ChatPromptOptions {
  /** Default "boxed" (SPIRAL's). */
  readonly answerStyle?: AnswerStyle;
  /**
   * List `observation.legal` before the request. Default: only for enumerable games with at most
   * `MAX_LISTED_ACTIONS` legal actions (a negotiation's hundreds of offers are left out).
   */
  readonly listLegal?: boolean;
}

export const MAX_LISTED_ACTIONS = 30;

function fill(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => fields[key] ?? whole);
}

/** "Player 1", or "Player 0 (you)" for the observer's own seat. */
export function playerName(seat: Seat, observer: Seat): string {
  return seat === observer ? `Player ${seat} (you)` : `Player ${seat}`;
}

/** One log entry as a line (or block) of the prompt. Rules are rendered separately. */
export function renderMessage(message: Message, observer: Seat): string {
  switch (message.kind) {
    case "rules":
    case "state":
      // Leading spaces of the first line are kept: boards are drawn with them.
      return normaliseView(message.text);
    case "action":
      return `${playerName(message.seat, observer)}: ${message.text.trim()}`;
    case "notice":
      return `[GAME] ${message.text.trim()}`;
  }
}

function shouldListLegal(info: GameInfo, observation: Observation, options: ChatPromptOptions, latestState: string): boolean {
  if (observation.legal.length === 0) return false;
  if (options.listLegal !== undefined) return options.listLegal;
  if (info.actionSpace !== "enumerable" || observation.legal.length > MAX_LISTED_ACTIONS) return false;
  // Not again when the latest state already lists every legal action.
  return !observation.legal.every((action) => latestState.includes(action));
}

/** The game description and log part of the prompt, shared by the chat and raw templates. */
export function renderGameBody(info: GameInfo, observation: Observation, options: ChatPromptOptions = {}): string {
  const seat = observation.seat;
  const blocks: string[] = [fill(CHAT_WORDING.intro, { seat: String(seat), name: info.name, id: info.id })];
  const rules = observation.log.filter((m) => m.kind === "rules");
  const events = observation.log.filter((m) => m.kind !== "rules");
  for (const message of rules) blocks.push(renderMessage(message, seat));
  if (events.length > 0) {
    blocks.push([CHAT_WORDING.history, ...events.map((m) => renderMessage(m, seat))].join("\n"));
  }
  // The log normally carries state views; a log without one still gets the current view.
  const view = normaliseView(observation.view);
  const states = events.filter((m) => m.kind === "state");
  let latestState = states[states.length - 1]?.text ?? "";
  if (states.length === 0 && view.length > 0) {
    blocks.push(`${CHAT_WORDING.currentState}\n${view}`);
    latestState = view;
  }
  if (shouldListLegal(info, observation, options, latestState)) {
    blocks.push(fill(CHAT_WORDING.legal, { legal: observation.legal.join(", ") }));
  }
  return blocks.join("\n\n");
}

/** The closing request: reason, then mark the action (with an example when one is legal). */
export function renderAnswerRequest(observation: Observation, style: AnswerStyle = "boxed"): string {
  const example = observation.legal[0];
  if (style === "answer-tag") {
    return example === undefined ? CHAT_WORDING.answerTagNoExample : fill(CHAT_WORDING.answerTag, { example });
  }
  return example === undefined ? CHAT_WORDING.boxedNoExample : fill(CHAT_WORDING.boxed, { example });
}

/** The user turn's text: game body, then the answer request. */
export function chatPromptText(info: GameInfo, observation: Observation, options: ChatPromptOptions = {}): string {
  return `${renderGameBody(info, observation, options)}\n\n${renderAnswerRequest(observation, options.answerStyle)}`;
}

/** SPIRAL's chat prompt: one user turn, rendered later with the checkpoint's chat template. */
export function chatPrompt(info: GameInfo, observation: Observation, options: ChatPromptOptions = {}): ChatMessage[] {
  return [{ role: "user", content: chatPromptText(info, observation, options) }];
}
