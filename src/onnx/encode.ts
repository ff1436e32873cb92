// GraphBuilder → ONNX ModelProto bytes, through onnx-proto (onnx.proto compiled for protobufjs):
// IR version 8, default-domain opset 13.
import onnxProto from 'onnx-proto';
import type { AttrValue, GraphBuilder, Value } from './graph.js';

const { onnx } = onnxProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const OPSET = 13;
const IR_VERSION = 8;
const AttrType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;

export interface EncodeOptions {
  /** Shown in tools such as Netron. */
  graphName?: string;
  docString?: string;
  /** Key/value pairs stored in the model's metadata_props (classes, input spec ...). */
  metadata?: Record<string, string>;
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer (use { float })`);
    return { name, type: AttrType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  return { name, type: AttrType.FLOATS, floats: v.floats };
}

function valueInfo(v: Value): IValueInfoProto {
  const dim = v.shape.map((d) => (d < 0 ? { dimParam: 'N' } : { dimValue: d }));
  const elemType = v.type === 'uint8' ? DataType.UINT8 : DataType.FLOAT;
  return { name: v.name, type: { tensorType: { elemType, shape: { dim } } } };
}

export function encodeModel(g: GraphBuilder, options: EncodeOptions = {}): Uint8Array {
  // raw little-endian bytes: compact and fast to parse (x86/ARM hosts are little-endian)
  const initializer = [...g.initializers.values()].map((t) => ({
    name: t.name,
    dims: t.dims,
    dataType: t.data instanceof Float32Array ? DataType.FLOAT : t.data instanceof Int8Array ? DataType.INT8 : DataType.INT64,
    rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'ferkit',
    opsetImport: [{ domain: '', version: OPSET }],
    docString: options.docString,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? 'ferkit',
      node: g.nodes.map((n) => ({
        opType: n.op,
        name: n.name,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Decodes a model (tests and tools inspect what was written). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
