// Building an ONNX graph: nodes, constant tensors (initializers) and the model file around
// them, in ONNX's own protobuf schema (the onnx-proto package: protobufjs code generated from
// onnx.proto). Names are made unique here, so a graph is written as a sequence of calls that
// each return the name of what they produce.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** An attribute value: an integer, a float (wrapped), a list of integers, or a string. */
export type AttrValue = number | { float: number } | number[] | string;

const ATTRIBUTE = onnx.AttributeProto.AttributeType;
const DATA = onnx.TensorProto.DataType;

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') return { name, type: ATTRIBUTE.INT, i: value };
  if (typeof value === 'string') return { name, type: ATTRIBUTE.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: ATTRIBUTE.INTS, ints: value };
  return { name, type: ATTRIBUTE.FLOAT, f: value.float };
}

/** A tensor's type and shape for the graph's inputs and outputs; strings are symbolic (the batch). */
export function tensorInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DATA.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  private fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** A float32 constant of the given shape. */
  floats(values: ArrayLike<number>, dims: number[], hint = 'const'): string {
    const name = this.fresh(hint);
    const data = Float32Array.from(values);
    this.initializers.push({ name, dims, dataType: DATA.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** An int64 constant (shapes, axes, indices); `dims` [] for a scalar. */
  ints(values: readonly number[], dims: number[] = [values.length], hint = 'ints'): string {
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: DATA.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** One node; returns the name of its (first) output. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = type.toLowerCase()): string {
    return this.opMany(type, inputs, 1, attrs, hint)[0]!;
  }

  /** A node with several outputs. */
  opMany(type: string, inputs: string[], outputs: number, attrs: Record<string, AttrValue> = {}, hint = type.toLowerCase()): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(hint));
    this.nodes.push({
      opType: type,
      name: this.fresh(`${hint}_node`),
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** Gives a value its final name (a graph output), as an Identity node. */
  name(value: string, as: string): string {
    this.nodes.push({ opType: 'Identity', name: this.fresh('output_node'), input: [value], output: [as], attribute: [] });
    return as;
  }
}

export interface ModelParts {
  graph: GraphBuilder;
  name: string;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** metadata_props: free-form key/value strings a reader of the file can rely on. */
  metadata: Record<string, string>;
  producerVersion: string;
  opset: number;
}

/** The ONNX file of a graph (IR version 8). */
export function encodeModel(m: ModelParts): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'mek',
    producerVersion: m.producerVersion,
    opsetImport: [{ domain: '', version: m.opset }],
    metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
    graph: { name: m.name, node: m.graph.nodes, initializer: m.graph.initializers, input: m.inputs, output: m.outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The model of an ONNX file, decoded (for its metadata and checks). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
