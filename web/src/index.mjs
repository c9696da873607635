// glint: ONNX models in the browser on the GPU (WebGL2), with a per-node
// WebAssembly CPU fallback. The API is the common part of onnxruntime-web's,
// so that switching is changing one import:
//
//   import * as glint from 'glint';
//   const session = await glint.InferenceSession.create(url, { executionProviders: ['webgl', 'wasm'] });
//   const out = await session.run({ input: new glint.Tensor('float32', data, [1, 3, 224, 224]) });
//
// The engine (C++, compiled to glint.wasm) holds tensors in its own heap; this
// file copies a feed into it once and an output out of it once.
import createGlintModule from './glint.mjs';
import { imageToTensor } from './image.mjs';

// ---------------------------------------------------------------------------
// env: global settings, as onnxruntime-web's `ort.env`.
// ---------------------------------------------------------------------------
// Threads of the wasm CPU kernels by default, as onnxruntime-web: up to 4,
// and 1 where the page is not cross-origin isolated (no SharedArrayBuffer,
// so only the single-threaded glint.wasm can run).
function isolated() {
  return typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated === true &&
    typeof SharedArrayBuffer !== 'undefined';
}
function defaultThreads() {
  const hw = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 1;
  return isolated() ? Math.max(1, Math.min(4, hw)) : 1;
}

export const env = {
  wasm: {
    // Where glint.wasm (and glint-threaded.{mjs,wasm,worker.js}) are served
    // from: a URL prefix ending in '/', or a map {'glint.wasm': url, ...}.
    // Unset: beside this module.
    wasmPaths: undefined,
    // Threads of the wasm CPU kernels, read at session creation. Above 1 on a
    // cross-origin-isolated page, glint loads its threaded build
    // (glint-threaded.wasm); 0 or undefined means the default.
    numThreads: defaultThreads(),
    simd: true,
  },
  webgl: {},
  logLevel: 'warning',
  versions: { glint: '0.1.0' },
};

// One module per build and page (or worker): the single-threaded glint.wasm
// and, on demand, glint-threaded.wasm with its worker pool.
const modules = { single: null, threaded: null };

function resolveWasmUrl(path, prefix) {
  const p = env.wasm.wasmPaths;
  if (typeof p === 'string') return p + path;
  if (p && typeof p === 'object' && p[path]) return String(p[path]);
  if (prefix) return prefix + path;
  return new URL(path, import.meta.url).href;
}

function moduleOptions(extra) {
  return {
    locateFile: resolveWasmUrl,
    print: (s) => { if (env.logLevel === 'verbose' || env.logLevel === 'info') console.log(s); },
    printErr: (s) => { if (env.logLevel !== 'error' && env.logLevel !== 'fatal') console.warn(s); },
    ...extra,
  };
}

// The threads a session asks for: env.wasm.numThreads (or the default),
// 1 where threads cannot run.
function requestedThreads() {
  const n = Number(env.wasm.numThreads);
  const want = Number.isFinite(n) && n >= 1 ? Math.floor(n) : defaultThreads();
  return isolated() ? Math.min(want, 64) : 1;
}

// Loads and instantiates glint.wasm, or glint-threaded.wasm with
// `threads - 1` workers started up front (the kernels cannot wait for a
// worker to load), once per page. A later session that wants more threads
// than the threaded module has workers gets as many as there are.
function getModule(threads) {
  const kind = threads > 1 ? 'threaded' : 'single';
  if (!modules[kind]) {
    const file = kind === 'threaded' ? 'glint-threaded.wasm' : 'glint.wasm';
    const load = kind === 'threaded'
      ? import('./glint-threaded.mjs').then((m) => m.default(moduleOptions({
          glintWorkers: threads - 1,
          mainScriptUrlOrBlob: resolveWasmUrl('glint-threaded.mjs', ''),
        }))).then((M) => { M.glintMaxThreads = threads; return M; })
      : createGlintModule(moduleOptions({})).then((M) => { M.glintMaxThreads = 1; return M; });
    modules[kind] = load.catch((e) => {
      modules[kind] = null;
      throw new Error(`glint: could not load ${file} from ${resolveWasmUrl(file, '')}: ${e && e.message ? e.message : e}`);
    });
  }
  return modules[kind];
}

// The threaded module, or glint.wasm (1 thread) with a warning when it cannot
// load (files not deployed, workers refused): threads are an optimization.
async function getModuleOrFallback(threads) {
  if (threads <= 1) return getModule(1);
  try {
    return await getModule(threads);
  } catch (e) {
    if (env.logLevel !== 'error' && env.logLevel !== 'fatal') console.warn(`${e.message}; running on 1 thread (glint.wasm)`);
    return getModule(1);
  }
}

// The engine makes its WebGL2 context on the canvas registered as
// '#glint-canvas' (one per module); it is never attached to the document nor
// presented.
function newCanvas() {
  let c = null;
  if (typeof document !== 'undefined' && document.createElement) c = document.createElement('canvas');
  else if (typeof OffscreenCanvas !== 'undefined') c = new OffscreenCanvas(1, 1);
  if (c) { c.width = 1; c.height = 1; }
  return c;
}

function ensureCanvas(Module) {
  if (Module.glintCanvas) return;
  const c = newCanvas();
  if (!c) return;  // no canvas: creating a GPU session fails with the engine's message
  Module.glintCanvas = c;
  Module.specialHTMLTargets['#glint-canvas'] = c;
}

function glintError(message) {
  const e = new Error(message);
  e.name = 'Error';
  return e;
}

// ---------------------------------------------------------------------------
// Tensor
// ---------------------------------------------------------------------------
const TYPED_ARRAYS = {
  float32: Float32Array,
  float16: Uint16Array,   // IEEE half bits, as onnxruntime-web
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

function typeOfArray(data) {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data)) {
    if (data.length && typeof data[0] === 'boolean') return 'bool';
    if (data.length && typeof data[0] === 'bigint') return 'int64';
    return 'float32';
  }
  return undefined;
}

function describeData(data) {
  if (data === null) return 'null';
  if (ArrayBuffer.isView(data)) return data.constructor.name;
  if (Array.isArray(data)) return 'Array';
  return typeof data;
}

function checkDims(dims, where) {
  if (!Array.isArray(dims) && !(ArrayBuffer.isView(dims) && !(dims instanceof DataView)))
    throw glintError(`${where}: dims must be an array of non-negative integers`);
  const out = Array.from(dims, (d) => Number(d));
  out.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0)
      throw glintError(`${where}: dims[${i}] = ${dims[i]} is not a non-negative integer`);
  });
  return out;
}

export class Tensor {
  // new Tensor(type, data, dims) or new Tensor(data, dims) (type from the array).
  constructor(typeOrData, dataOrDims, maybeDims) {
    let type, data, dims;
    if (typeof typeOrData === 'string') {
      type = typeOrData; data = dataOrDims; dims = maybeDims;
    } else {
      data = typeOrData; dims = dataOrDims; type = typeOfArray(data);
      if (!type) throw glintError(`Tensor: cannot infer the type of ${describeData(data)} data; pass the type first`);
    }
    const Ctor = TYPED_ARRAYS[type];
    if (!Ctor) {
      throw glintError(`Tensor: unsupported type '${type}' (supported: ${Object.keys(TYPED_ARRAYS).join(', ')})`);
    }
    if (Array.isArray(data)) {
      if (type === 'int64' || type === 'uint64') data = Ctor.from(data, (v) => BigInt(v));
      else if (type === 'bool') data = Ctor.from(data, (v) => (v ? 1 : 0));
      else data = Ctor.from(data);
    } else if (type === 'uint8' && data instanceof Uint8ClampedArray) {
      data = new Uint8Array(data.buffer, data.byteOffset, data.length);
    } else if (type === 'float16' && typeof Float16Array !== 'undefined' && data instanceof Float16Array) {
      data = new Uint16Array(data.buffer, data.byteOffset, data.length);  // the same IEEE half bits
    } else if (!(data instanceof Ctor)) {
      throw glintError(`Tensor: a '${type}' tensor needs a ${Ctor.name} (or a plain array), got ${describeData(data)}`);
    }
    if (dims === undefined) dims = [data.length];
    dims = checkDims(dims, `Tensor(${type})`);
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw glintError(`Tensor: ${data.length} elements of ${type} data do not match dims [${dims.join(',')}] (${size} elements)`);
    }
    this.type = type;
    this.data = data;
    this.dims = dims;
    this.size = size;
    this.location = 'cpu';
  }

  // onnxruntime-web compatibility: the data already lives on the CPU.
  async getData() { return this.data; }
  get cpuData() { return this.data; }

  reshape(dims) { return new Tensor(this.type, this.data, dims); }

  // Drops the reference to the data so that it can be collected.
  dispose() {
    this.data = TYPED_ARRAYS[this.type] ? new TYPED_ARRAYS[this.type](0) : undefined;
    this.size = 0;
    this.dims = [0];
    this.disposed = true;
  }

  // From an HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap,
  // ImageData or a URL string; see image.mjs for the options.
  static async fromImage(image, options = {}) {
    const { type, data, dims } = await imageToTensor(image, options);
    return new Tensor(type, data, dims);
  }
}

// ---------------------------------------------------------------------------
// Moving tensors into and out of the wasm heap.
// ---------------------------------------------------------------------------
function checkCall(result, context) {
  if (result && result.error !== undefined) {
    throw glintError(context ? `${context}: ${result.error}` : result.error);
  }
  return result;
}

// Copies `t` into a WasmTensor (the caller deletes it).
function toWasm(Module, t, name) {
  const dims = t.dims;
  const r = checkCall(Module.makeTensor(t.type, dims), `input '${name}'`);
  const wt = r.tensor;
  try {
    if (t.type === 'float16') {
      const bytes = t.data.length * 2;
      const tmp = Module._malloc(Math.max(bytes, 1));
      try {
        Module.HEAPU8.set(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes), tmp);
        wt.setHalves(tmp);
      } finally {
        Module._free(tmp);
      }
    } else {
      const ptr = wt.dataPtr();
      const len = wt.byteLength();
      if (len !== t.data.byteLength) {
        throw glintError(`input '${name}': ${t.type} data of ${t.data.byteLength} bytes does not fill ${len} bytes`);
      }
      if (len > 0) Module.HEAPU8.set(new Uint8Array(t.data.buffer, t.data.byteOffset, len), ptr);
    }
  } catch (e) {
    wt.delete();
    throw e;
  }
  return wt;
}

// Copies a WasmTensor out into a Tensor (and deletes it).
function fromWasm(Module, wt) {
  try {
    const type = wt.type();
    const dims = wt.dims();
    const Ctor = TYPED_ARRAYS[type];
    if (!Ctor) throw glintError(`output of type ${type} cannot be returned to JavaScript`);
    let data;
    if (type === 'float16') {
      const n = wt.size();
      const tmp = Module._malloc(Math.max(n * 2, 1));
      try {
        wt.getHalves(tmp);
        data = new Uint16Array(Module.HEAPU8.slice(tmp, tmp + n * 2).buffer);
      } finally {
        Module._free(tmp);
      }
    } else {
      const ptr = wt.dataPtr();
      const len = wt.byteLength();
      data = new Ctor(Module.HEAPU8.slice(ptr, ptr + len).buffer);
    }
    return new Tensor(type, data, dims);
  } finally {
    wt.delete();
  }
}

// ---------------------------------------------------------------------------
// Model bytes: a URL (fetched with progress), an ArrayBuffer or a Uint8Array.
// ---------------------------------------------------------------------------
async function fetchModel(url, onProgress) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw glintError(`failed to fetch the model from ${url}: ${e && e.message ? e.message : e}`);
  }
  if (!response.ok) {
    throw glintError(`failed to fetch the model from ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body || !response.body.getReader) {
    const buf = new Uint8Array(await response.arrayBuffer());
    if (onProgress) onProgress({ loaded: buf.length, total: total || buf.length });
    return buf;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (onProgress) onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) { bytes.set(c, off); off += c.length; }
  if (onProgress) onProgress({ loaded, total: total || loaded, done: true });
  return bytes;
}

async function modelBytes(source, byteOffset, byteLength, onProgress) {
  if (typeof source === 'string' || (typeof URL !== 'undefined' && source instanceof URL)) {
    return fetchModel(String(source), onProgress);
  }
  if (source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer)) {
    const off = byteOffset ?? 0;
    const len = byteLength ?? source.byteLength - off;
    return new Uint8Array(source, off, len);
  }
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw glintError(`InferenceSession.create: expected a URL string, ArrayBuffer or Uint8Array, got ${describeData(source)}`);
}

// executionProviders: 'webgl' = GPU kernels with per-node wasm fallback;
// 'wasm' (or 'cpu') = wasm CPU kernels only; 'auto' (the default) = whichever
// is faster here (see chooseProvider).
const PROVIDERS = { webgl: 'default', wasm: 'cpu', cpu: 'cpu', auto: 'auto' };
const GL_ERROR_CODE = 5;  // glint::StatusCode::kGlError: the GPU could not be used here

function providerNames(options) {
  const eps = options.executionProviders ?? ['auto'];
  if (!Array.isArray(eps) || eps.length === 0) {
    throw glintError("InferenceSession.create: executionProviders must be a non-empty array, e.g. ['webgl', 'wasm']");
  }
  return eps.map((ep) => {
    const name = typeof ep === 'string' ? ep : ep && ep.name;
    if (!PROVIDERS[name]) {
      throw glintError(`InferenceSession.create: unknown execution provider '${name}' (glint has 'auto', 'webgl' and 'wasm')`);
    }
    return name;
  });
}

// The GL renderer's real name, or null where the browser hides it: browsers
// mask GL_RENDERER ("WebKit WebGL"); the debug extension, where allowed, names it.
function unmaskedRenderer(gl) {
  const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
  return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : null;
}

// Renderers that rasterize on the CPU: there the wasm kernels beat WebGL
// shaders emulated by the same CPU.
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

// A fixed fragment-shader workload (256x256 pixels x 64 iterations): a GPU
// draws it well under a millisecond, a software rasterizer takes tens.
function calibrate(gl) {
  const vs = '#version 300 es\nvoid main(){vec2 p=vec2(float((gl_VertexID<<1)&2),float(gl_VertexID&2));gl_Position=vec4(p*2.0-1.0,0,1);}';
  const fs = '#version 300 es\nprecision highp float;out vec4 o;void main(){vec2 p=gl_FragCoord.xy;float a=0.0;' +
    'for(int i=0;i<64;++i){a=fract(a*1.37+sin(p.x*0.01+float(i))*cos(p.y*0.02));}o=vec4(a);}';
  const sh = (type, src) => { const x = gl.createShader(type); gl.shaderSource(x, src); gl.compileShader(x); return x; };
  const prog = gl.createProgram();
  gl.attachShader(prog, sh(gl.VERTEX_SHADER, vs));
  gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, fs));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) return Infinity;
  gl.canvas.width = 256; gl.canvas.height = 256;
  gl.viewport(0, 0, 256, 256);
  gl.useProgram(prog);
  const px = new Uint8Array(4);
  const draw = () => { gl.drawArrays(gl.TRIANGLES, 0, 3); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px); };
  draw();  // compiles for real
  const t0 = now();
  draw(); draw();
  return (now() - t0) / 2;
}

// 'auto': wasm on a software rasterizer (SwiftShader, llvmpipe, ...) or
// without WebGL2, else webgl with wasm behind it. The renderer's name comes
// from WEBGL_debug_renderer_info; where the browser hides it, a short
// calibration draw decides. Once per page: {names, reason}.
let autoChoice = null;
function chooseProvider() {
  if (autoChoice) return autoChoice;
  let names = ['webgl', 'wasm'];
  let reason;
  const canvas = newCanvas();
  let gl = null;
  try { gl = canvas && canvas.getContext('webgl2'); } catch { gl = null; }
  if (!gl) {
    names = ['wasm'];
    reason = 'WebGL2 is unavailable here: wasm';
  } else {
    const renderer = String(unmaskedRenderer(gl) || '');
    if (renderer && SOFTWARE_RENDERER.test(renderer)) {
      names = ['wasm'];
      reason = `WebGL renderer is '${renderer}', a software rasterizer: wasm is faster`;
    } else if (renderer) {
      reason = `WebGL renderer is '${renderer}', a GPU: webgl (wasm for the ops it lacks)`;
    } else {
      const ms = calibrate(gl);
      if (!(ms < 4)) {
        names = ['wasm'];
        reason = `WebGL renderer hidden; a calibration draw took ${ms.toFixed(1)} ms (software rasterizer speed): wasm is faster`;
      } else {
        reason = `WebGL renderer hidden; a calibration draw took ${ms.toFixed(2)} ms (GPU speed): webgl (wasm for the ops it lacks)`;
      }
    }
    const lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
  }
  autoChoice = { names, reason };
  return autoChoice;
}

// Yields to the event loop (so that a page keeps painting while we wait)
// without setTimeout's 4 ms clamp.
function nextTick() {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function now() {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

// ---------------------------------------------------------------------------
// InferenceSession
// ---------------------------------------------------------------------------
export class InferenceSession {
  constructor(Module, handle, provider, reason, threads, timings) {
    this._m = Module;
    this._h = handle;
    this._queue = Promise.resolve();
    // The provider the session runs on, and why it was chosen.
    this.executionProvider = provider;
    this.executionProviderReason = reason;
    // Threads of the wasm CPU kernels (1 = the single-threaded glint.wasm).
    this.numThreads = threads;
    const ins = handle.inputs();
    const outs = handle.outputs();
    this.inputNames = ins.map((i) => i.name);
    this.outputNames = outs.map((o) => o.name);
    this.inputMetadata = ins.map((i) => ({ name: i.name, isTensor: true, type: i.type, shape: i.dims ?? [] }));
    this.outputMetadata = outs.map((o) => ({ name: o.name, isTensor: true, type: o.type, shape: o.dims ?? [] }));
    // Milliseconds: fetch (download), load (parse), optimize, compile (shaders,
    // weight upload), create (the whole of create()).
    this.timings = timings;
  }

  // create(urlOrBytes, options) or create(buffer, byteOffset, byteLength, options)
  static async create(source, a, b, c) {
    let options = {};
    let byteOffset, byteLength;
    if (typeof a === 'number') { byteOffset = a; byteLength = typeof b === 'number' ? b : undefined; options = (typeof b === 'number' ? c : b) ?? {}; }
    else options = a ?? {};
    if (typeof options !== 'object') throw glintError('InferenceSession.create: options must be an object');
    const t0 = now();
    const asked = providerNames(options);
    // 'auto' expands to the providers it picks; explicit ones stay as given.
    let names = [];
    let autoReason = null;
    for (const n of asked) {
      if (n !== 'auto') { if (!names.includes(n)) names.push(n); continue; }
      const choice = chooseProvider();
      autoReason = choice.reason;
      for (const c of choice.names) if (!names.includes(c)) names.push(c);
    }
    const threads = requestedThreads();
    const onProgress = typeof options.onProgress === 'function' ? options.onProgress : undefined;
    const [Module, bytes] = await Promise.all([getModuleOrFallback(threads), modelBytes(source, byteOffset, byteLength, onProgress)]);
    const fetchMs = now() - t0;
    if (bytes.length === 0) throw glintError('InferenceSession.create: the model is empty (0 bytes)');
    const ptr = Module._malloc(bytes.length);
    try {
      Module.HEAPU8.set(bytes, ptr);
      const failures = [];
      for (const name of names) {
        if (PROVIDERS[name] === 'default') ensureCanvas(Module);
        const r = Module.createSession(ptr, bytes.length, PROVIDERS[name]);
        if (r.session) {
          const t = r.session.timings();
          const timings = { fetchMs, loadMs: t.loadMs, optimizeMs: t.optimizeMs, compileMs: t.compileMs, createMs: now() - t0 };
          let reason = autoReason ?? `executionProviders asked for '${name}'`;
          if (failures.length) reason += `; ${failures.join('; ')}: fell back to '${name}'`;
          const n = Module.setNumThreads(threads, Module.glintMaxThreads);
          return new InferenceSession(Module, r.session, name, reason, n, timings);
        }
        // A provider that cannot start here (no WebGL2) gives way to the next
        // one; a problem with the model itself is reported at once.
        failures.push(`${name}: ${r.error}`);
        if (r.code !== GL_ERROR_CODE) break;
        if (!names.includes('wasm') && !names.includes('cpu')) {
          failures[failures.length - 1] += " (WebGL2 is unavailable here; add 'wasm' to executionProviders to run on the CPU instead)";
        }
      }
      throw glintError(failures.length === 1 ? failures[0].replace(/^\w+: /, '') : failures.join('; '));
    } finally {
      Module._free(ptr);
    }
  }

  // run(feeds[, fetches][, options]) -> Promise<{name: Tensor}>. `fetches`: an
  // array of output names or an object whose keys are output names.
  run(feeds, fetches, options) {
    const job = this._queue.then(() => this._run(feeds, fetches, options));
    this._queue = job.catch(() => {});
    return job;
  }

  async _run(feeds, fetches) {
    if (!this._h) throw glintError('InferenceSession.run: the session was released');
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
      throw glintError("InferenceSession.run: feeds must be an object mapping input names to Tensors, e.g. { [session.inputNames[0]]: tensor }");
    }
    // As onnxruntime-web: the second argument is fetches when it is an array
    // of names, or an object whose keys are all output names (values null or
    // Tensors); otherwise it is run options.
    let names = [];
    if (Array.isArray(fetches)) names = fetches.map(String);
    else if (fetches && typeof fetches === 'object' && !(fetches instanceof Tensor)) {
      const keys = Object.keys(fetches);
      const isFetches = keys.length > 0 && keys.every((k) => this.outputNames.includes(k) &&
        (fetches[k] === null || fetches[k] instanceof Tensor));
      if (isFetches) names = keys;
    } else if (fetches !== undefined && fetches !== null) {
      throw glintError('InferenceSession.run: fetches must be an array of output names or an object keyed by output names');
    }
    for (const n of names) {
      if (!this.outputNames.includes(n)) {
        throw glintError(`InferenceSession.run: unknown output '${n}'; the model's outputs are ${this.outputNames.map((o) => `'${o}'`).join(', ')}`);
      }
    }
    const M = this._m;
    const h = this._h;
    h.clearFeeds();
    for (const [name, t] of Object.entries(feeds)) {
      if (!(t instanceof Tensor) && !(t && typeof t.type === 'string' && t.data && Array.isArray(t.dims))) {
        throw glintError(`InferenceSession.run: feed '${name}' is not a Tensor (got ${describeData(t)})`);
      }
      if (t.disposed) throw glintError(`InferenceSession.run: feed '${name}' was disposed`);
      const wt = toWasm(M, t, name);
      try {
        h.setFeed(name, wt);
      } finally {
        wt.delete();
      }
    }
    // Let the page paint before the engine takes the thread.
    await nextTick();
    M.setNumThreads(this.numThreads, M.glintMaxThreads);  // threads are per module; sessions may differ
    const started = h.runStart(names);
    if (started.error !== undefined) throw glintError(started.error);
    // The GPU outputs are on their way back (pixel-pack buffer + fence): poll
    // from the event loop instead of stalling the page in readPixels.
    for (let i = 0; !h.poll(); ++i) await (i < 4 ? nextTick() : sleep(Math.min(16, 1 << (i - 4))));
    const r = h.runFinish();
    if (r.error !== undefined) throw glintError(r.error);
    const out = {};
    for (const o of r.outputs) out[o.name] = fromWasm(M, o.tensor);
    this.lastRunMs = r.runMs;
    return out;
  }

  // Where each node runs ({node, op, gpu, kernel, reason}); glint-specific.
  get placements() { return this._h ? this._h.placements() : []; }
  // The GL renderer ('cpu' on wasm), unmasked where the browser allows;
  // glint-specific.
  get renderer() {
    if (!this._h) return '';
    const r = this._h.renderer();
    if (this.executionProvider !== 'webgl' || !this._m.glintCanvas) return r;
    try {
      return unmaskedRenderer(this._m.glintCanvas.getContext('webgl2')) || r;  // the engine's context
    } catch {
      return r;
    }
  }
  // GPU memory figures (textures, bytes, programs) or null; glint-specific.
  get gpuMemory() { return this._h ? this._h.memory() : null; }

  startProfiling() {}
  endProfiling() {}

  async release() {
    await this._queue;
    if (this._h) {
      this._h.delete();
      this._h = null;
    }
  }
}

export default { InferenceSession, Tensor, env };
