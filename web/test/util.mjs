// Helpers shared by the in-page tests, the API-compatibility script and the
// demo: a minimal onnx.TensorProto reader (for the models' test_data_set
// .pb files), labels, top-k, and float16 decoding.
import { halfToFloat } from '../dist/image.mjs';

export { halfToFloat };

function readVarint(buf, pos) {
  let result = 0n, shift = 0n;
  for (;;) {
    const b = buf[pos.i++];
    if (b === undefined) throw new Error('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return result;
    shift += 7n;
  }
}

// Parses the fields of onnx.TensorProto that the test data uses: dims (1),
// data_type (2), float_data (4), int32_data (5), int64_data (7), name (8),
// raw_data (9), string_data (6). Returns {name, dataType, dims, data: Float32Array | string[]}.
export function parseTensorProto(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const pos = { i: 0 };
  const t = { name: '', dataType: 0, dims: [], floats: [], ints: [], strings: [], raw: null };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const field = key >>> 3, wire = key & 7;
    if (wire === 0) {
      const v = readVarint(buf, pos);
      if (field === 1) t.dims.push(Number(v));
      else if (field === 2) t.dataType = Number(v);
      else if (field === 5 || field === 7) t.ints.push(Number(BigInt.asIntN(64, v)));
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      const sub = buf.subarray(pos.i, pos.i + len);
      pos.i += len;
      if (field === 1) { const p = { i: 0 }; while (p.i < sub.length) t.dims.push(Number(readVarint(sub, p))); }
      else if (field === 6) t.strings.push(new TextDecoder().decode(sub));
      else if (field === 4) { const f = new Float32Array(sub.slice().buffer); t.floats.push(...f); }
      else if (field === 5 || field === 7) { const p = { i: 0 }; while (p.i < sub.length) t.ints.push(Number(BigInt.asIntN(64, readVarint(sub, p)))); }
      else if (field === 8) t.name = new TextDecoder().decode(sub);
      else if (field === 9) t.raw = sub.slice();
    } else if (wire === 5) {
      if (field === 4) t.floats.push(new Float32Array(buf.slice(pos.i, pos.i + 4).buffer)[0]);
      pos.i += 4;
    } else if (wire === 1) {
      pos.i += 8;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  if (t.dataType === 8) return { name: t.name, dataType: 'string', dims: t.dims, data: t.strings };
  if (t.dataType !== 1) throw new Error(`parseTensorProto: only float32 and string test data are handled (data_type ${t.dataType})`);
  const data = t.raw ? new Float32Array(t.raw.buffer, 0, t.raw.byteLength / 4) : Float32Array.from(t.floats);
  return { name: t.name, dataType: 'float32', dims: t.dims, data };
}

export async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export async function loadLabels(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetch ${url}: HTTP ${r.status}`);
  // One label per line, optionally prefixed with its index ("285,Egyptian cat").
  return (await r.text()).split('\n').map((s) => s.trim()).filter((s) => s.length > 0)
    .map((s) => s.replace(/^\d{1,9},/, ''));
}

// Floats of a tensor's data, decoding float16 halves (a Float16Array holds numbers already).
export function floatsOf(tensor) {
  if (tensor.type === 'float16' && tensor.data instanceof Uint16Array) return Float32Array.from(tensor.data, halfToFloat);
  return Float32Array.from(tensor.data, Number);
}

export function topK(values, k, labels) {
  const idx = Array.from(values.keys()).sort((a, b) => values[b] - values[a]).slice(0, k);
  return idx.map((i) => ({ index: i, label: labels ? labels[i] : String(i), prob: values[i] }));
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
}

// How models.json says SqueezeNet is fed: BGR 0-255 minus the mean, short
// side 256, centre crop 224, float16 NCHW.
export const SQUEEZENET_IMAGE_OPTIONS = {
  resizedWidth: 224, resizedHeight: 224, shortSide: 256,
  tensorFormat: 'BGR', tensorLayout: 'NCHW', mean: [104, 117, 123], scale: 1, dataType: 'float16',
};
