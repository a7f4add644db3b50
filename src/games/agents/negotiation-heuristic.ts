/**
 * A sensible SimpleNegotiation player that knows only its own values.
 *
 * It models the opponent as valuing the resources the other way round (the mirror of its own
 * values: a guess, since the opponent's values are private), which lets it judge who gains more:
 * - an offer addressed to it is accepted only if the trade raises its own value and, under the
 *   mirror guess, raises it more than the opponent's (the winner is whoever gains more);
 * - otherwise it proposes the trade that, under the same guess, puts it furthest ahead while still
 *   leaving the opponent a gain of at least MIN_OPPONENT_GAIN (so a rational opponent accepts):
 *   it gives what it values low for what it values high. A bad open offer is countered this way;
 *   if no such trade is possible it denies the offer (or, with nothing open, just says so).
 */
import type { Agent } from "../agent.js";
import type { Bundle, NegotiationInfoState } from "../simple-negotiation.js";
import { bundleValue, formatOffer } from "../simple-negotiation.js";

const MIN_OPPONENT_GAIN = 10;

function isNegotiationInfo(info: unknown): info is NegotiationInfoState {
  return typeof info === "object" && info !== null && "values" in info && "opponentInventory" in info && "offer" in info;
}

function mirror(values: Bundle): Bundle {
  return { Wood: values.Gold, Gold: values.Wood };
}

/** My gain and the opponent's (mirror-guessed) gain if I receive `get` and give `give`. */
function gains(values: Bundle, get: Bundle, give: Bundle): { mine: number; theirs: number } {
  const theirValues = mirror(values);
  return {
    mine: bundleValue(get, values) - bundleValue(give, values),
    theirs: bundleValue(give, theirValues) - bundleValue(get, theirValues),
  };
}

/** The best single-resource proposal for me, or null when none leaves the opponent a gain. */
export function bestProposal(info: NegotiationInfoState): { give: Bundle; receive: Bundle } | null {
  let best: { give: Bundle; receive: Bundle; margin: number; mine: number } | null = null;
  const [low, high] = info.values.Wood <= info.values.Gold ? (["Wood", "Gold"] as const) : (["Gold", "Wood"] as const);
  for (let a = 1; a <= Math.min(10, info.inventory[low]); a++) {
    for (let b = 1; b <= Math.min(10, info.opponentInventory[high]); b++) {
      const give = { Wood: 0, Gold: 0, [low]: a } as Bundle;
      const receive = { Wood: 0, Gold: 0, [high]: b } as Bundle;
      const { mine, theirs } = gains(info.values, receive, give);
      if (mine <= 0 || theirs < MIN_OPPONENT_GAIN) continue;
      const margin = mine - theirs;
      if (best === null || margin > best.margin || (margin === best.margin && mine > best.mine)) {
        best = { give, receive, margin, mine };
      }
    }
  }
  return best === null ? null : { give: best.give, receive: best.receive };
}

export function negotiationHeuristicAgent(name = "negotiation-heuristic"): Agent {
  return {
    name,
    act(observation) {
      const info = observation.infoState;
      if (!isNegotiationInfo(info)) {
        return Promise.reject(new Error(`${name} plays SimpleNegotiation only: expected a negotiation infoState`));
      }
      const open = info.offer !== null && info.offer.from !== info.seat ? info.offer : null;
      if (open !== null) {
        // I would receive what the proposer gives and pay what it asks for.
        const { mine, theirs } = gains(info.values, open.give, open.receive);
        const canPay = info.inventory.Wood >= open.receive.Wood && info.inventory.Gold >= open.receive.Gold;
        if (canPay && mine > 0 && mine > theirs) return Promise.resolve({ action: "That works for me. [Accept]" });
      }
      const proposal = bestProposal(info);
      if (proposal !== null) {
        const offer = formatOffer(proposal.give, proposal.receive);
        return Promise.resolve({ action: `Here is a trade that helps us both. ${offer}` });
      }
      return Promise.resolve({ action: open !== null ? "No, thank you. [Deny]" : "I have nothing to offer right now." });
    },
  };
}
