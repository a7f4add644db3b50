/**
 * The R1-style raw prompt: a frame in our own words around the game body (or a math problem),
 * asking for reasoning between <think> and </think> and the answer between <answer> and </answer>.
 * It is fed to the tokenizer as is (no chat template); replies are read with
 * `extractAction(reply, { format: "answer-tag" })`.
 */
import type { GameInfo, Observation } from "../games/game.js";
import { renderAnswerRequest, renderGameBody } from "./chat.js";

/** The R1-style frame; `{prompt}` is the game body and answer request. */
export const R1_FRAME =
  "A conversation between a User and an Assistant. The User sets a task; the Assistant first " +
  "reasons about it privately and then gives its final answer. The reasoning goes between <think> " +
  "and </think> and the final answer between <answer> and </answer>, like this: " +
  "<think> reasoning </think> <answer> final answer </answer>.\n" +
  "User: {prompt}\n" +
  "Assistant: <think>";

/** The R1-style raw prompt: the frame around the game body, asking for an `<answer>` tag. */
export function renderR1(info: GameInfo, observation: Observation): string {
  const prompt = `${renderGameBody(info, observation)}\n\n${renderAnswerRequest(observation, "answer-tag")}`;
  return R1_FRAME.replace("{prompt}", () => prompt);
}
