// What the package reads or changes in a model's bytes before the engine
// sees them.
//
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

// A relative file name, as a model's tensors give their external data's
// location ("weights/a.bin", "./a.bin"): no scheme, no leading slash, no "..".
export function relativeFileName(path) {
  return !/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[\\/]/.test(path) && !path.split(/[\\/]/).includes('..') &&
    path.split(/[\\/]/).some((s) => s !== '' && s !== '.');
}

// The name a string (or URL) externalData entry is matched by: itself when
// it is a relative file name, else the last segment of its path
// ("https://host/m/model.onnx_data?v=2" -> "model.onnx_data").
export function externalDataName(url) {
  if (relativeFileName(url)) return url;
  const path = url.replace(/[?#].*$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

// The external data files a model's tensors name (TensorProto
// data_location EXTERNAL = 1, external_data entries with key "location"):
// its initializers' and its nodes' tensor attributes', subgraphs included
// ([] for bytes that do not parse: the engine reports those).
// Under Node a model read from a file gets them read from beside it.
//
// Field numbers: ModelProto.graph 7; GraphProto.node 1, initializer 5;
// NodeProto.attribute 5; AttributeProto.t 5, g 6, tensors 10, graphs 11;
// TensorProto.external_data 13, data_location 14; StringStringEntryProto
// key 1, value 2.
export function externalDataLocations(model) {
  const found = new Set();
  const text = (buf) => new TextDecoder().decode(buf);
  const tensor = (buf) => {
    let external = false;
    const locations = [];
    fields(buf, (field, wire, start, end, valueStart) => {
      if (field === 14 && wire === 0) external = readVarint(buf, valueStart)[0] === 1;
      if (field !== 13 || wire !== 2) return;
      let key = '', value = '';
      const entry = buf.subarray(valueStart, end);
      fields(entry, (f, w, s, e, vs) => {
        if (w !== 2) return;
        if (f === 1) key = text(entry.subarray(vs, e));
        else if (f === 2) value = text(entry.subarray(vs, e));
      });
      if (key === 'location') locations.push(value);
    });
    if (external) for (const l of locations) found.add(l);
  };
  const graph = (buf) => fields(buf, (field, wire, start, end, valueStart) => {
    if (wire !== 2) return;
    if (field === 5) tensor(buf.subarray(valueStart, end));
    else if (field === 1) node(buf.subarray(valueStart, end));
  });
  const attribute = (buf) => fields(buf, (field, wire, start, end, valueStart) => {
    if (wire !== 2) return;
    if (field === 5 || field === 10) tensor(buf.subarray(valueStart, end));
    else if (field === 6 || field === 11) graph(buf.subarray(valueStart, end));
  });
  const node = (buf) => fields(buf, (field, wire, start, end, valueStart) => {
    if (field === 5 && wire === 2) attribute(buf.subarray(valueStart, end));
  });
  try {
    fields(model, (field, wire, start, end, valueStart) => {
      if (field === 7 && wire === 2) graph(model.subarray(valueStart, end));
    });
  } catch {
    return [];  // not a model this can read: the engine says what is wrong with it
  }
  return [...found];
}
