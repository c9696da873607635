// Reference outputs for the model zoo: runs an ONNX model with
// onnxruntime-node (CPU execution provider, the version package-lock.json
// pins) on the input_<k>.pb files of ONNX node-test data set folders and
// writes output_<k>.pb beside them, one per graph output in graph order, each
// TensorProto named after its output.
//
//   node ort_reference.mjs MODEL.onnx SET_DIR [SET_DIR...]
//
// TensorProto is read and written by the small codec below rather than a
// protobuf library so the tool needs nothing but onnxruntime-node. It reads
// the fields onnx.numpy_helper and ONNX's own test data use (dims, data_type,
// name, raw_data and the typed repeated fields) and writes dims, data_type,
// name and raw_data.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

// ONNX TensorProto.DataType -> [ort type name, typed array, bytes per element]
const DTYPES = {
  1: ['float32', Float32Array, 4],
  2: ['uint8', Uint8Array, 1],
  3: ['int8', Int8Array, 1],
  4: ['uint16', Uint16Array, 2],
  5: ['int16', Int16Array, 2],
  6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8],
  9: ['bool', Uint8Array, 1],
  10: ['float16', Uint16Array, 2],
  11: ['float64', Float64Array, 8],
  12: ['uint32', Uint32Array, 4],
  13: ['uint64', BigUint64Array, 8],
};
const ORT_TO_ONNX = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v[0], Number(k)]));

// --- protobuf wire format -------------------------------------------------
function readVarint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos.i++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
}

function decodeTensor(buf, file) {
  const pos = { i: 0 };
  const t = { dims: [], dataType: 0, name: '', raw: null, repeated: [] };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      const v = readVarint(buf, pos);
      if (field === 1) t.dims.push(Number(BigInt.asIntN(64, v)));
      else if (field === 2) t.dataType = Number(v);
      else if (field === 5 || field === 7 || field === 11) t.repeated.push(v);
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      const body = buf.subarray(pos.i, pos.i + len);
      pos.i += len;
      if (field === 8) t.name = new TextDecoder().decode(body);
      else if (field === 9) t.raw = body;
      else if (field === 1 || field === 5 || field === 7 || field === 11) {
        // packed varints
        const p = { i: 0 };
        while (p.i < body.length) {
          const v = readVarint(body, p);
          if (field === 1) t.dims.push(Number(BigInt.asIntN(64, v)));
          else t.repeated.push(v);
        }
      } else if (field === 4 || field === 10) {
        // packed float / double
        const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
        const step = field === 4 ? 4 : 8;
        for (let o = 0; o < body.length; o += step) {
          t.repeated.push(field === 4 ? dv.getFloat32(o, true) : dv.getFloat64(o, true));
        }
      } else if (field !== 6 && field !== 3 && field !== 12 && field !== 13 && field !== 14 && field !== 16) {
        throw new Error(`${file}: TensorProto field ${field} not supported`);
      }
    } else if (wire === 5) {
      const dv = new DataView(buf.buffer, buf.byteOffset + pos.i, 4);
      if (field === 4) t.repeated.push(dv.getFloat32(0, true));
      pos.i += 4;
    } else if (wire === 1) {
      const dv = new DataView(buf.buffer, buf.byteOffset + pos.i, 8);
      if (field === 10) t.repeated.push(dv.getFloat64(0, true));
      pos.i += 8;
    } else {
      throw new Error(`${file}: protobuf wire type ${wire} not supported`);
    }
  }
  const dt = DTYPES[t.dataType];
  if (!dt) throw new Error(`${file}: tensor '${t.name}' has ONNX data type ${t.dataType}, not supported here`);
  const [type, Arr, size] = dt;
  const count = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    // Copy: raw_data's offset in the file need not be aligned for the array.
    const copy = new Uint8Array(t.raw.length);
    copy.set(t.raw);
    data = new Arr(copy.buffer, 0, t.raw.length / size);
  } else {
    data = new Arr(count);
    for (let i = 0; i < count; i++) {
      const v = t.repeated[i];
      if (Arr === BigInt64Array) data[i] = BigInt.asIntN(64, BigInt(v));
      else if (Arr === BigUint64Array) data[i] = BigInt.asUintN(64, BigInt(v));
      else data[i] = Number(v);
    }
  }
  if (data.length !== count) {
    throw new Error(`${file}: tensor '${t.name}' has ${data.length} values for dims [${t.dims}]`);
  }
  return { name: t.name, tensor: new ort.Tensor(type, data, t.dims) };
}

function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function encodeTensor(name, tensor) {
  const dataType = ORT_TO_ONNX[tensor.type];
  if (!dataType) throw new Error(`output '${name}': ort type ${tensor.type} not supported here`);
  const parts = [];
  for (const d of tensor.dims) parts.push(Uint8Array.from([0x08, ...varint(d)]));
  parts.push(Uint8Array.from([0x10, ...varint(dataType)]));
  const nameBytes = new TextEncoder().encode(name);
  parts.push(Uint8Array.from([0x42, ...varint(nameBytes.length)]), nameBytes);
  const d = tensor.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  parts.push(Uint8Array.from([0x4a, ...varint(raw.length)]), raw);
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

// --- main ---------------------------------------------------------------
const [modelPath, ...sets] = process.argv.slice(2);
if (!modelPath || sets.length === 0) {
  console.error('usage: node ort_reference.mjs MODEL.onnx SET_DIR [SET_DIR...]');
  process.exit(2);
}
// Single-threaded and no graph rewrites beyond the basic ones, so the
// reference is what the graph computes as written (and the 2-core machine
// stays usable).
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'basic',
});
for (const dir of sets) {
  const files = fs.readdirSync(dir).filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
  const feeds = {};
  files.forEach((f, k) => {
    const file = path.join(dir, f);
    const { name, tensor } = decodeTensor(fs.readFileSync(file), file);
    feeds[name || session.inputNames[k]] = tensor;
  });
  const t0 = performance.now();
  const results = await session.run(feeds);
  const ms = performance.now() - t0;
  session.outputNames.forEach((name, k) => {
    fs.writeFileSync(path.join(dir, `output_${k}.pb`), encodeTensor(name, results[name]));
  });
  console.log(`${dir}: ${session.outputNames.length} outputs, ${ms.toFixed(1)} ms`);
}
