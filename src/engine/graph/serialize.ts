/**
 * Graph → ONNX ModelProto bytes (via the `onnx-proto` protobuf classes).
 *
 * Only nodes that some graph output depends on are written (dead-code elimination), so a graph can
 * record helper values freely and the autodiff can emit gradients that nobody fetches.
 * Opset 18 of the default domain: ReduceSum/ReduceMean/ReduceMax take axes as an input, ScatterND and
 * ScatterElements support reduction="add", and onnxruntime 1.30 implements all of it on CPU.
 */
import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";
import type { Attr, ConstantData, DType, Graph, NodeRecord, Tensor } from "./builder.js";

const { onnx } = onnxProto;

export const OPSET = 18;
const IR_VERSION = 8;

const elemType: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint16: onnx.TensorProto.DataType.UINT16,
  uint32: onnx.TensorProto.DataType.UINT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

function tensorProto(name: string, data: ConstantData): Onnx.ITensorProto {
  const n = data.values.length;
  let raw: Uint8Array;
  switch (data.dtype) {
    case "float32":
      raw = new Uint8Array(Float32Array.from(data.values).buffer);
      break;
    case "float64":
      raw = new Uint8Array(Float64Array.from(data.values).buffer);
      break;
    case "int64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(data.values[i] as number);
      raw = new Uint8Array(a.buffer);
      break;
    }
    case "int32":
      raw = new Uint8Array(Int32Array.from(data.values).buffer);
      break;
    case "uint16":
      raw = new Uint8Array(Uint16Array.from(data.values).buffer);
      break;
    case "uint32":
      raw = new Uint8Array(Uint32Array.from(data.values).buffer);
      break;
    case "bool":
      raw = Uint8Array.from(data.values, (v) => (v ? 1 : 0));
      break;
  }
  return { name, dims: [...data.shape], dataType: elemType[data.dtype], rawData: raw };
}

function attributeProto(name: string, a: Attr): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return { name, type: T.INT, i: a.value };
    case "float":
      return { name, type: T.FLOAT, f: a.value };
    case "string":
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case "ints":
      return { name, type: T.INTS, ints: [...a.value] };
    case "floats":
      return { name, type: T.FLOATS, floats: [...a.value] };
    case "tensor":
      return { name, type: T.TENSOR, t: tensorProto("", a.value) };
  }
}

function valueInfo(t: Tensor): Onnx.IValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: elemType[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Nodes needed to compute the graph outputs, in recording (topological) order. */
export function liveNodes(g: Graph): NodeRecord[] {
  const needed = new Set(g.outputs.map((o) => o.name));
  const live = new Set<NodeRecord>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i] as NodeRecord;
    if (!node.outputs.some((o) => needed.has(o.name))) continue;
    live.add(node);
    for (const inp of node.inputs) if (inp) needed.add(inp.name);
  }
  return g.nodes.filter((n) => live.has(n));
}

export function toModelProto(g: Graph): Onnx.ModelProto {
  const nodes = liveNodes(g);
  const used = new Set<string>(g.outputs.map((o) => o.name));
  for (const n of nodes) for (const i of n.inputs) if (i) used.add(i.name);
  const initializer: Onnx.ITensorProto[] = [];
  for (const [name, data] of g.constants) if (used.has(name)) initializer.push(tensorProto(name, data));
  const graph: Onnx.IGraphProto = {
    name: g.name,
    node: nodes.map((n, k) => ({
      name: `n${k}_${n.opType}`,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs.map((i) => i?.name ?? ""),
      output: n.outputs.map((o) => o.name),
      attribute: Object.entries(n.attrs).map(([name, a]) => attributeProto(name, a)),
    })),
    initializer,
    // Every declared input stays, used or not, so feeds are the same for every variant of a graph.
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
  const domains = new Set(nodes.map((n) => n.domain).filter((d) => d !== ""));
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "spiral",
    opsetImport: [{ domain: "", version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph,
  });
}

export function serialize(g: Graph): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(g)).finish();
}

