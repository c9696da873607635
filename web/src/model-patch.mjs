// SessionOptions.freeDimensionOverrides, done on the model's bytes before
// the engine sees them (as onnxruntime-web: a symbolic dimension named by
// dim_param, or by its denotation, becomes a fixed size): every
// TensorShapeProto.Dimension of the graph's inputs, outputs and value_info
// whose dim_param is a key gets dim_value instead. The rest of the model is
// copied byte for byte.
//
// onnx.proto field numbers used: ModelProto.graph 7; GraphProto.input 11,
// output 12, value_info 13; ValueInfoProto.type 2; TypeProto.tensor_type 1;
// TypeProto.Tensor.shape 2; TensorShapeProto.dim 1; Dimension.dim_value 1,
// dim_param 2, denotation 3.

function varintEnd(buf, pos) {
  while (pos < buf.length && buf[pos] & 0x80) pos += 1;
  if (pos >= buf.length) throw new Error('truncated varint');
  return pos + 1;
}

function readVarint(buf, pos) {
  let value = 0, scale = 1, b;
  do {
    if (pos >= buf.length) throw new Error('truncated varint');
    b = buf[pos++];
    value += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  return [value, pos];
}

function varint(n) {
  const out = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

// Calls visit(field, wire, start, end, valueStart) for each field of the message in buf.
function fields(buf, visit) {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8), wire = key % 8;
    let valueStart = pos;
    if (wire === 0) pos = varintEnd(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, valueStart] = readVarint(buf, pos);
      pos = valueStart + len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated field');
    visit(field, wire, start, pos, valueStart);
  }
}

// A copy of the message with the length-delimited fields in `handlers`
// replaced by handler(bytes) (null: unchanged); the same array when nothing changed.
function rewrite(buf, handlers) {
  const parts = [];
  let changed = false;
  fields(buf, (field, wire, start, end, valueStart) => {
    const h = wire === 2 ? handlers[field] : undefined;
    const sub = h ? h(buf.subarray(valueStart, end)) : null;
    if (sub === null || sub === undefined) { parts.push(buf.subarray(start, end)); return; }
    changed = true;
    parts.push(Uint8Array.from([...varint(field * 8 + 2), ...varint(sub.length)]), sub);
  });
  if (!changed) return null;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

// Returns {bytes, applied: {name: count}}; bytes is the input when nothing matched.
export function applyFreeDimensionOverrides(model, overrides) {
  const applied = {};
  const dimension = (buf) => {
    let name = null, denotation = null;
    const keep = [];
    fields(buf, (field, wire, start, end, valueStart) => {
      if (field === 2 && wire === 2) name = new TextDecoder().decode(buf.subarray(valueStart, end));
      else if (field === 3 && wire === 2) { denotation = new TextDecoder().decode(buf.subarray(valueStart, end)); keep.push(buf.subarray(start, end)); }
    });
    const key = name !== null && Object.prototype.hasOwnProperty.call(overrides, name) ? name
      : denotation !== null && Object.prototype.hasOwnProperty.call(overrides, denotation) ? denotation : null;
    if (key === null) return null;
    applied[key] = (applied[key] ?? 0) + 1;
    const head = Uint8Array.from([0x08, ...varint(overrides[key])]);  // dim_value, field 1, varint
    const out = new Uint8Array(head.length + keep.reduce((n, p) => n + p.length, 0));
    out.set(head, 0);
    let off = head.length;
    for (const p of keep) { out.set(p, off); off += p.length; }
    return out;
  };
  const shape = (buf) => rewrite(buf, { 1: dimension });
  const tensorType = (buf) => rewrite(buf, { 2: shape });
  const type = (buf) => rewrite(buf, { 1: tensorType });
  const valueInfo = (buf) => rewrite(buf, { 2: type });
  const graph = (buf) => rewrite(buf, { 11: valueInfo, 12: valueInfo, 13: valueInfo });
  const out = rewrite(model, { 7: graph });
  return { bytes: out ?? model, applied };
}
