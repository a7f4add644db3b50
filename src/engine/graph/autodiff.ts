/**
 * Reverse-mode automatic differentiation over a recorded `Graph`.
 *
 * `gradients(g, loss, wrt)` appends the backward pass to the same graph, so one session run yields
 * the forward outputs and the gradients together. The algorithm:
 * 1. forward sweep: a value "requires grad" if it is in `wrt` or is an output of a node with a VJP
 *    rule and at least one input that requires grad;
 * 2. seed ∂loss/∂loss = 1 (or the given seed);
 * 3. walk nodes in reverse recording order (a valid reverse topological order); for a node with an
 *    incoming gradient and an input that requires grad, call its VJP rule with `wants` set exactly for
 *    those inputs; gradients reaching one value from several consumers are summed.
 * Only nodes on a path wrt → loss are differentiated (unused gradients are never built), and
 * serialisation drops whatever no graph output uses.
 */
import type { Graph, Tensor } from "./builder.js";
import { shapeToString } from "./builder.js";
import { vjpRules } from "./ops/index.js";

export function gradients(g: Graph, loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): (Tensor | undefined)[] {
  if (!seed && loss.shape.length !== 0) {
    throw new Error(`gradients: loss must be a scalar (rank 0) or a seed must be given; got shape ${shapeToString(loss.shape)}`);
  }
  const requires = new Set(wrt.map((t) => t.name));
  for (const node of g.nodes) {
    if (!vjpRules[node.opType] && !g.customVjps.has(node.outputs[0]?.name ?? "")) continue;
    if (node.inputs.some((i) => i !== undefined && requires.has(i.name))) for (const o of node.outputs) requires.add(o.name);
  }
  if (!requires.has(loss.name)) return wrt.map(() => undefined);

  const pending = new Map<string, Tensor[]>();
  const accumulate = (t: Tensor, grad: Tensor): void => {
    const list = pending.get(t.name);
    if (list) list.push(grad);
    else pending.set(t.name, [grad]);
  };
  const total = (name: string): Tensor | undefined => {
    const list = pending.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const first = list[0] as Tensor;
    // WebGPU has no Sum kernel: there the terms are added left to right, one Add each.
    const sum =
      g.target === "webgpu"
        ? list.slice(1).reduce((acc, t) => g.op1("Add", [acc, t], {}, { dtype: acc.dtype, shape: acc.shape }), first)
        : g.op1("Sum", list, {}, { dtype: first.dtype, shape: first.shape });
    pending.set(name, [sum]);
    return sum;
  };
  accumulate(loss, seed ?? g.scalar(1, loss.dtype));

  const lossIndex = g.nodes.findIndex((n) => n.outputs.some((o) => o.name === loss.name));
  for (let i = lossIndex; i >= 0; i--) {
    const node = g.nodes[i];
    if (!node) continue;
    const custom = node.outputs.length === 1 ? g.customVjps.get((node.outputs[0] as Tensor).name) : undefined;
    if (custom) {
      const d = total((node.outputs[0] as Tensor).name);
      const wantsC = custom.inputs.map((inp) => requires.has(inp.name));
      if (!d || !wantsC.some(Boolean)) continue;
      // The composite's internal nodes receive no gradient through this output.
      pending.delete((node.outputs[0] as Tensor).name);
      const dx = custom.rule(g, d, wantsC);
      custom.inputs.forEach((inp, k) => {
        const dk = dx[k];
        if (dk && wantsC[k]) accumulate(inp, dk);
      });
      continue;
    }
    const rule = vjpRules[node.opType];
    if (!rule) continue;
    const wants = node.inputs.map((inp) => inp !== undefined && requires.has(inp.name));
    if (!wants.some(Boolean)) continue;
    const dy = node.outputs.map((o) => total(o.name));
    if (dy.every((d) => d === undefined)) continue;
    const dx = rule(g, node, dy, wants);
    node.inputs.forEach((inp, k) => {
      const d = dx[k];
      if (!inp || !d || !wants[k]) return;
      if (d.shape.length !== inp.shape.length) {
        throw new Error(`${node.opType} VJP returned shape ${shapeToString(d.shape)} for input ${shapeToString(inp.shape)}`);
      }
      accumulate(inp, d);
    });
  }
  return wrt.map((t) => total(t.name));
}
