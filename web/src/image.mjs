// Tensor.fromImage: pixels -> a normalised NCHW / NHWC tensor.
//
// Options (onnxruntime-web's names where it has them):
//   resizedWidth, resizedHeight  output size (default: the image's size)
//   shortSide                    resize so the shorter side is this many pixels
//                                (aspect kept), then centre-crop to
//                                resizedWidth x resizedHeight; without it the
//                                image is stretched to that size
//   tensorFormat                 'RGB' (default) | 'BGR' | 'RGBA' | 'BGRA' | 'GRAY'
//                                (GRAY = ITU-R BT.601 luma)
//   tensorLayout                 'NCHW' (default) | 'NHWC'
//   dataType                     'float32' (default) | 'float16' | 'uint8'
//   mean, scale                  per channel (in tensorFormat's order) or one
//                                number: v = (pixel - mean) * scale, pixel 0..255
//   norm: {mean, bias}           onnxruntime-web's form: v = (pixel + bias) / mean
//                                (with neither: v = pixel / 255, as onnxruntime-web)
//   invert                       v = 255 - pixel first (dark digit on light paper)
//   smoothing                    canvas imageSmoothingQuality: 'high' (default), 'medium', 'low'
// Sources: HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap,
// HTMLVideoElement, ImageData, or a URL string (fetched and decoded).

const FORMATS = {
  RGB: [0, 1, 2], BGR: [2, 1, 0], RGBA: [0, 1, 2, 3], BGRA: [2, 1, 0, 3], GRAY: ['luma'], L: ['luma'],
};

function fail(message) {
  return new Error(`Tensor.fromImage: ${message}`);
}

function sourceSize(img) {
  const w = img.naturalWidth || img.videoWidth || img.displayWidth || img.width;
  const h = img.naturalHeight || img.videoHeight || img.displayHeight || img.height;
  return [w, h];
}

function makeCanvas(w, h) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(w, h);
  if (typeof document !== 'undefined') {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    return c;
  }
  throw fail('no canvas available to resize the image (neither OffscreenCanvas nor document)');
}

async function loadUrl(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw fail(`failed to fetch ${url}: ${e && e.message ? e.message : e}`);
  }
  if (!res.ok) throw fail(`failed to fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const blob = await res.blob();
  try {
    return await createImageBitmap(blob);
  } catch (e) {
    throw fail(`${url} is not an image the browser can decode (${blob.type || 'unknown type'})`);
  }
}

function isImageData(x) {
  return typeof ImageData !== 'undefined' ? x instanceof ImageData
    : !!(x && x.data instanceof Uint8ClampedArray && typeof x.width === 'number');
}

// onnxruntime-web's norm.mean / norm.bias: one number, or one per image
// channel R, G, B (A optional, default dflt).
function rgbaNorm(v, name, dflt, error) {
  if (v === undefined) return [dflt, dflt, dflt, dflt];
  if (typeof v === 'number') return [v, v, v, v];
  if ((Array.isArray(v) || ArrayBuffer.isView(v)) && v.length >= 3) return [Number(v[0]), Number(v[1]), Number(v[2]), Number(v[3] ?? dflt)];
  throw error(`${name} must be a number or an array of 3 or 4 numbers (R, G, B[, A])`);
}

function perChannel(v, n, name, dflt) {
  if (v === undefined) return new Array(n).fill(dflt);
  if (typeof v === 'number') return new Array(n).fill(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = Array.from(v, Number);
    if (a.length === 1) return new Array(n).fill(a[0]);
    if (a.length >= n) return a.slice(0, n);
  }
  throw fail(`${name} must be a number or an array of ${n} numbers`);
}

// float32 -> IEEE half bits, round to nearest even.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function floatToHalf(v) {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);  // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;  // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign;  // underflow -> 0
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h += 1;  // may carry into the exponent: correct
  return sign | h;
}

export function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// Returns RGBA bytes of the (resized, cropped) image and its size.
async function pixels(image, o) {
  let src = image;
  if (typeof src === 'string' || (typeof URL !== 'undefined' && src instanceof URL)) src = await loadUrl(String(src));
  if (src && typeof src.decode === 'function' && src.complete === false) {
    try { await src.decode(); } catch (e) { throw fail(`the image failed to load (${src.src || 'no src'})`); }
  }
  if (src === null || typeof src !== 'object') throw fail(`expected an image, canvas, ImageBitmap or ImageData, got ${src === null ? 'null' : typeof src}`);
  let [w, h] = isImageData(src) ? [src.width, src.height] : sourceSize(src);
  if (!(w > 0 && h > 0)) throw fail(`the image has no pixels (${w}x${h}); is it loaded?`);
  const W = o.resizedWidth ?? (o.shortSide ? undefined : w);
  const H = o.resizedHeight ?? (o.shortSide ? undefined : h);
  const outW = W ?? Math.round(w * (o.shortSide / Math.min(w, h)));
  const outH = H ?? Math.round(h * (o.shortSide / Math.min(w, h)));
  if (!(Number.isInteger(outW) && outW > 0 && Number.isInteger(outH) && outH > 0)) {
    throw fail(`resizedWidth/resizedHeight must be positive integers (got ${outW}x${outH})`);
  }
  // Source rectangle: the whole image (stretch) or the centre crop of the
  // short-side resize, mapped back to source pixels so that one drawImage does
  // the resize and the crop.
  let sx = 0, sy = 0, sw = w, sh = h;
  if (o.shortSide) {
    const scale = o.shortSide / Math.min(w, h);
    const rw = Math.round(w * scale), rh = Math.round(h * scale);
    if (outW > rw || outH > rh) throw fail(`crop ${outW}x${outH} is larger than the resized image ${rw}x${rh}`);
    const cx = Math.floor((rw - outW) / 2), cy = Math.floor((rh - outH) / 2);
    const fx = w / rw, fy = h / rh;
    sx = cx * fx; sy = cy * fy; sw = outW * fx; sh = outH * fy;
  }
  if (isImageData(src) && sx === 0 && sy === 0 && sw === outW && sh === outH) {
    return { rgba: src.data, width: outW, height: outH };
  }
  if (isImageData(src)) {
    if (typeof createImageBitmap !== 'function') throw fail('resizing ImageData needs createImageBitmap');
    src = await createImageBitmap(src);
  }
  const canvas = makeCanvas(outW, outH);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw fail('could not get a 2D canvas context');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = o.smoothing ?? 'high';
  ctx.drawImage(src, sx, sy, sw, sh, 0, 0, outW, outH);
  return { rgba: ctx.getImageData(0, 0, outW, outH).data, width: outW, height: outH };
}

export async function imageToTensor(image, options = {}) {
  const o = options ?? {};
  const format = (o.tensorFormat ?? 'RGB').toUpperCase();
  const channels = FORMATS[format];
  if (!channels) throw fail(`unknown tensorFormat '${o.tensorFormat}' (RGB, BGR, RGBA, BGRA, GRAY)`);
  const layout = (o.tensorLayout ?? 'NCHW').toUpperCase();
  if (layout !== 'NCHW' && layout !== 'NHWC') throw fail(`unknown tensorLayout '${o.tensorLayout}' (NCHW or NHWC)`);
  const dataType = o.dataType ?? 'float32';
  if (!['float32', 'float16', 'uint8'].includes(dataType)) throw fail(`unsupported dataType '${dataType}' (float32, float16, uint8)`);
  const C = channels.length;
  let mean, scale;
  if (o.norm) {
    // onnxruntime-web: (p + bias) / mean, with mean[i] and bias[i] for the
    // image's channel i (R, G, B, A), whatever order tensorFormat puts them in.
    const m = rgbaNorm(o.norm.mean, 'norm.mean', 255, fail);
    const b = rgbaNorm(o.norm.bias, 'norm.bias', 0, fail);
    const source = channels.map((ch) => (ch === 'luma' ? 0 : ch));
    mean = source.map((i) => -b[i]);
    scale = source.map((i) => 1 / m[i]);
  } else if (o.mean !== undefined || o.scale !== undefined || o.std !== undefined) {
    mean = perChannel(o.mean, C, 'mean', 0);
    scale = o.std !== undefined ? perChannel(o.std, C, 'std', 1).map((x) => 1 / x) : perChannel(o.scale, C, 'scale', 1);
  } else {
    mean = new Array(C).fill(0);
    scale = new Array(C).fill(1 / 255);
  }
  const { rgba, width, height } = await pixels(image, o);
  const n = width * height;
  const out = dataType === 'float16' ? new Uint16Array(n * C) : dataType === 'uint8' ? new Uint8Array(n * C) : new Float32Array(n * C);
  const invert = !!o.invert;
  for (let c = 0; c < C; ++c) {
    const src = channels[c];
    const mc = mean[c], sc = scale[c];
    for (let i = 0; i < n; ++i) {
      let p;
      if (src === 'luma') p = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
      else p = rgba[4 * i + src];
      if (invert) p = 255 - p;
      const idx = layout === 'NCHW' ? c * n + i : i * C + c;
      if (dataType === 'uint8') out[idx] = p;
      else {
        const v = (p - mc) * sc;
        out[idx] = dataType === 'float16' ? floatToHalf(v) : v;
      }
    }
  }
  const dims = layout === 'NCHW' ? [1, C, height, width] : [1, height, width, C];
  return { type: dataType, data: out, dims };
}

// float16 data (IEEE half bits in a Uint16Array, or a Float16Array) as a Float32Array.
export function float16ToFloat32(data) {
  if (typeof Float16Array !== 'undefined' && data instanceof Float16Array) return Float32Array.from(data);
  if (!(data instanceof Uint16Array)) throw new Error(`float16ToFloat32: expected a Uint16Array of half bits or a Float16Array, got ${data && data.constructor ? data.constructor.name : typeof data}`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; ++i) out[i] = halfToFloat(data[i]);
  return out;
}

// Numbers as IEEE half bits (round to nearest even) in a Uint16Array.
export function float32ToFloat16(data) {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; ++i) out[i] = floatToHalf(Number(data[i]));
  return out;
}

// A [1, C, H, W] (NCHW) or [1, H, W, C] (NHWC) tensor, C = 1, 3 or 4, as RGBA
// pixels: pixel = (value - bias) * mean per channel (onnxruntime-web's
// toImageData formula; default mean 255 and bias 0, i.e. values in 0..1;
// uint8 tensors default to mean 1). `format` names the tensor's channel order.
export function tensorToPixels(tensor, options = {}) {
  const o = options ?? {};
  const dims = tensor.dims;
  const layout = (o.tensorLayout ?? 'NCHW').toUpperCase();
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new Error(`Tensor.toImageData: unknown tensorLayout '${o.tensorLayout}' (NCHW or NHWC)`);
  if (dims.length !== 4 || dims[0] !== 1) throw new Error(`Tensor.toImageData: expected dims [1, C, H, W] (or [1, H, W, C] with tensorLayout 'NHWC'), got [${dims.join(',')}]`);
  const [C, H, W] = layout === 'NCHW' ? [dims[1], dims[2], dims[3]] : [dims[3], dims[1], dims[2]];
  if (![1, 3, 4].includes(C)) throw new Error(`Tensor.toImageData: ${C} channels; expected 1 (gray), 3 or 4`);
  const format = (o.format ?? (C === 4 ? 'RGBA' : C === 3 ? 'RGB' : 'GRAY')).toUpperCase();
  const order = { RGB: [0, 1, 2], BGR: [2, 1, 0], RGBA: [0, 1, 2, 3], BGRA: [2, 1, 0, 3], GRAY: [0] }[format];
  if (!order) throw new Error(`Tensor.toImageData: unknown format '${o.format}' (RGB, BGR, RGBA, BGRA, GRAY)`);
  if (order.length !== C) throw new Error(`Tensor.toImageData: format '${format}' has ${order.length} channels, the tensor ${C}`);
  const values = tensor.type === 'float16' ? float16ToFloat32(tensor.data) : tensor.data;
  if (!['float32', 'float16', 'float64', 'uint8', 'int8', 'int32', 'uint16', 'int16'].includes(tensor.type)) {
    throw new Error(`Tensor.toImageData: a ${tensor.type} tensor cannot be an image`);
  }
  // As onnxruntime-web: mean[i] and bias[i] belong to the image's channel i (R, G, B, A).
  const toImageError = (m) => new Error(`Tensor.toImageData: ${m}`);
  const mean = rgbaNorm(o.norm?.mean, 'norm.mean', tensor.type === 'uint8' ? 1 : 255, toImageError);
  const bias = rgbaNorm(o.norm?.bias, 'norm.bias', 0, toImageError);
  const n = W * H;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; ++i) {
    for (let c = 0; c < C; ++c) {
      const idx = layout === 'NCHW' ? c * n + i : i * C + c;
      const k = C === 1 ? 0 : order[c];  // the image channel this tensor channel fills
      const v = (Number(values[idx]) - bias[k]) * mean[k];
      if (C === 1) { rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v; } else rgba[4 * i + order[c]] = v;
    }
    if (C !== 4) rgba[4 * i + 3] = 255;
  }
  return { rgba, width: W, height: H };
}
