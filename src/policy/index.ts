/**
 * The public API of `spiral/policy`: the `Policy` interface (a batch of prompts in, replies with
 * their tokens and log-probs out) and its implementations (the model, an OpenAI-compatible
 * endpoint, a uniform random policy), prompt modes (how an observation becomes a request and a
 * reply an action), policy specs (one string names any player, reference agents included), the
 * batched play loop that training and evaluation share, and the conformance suite every `Policy`
 * passes. docs/policy.md explains the layer.
 */
export { promptText, randomPolicy, type Policy, type PolicyRequest, type PolicyResult, type PromptInput, type RandomPolicyOptions } from "./policy.js";
export { encodePrompt, modelPolicy, type ModelPolicyOptions } from "./model-policy.js";
export { API_KEY_ENV, apiKeyFromEnv, openaiPolicy, TransportError, type OpenAIPolicyOptions, type RemoteResult } from "./openai-policy.js";
export { chatMode, compactMode, promptMode, type PromptMode, type PromptModeName } from "./prompt-mode.js";
export {
  agentOf, formatPolicySpec, OPTIMAL_BY_GAME, openCheckpoint, openPolicy, parsePolicySpec, referenceAgentFor, REFERENCE_NAMES,
  type AgentPlayer, type OpenedPolicy, type PolicyPlayer, type PolicySpec, type SamplingSettings,
} from "./policy-spec.js";
export { playGames, readReply, type Answer, type AnswerProvider, type Decision, type GameStart, type LiveGame, type PlayOptions, type Verdict } from "./play.js";
