/**
 * The contract of a vector–Jacobian product rule.
 *
 * For a node y = f(x₀, x₁, …) and the gradient of a scalar loss L with respect to each output
 * (`dy[k]` = ∂L/∂yₖ, `undefined` when no gradient flows into that output), a rule records nodes
 * computing ∂L/∂xᵢ = Σₖ dy[k] · ∂yₖ/∂xᵢ for every input i with `wants[i]` true, and returns them
 * (`undefined` for inputs that are not wanted or not differentiable). A returned gradient has exactly
 * the static shape of its input: rules undo broadcasting with `sumToShape`.
 */
import type { Graph, NodeRecord, Tensor } from "../builder.js";

export type VjpRule = (
  g: Graph,
  node: NodeRecord,
  dy: readonly (Tensor | undefined)[],
  wants: readonly boolean[],
) => (Tensor | undefined)[];

/** Input i of a node, which the rule knows to be present. */
export function inputOf(node: NodeRecord, i: number): Tensor {
  const t = node.inputs[i];
  if (!t) throw new Error(`${node.opType}: input ${i} is missing`);
  return t;
}

export function outputOf(node: NodeRecord, i = 0): Tensor {
  const t = node.outputs[i];
  if (!t) throw new Error(`${node.opType}: output ${i} is missing`);
  return t;
}

export function intAttr(node: NodeRecord, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.kind !== "int") throw new Error(`${node.opType}: attribute ${name} should be an int`);
  return a.value;
}

export function intsAttr(node: NodeRecord, name: string): readonly number[] | undefined {
  const a = node.attrs[name];
  if (a === undefined) return undefined;
  if (a.kind !== "ints") throw new Error(`${node.opType}: attribute ${name} should be ints`);
  return a.value;
}
