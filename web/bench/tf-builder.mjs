// Builds a TensorFlow.js function from a workload's op list (W.tf.json, made
// by tools/make-bench-models.py from the ONNX graph itself, in NHWC with the
// weights already in TF layouts). Every op is checked when the model is
// built, so an op this file does not know fails loudly before any timing.

// For each op: the fields it must carry, and how it runs. `v(name)` looks up
// a value computed earlier; `w(name)` a weight tensor.
const OPS = {
  conv2d: {
    fields: ['input', 'filter', 'strides', 'dilations', 'pad', 'activation'],
    run: (tf, op, v, w) => tf.fused.conv2d({
      x: v(op.input), filter: w(op.filter), strides: op.strides, pad: op.pad, dataFormat: 'NHWC',
      dilations: op.dilations, bias: op.bias ? w(op.bias) : undefined, activation: op.activation,
    }),
  },
  depthwiseConv2d: {
    fields: ['input', 'filter', 'strides', 'dilations', 'pad', 'activation'],
    run: (tf, op, v, w) => tf.fused.depthwiseConv2d({
      x: v(op.input), filter: w(op.filter), strides: op.strides, pad: op.pad, dataFormat: 'NHWC',
      dilations: op.dilations, bias: op.bias ? w(op.bias) : undefined, activation: op.activation,
    }),
  },
  matMul: {
    fields: ['input', 'b', 'activation'],
    run: (tf, op, v, w) => tf.fused.matMul({
      a: v(op.input), b: w(op.b), bias: op.bias ? w(op.bias) : undefined, activation: op.activation,
    }),
  },
  relu: { fields: ['input'], run: (tf, op, v) => tf.relu(v(op.input)) },
  relu6: { fields: ['input'], run: (tf, op, v) => tf.relu6(v(op.input)) },
  clip: { fields: ['input', 'min', 'max'], run: (tf, op, v) => tf.clipByValue(v(op.input), op.min, op.max) },
  sigmoid: { fields: ['input'], run: (tf, op, v) => tf.sigmoid(v(op.input)) },
  tanh: { fields: ['input'], run: (tf, op, v) => tf.tanh(v(op.input)) },
  maxPool: {
    fields: ['input', 'filterSize', 'strides', 'pad'],
    run: (tf, op, v) => tf.maxPool(v(op.input), op.filterSize, op.strides, op.pad),
  },
  avgPool: {
    fields: ['input', 'filterSize', 'strides', 'pad'],
    run: (tf, op, v) => tf.avgPool(v(op.input), op.filterSize, op.strides, op.pad),
  },
  pad: { fields: ['input', 'paddings', 'value'], run: (tf, op, v) => tf.pad(v(op.input), op.paddings, op.value) },
  mean: { fields: ['input', 'axes', 'keepDims'], run: (tf, op, v) => tf.mean(v(op.input), op.axes, op.keepDims) },
  max: { fields: ['input', 'axes', 'keepDims'], run: (tf, op, v) => tf.max(v(op.input), op.axes, op.keepDims) },
  concat: { fields: ['inputs', 'axis'], run: (tf, op, v) => tf.concat(op.inputs.map(v), op.axis) },
  add: { fields: ['operands'], run: (tf, op, v, w) => tf.add(...operands(op, v, w)) },
  sub: { fields: ['operands'], run: (tf, op, v, w) => tf.sub(...operands(op, v, w)) },
  mul: { fields: ['operands'], run: (tf, op, v, w) => tf.mul(...operands(op, v, w)) },
  div: { fields: ['operands'], run: (tf, op, v, w) => tf.div(...operands(op, v, w)) },
  reshape: { fields: ['input', 'shape'], run: (tf, op, v) => tf.reshape(v(op.input), op.shape) },
  transpose: { fields: ['input', 'perm'], run: (tf, op, v) => tf.transpose(v(op.input), op.perm) },
  softmax: { fields: ['input'], run: (tf, op, v) => tf.softmax(v(op.input)) },
};

const ACTIVATIONS = new Set(['linear', 'relu', 'relu6']);

function operands(op, v, w) {
  if (op.operands.length !== 2) throw new Error(`tf-builder: ${op.op} '${op.output}' needs 2 operands`);
  return op.operands.map((o) => ('weight' in o ? w(o.weight) : v(o.value)));
}

// spec: the parsed W.tf.json; weightData: Float32Array of W.tf.bin.
// Returns { weights, predict(x) -> tf.Tensor, dispose() }; predict is meant
// to run inside tf.tidy.
export function buildTfModel(tf, spec, weightData) {
  // Check every op first: an unknown op or a missing field is an error now.
  const known = new Set([spec.input.name]);
  const weightNames = new Set(spec.weights.map((x) => x.name));
  for (const op of spec.ops) {
    const def = OPS[op.op];
    if (!def) throw new Error(`tf-builder: unknown op '${op.op}' (output '${op.output}'); add it to web/bench/tf-builder.mjs`);
    for (const f of def.fields) {
      if (!(f in op)) throw new Error(`tf-builder: ${op.op} '${op.output}' lacks field '${f}'`);
    }
    if ('activation' in op && !ACTIVATIONS.has(op.activation)) {
      throw new Error(`tf-builder: ${op.op} '${op.output}': unknown activation '${op.activation}'`);
    }
    const inputs = [op.input, ...(op.inputs ?? []), ...(op.operands ?? []).map((o) => o.value)].filter((x) => x !== undefined);
    for (const i of inputs) {
      if (!known.has(i)) throw new Error(`tf-builder: ${op.op} '${op.output}' reads '${i}' before it is made`);
    }
    for (const key of ['filter', 'bias', 'b']) {
      if (op[key] !== undefined && !weightNames.has(op[key])) throw new Error(`tf-builder: ${op.op} '${op.output}': no weight '${op[key]}'`);
    }
    for (const o of op.operands ?? []) {
      if ('weight' in o && !weightNames.has(o.weight)) throw new Error(`tf-builder: ${op.op} '${op.output}': no weight '${o.weight}'`);
    }
    known.add(op.output);
  }
  if (!known.has(spec.output.tfValue)) throw new Error(`tf-builder: nothing makes the output '${spec.output.tfValue}'`);

  // The weights: uploaded (or, on webgl, staged for upload on first use) once.
  const weights = new Map();
  for (const x of spec.weights) {
    const data = weightData.subarray(x.offset, x.offset + x.length);
    weights.set(x.name, tf.tensor(data, x.shape, 'float32'));
  }
  const w = (name) => weights.get(name);

  function predict(input) {
    const values = new Map([[spec.input.name, input]]);
    const v = (name) => values.get(name);
    for (const op of spec.ops) values.set(op.output, OPS[op.op].run(tf, op, v, w));
    return values.get(spec.output.tfValue);
  }

  return {
    weights,
    predict,
    dispose() { for (const t of weights.values()) t.dispose(); weights.clear(); },
  };
}
