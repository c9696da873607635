// glint: ONNX models in the browser on the GPU (WebGL2), with a per-node
// WebAssembly CPU fallback. The API is the common part of onnxruntime-web's,
// so that switching is changing one import:
//
//   import * as glint from 'glint-onnx';
//   const session = await glint.InferenceSession.create(url, { executionProviders: ['webgl', 'wasm'] });
//   const out = await session.run({ input: new glint.Tensor('float32', data, [1, 3, 224, 224]) });
//
// The engine (C++, compiled to glint.wasm) holds tensors in its own heap; this
// file copies a feed into it once and an output out of it once.
import createGlintModule from './glint.mjs';
import { float16ToFloat32, float32ToFloat16, imageToTensor, tensorToPixels } from './image.mjs';
import { applyFreeDimensionOverrides, externalDataName, relativeFileName } from './model-patch.mjs';

export { float16ToFloat32, float32ToFloat16 };

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
    // Unset (the default): beside this module, located with
    // `new URL('./glint.wasm', import.meta.url)`, which bundlers (Vite,
    // webpack 5, Rollup's import-meta-assets plugin) rewrite to the file they emit.
    wasmPaths: undefined,
    // The bytes of glint.wasm (ArrayBuffer or Uint8Array), when the page has
    // them already: nothing is fetched then (as onnxruntime-web's
    // env.wasm.wasmBinary). Under Node the package reads them from disk.
    wasmBinary: undefined,
    // Threads of the wasm CPU kernels, read at session creation. Above 1 on a
    // cross-origin-isolated page, glint loads its threaded build
    // (glint-threaded.wasm); 0 or undefined means the default.
    numThreads: defaultThreads(),
    // Milliseconds that loading the engine may take before create() gives up
    // (0: no limit). The threaded build always has a limit (this, or 10 s
    // when 0): when it cannot start (a file missing, workers refused) the
    // session falls back to glint.wasm on one thread instead of waiting.
    initTimeout: 0,
    simd: true,
  },
  webgl: {
    // Limits to behave as a smaller GPU would (read when the page's first
    // WebGL session starts): { max_texture_size, max_draw_buffers,
    // max_texture_units, float_render, half_float_render }, each only
    // lowering what the device has (GLINT_GL_LIMITS natively).
    limits: undefined,
    // Milliseconds to wait for a lost WebGL context to come back (read when
    // it is lost): past this, sessions that list 'wasm' continue on it and
    // the others reject their runs until the browser restores the context.
    contextRestoreTimeout: 5000,
  },
  logLevel: 'warning',
  versions: { glint: '0.1.0' },
};

// The threads a session asks for: env.wasm.numThreads (or the default),
// 1 where threads cannot run.
function requestedThreads() {
  const n = Number(env.wasm.numThreads);
  const want = Number.isFinite(n) && n >= 1 ? Math.floor(n) : defaultThreads();
  return isolated() ? Math.min(want, 64) : 1;
}

// One module per build and page (or worker): the single-threaded glint.wasm
// and, on demand, glint-threaded.wasm with its worker pool.
const modules = { single: null, threaded: null };

// The engine's files beside this module. Each `new URL('./FILE',
// import.meta.url)` is written out literally: that is the form bundlers
// recognise, emit and rewrite (a computed name would hide the files from them).
function bundledUrl(file) {
  switch (file) {
    case 'glint.wasm': return new URL('./glint.wasm', import.meta.url).href;
    case 'glint-threaded.wasm': return new URL('./glint-threaded.wasm', import.meta.url).href;
    case 'glint-threaded.mjs': return new URL('./glint-threaded.mjs', import.meta.url).href;
    case 'glint-threaded.worker.js': return new URL('./glint-threaded.worker.js', import.meta.url).href;
    default: throw glintError(`glint: no engine file '${file}'`);
  }
}

function resolveWasmUrl(file) {
  const p = env.wasm.wasmPaths;
  if (typeof p === 'string') return p + file;
  if (p && typeof p === 'object' && p[file]) return String(p[file]);
  return bundledUrl(file);
}

// Vite's dev server serves a dependency pre-bundled from
// /node_modules/.vite/deps/, where the files beside it do not exist (the
// server answers index.html instead); the package's own copy is still served
// from /node_modules/PACKAGE/dist/. Only for that layout, and only when
// wasmPaths is unset.
const PACKAGE_NAME = 'glint-onnx';
function viteDevFallbackUrl(file) {
  if (env.wasm.wasmPaths !== undefined) return null;
  const here = String(import.meta.url);
  const i = here.indexOf('/node_modules/.vite/');
  if (i < 0) return null;
  return `${here.slice(0, i)}/node_modules/${PACKAGE_NAME}/dist/${file}`;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
function describeNotWasm(bytes) {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).replace(/\s+/g, ' ').trim();
  return /^<!doctype|^<html/i.test(head) ? 'the server answered an HTML page' : `it starts with '${head.slice(0, 20)}'`;
}

// The bytes of an engine file: fetched from its URL (and, under Vite's dev
// server, from the package's own copy when the first answer is not wasm).
async function fetchWasm(file) {
  const urls = [resolveWasmUrl(file)];
  const alt = viteDevFallbackUrl(file);
  if (alt) urls.push(alt);
  const problems = [];
  for (const url of urls) {
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      problems.push(`${url}: ${e && e.message ? e.message : e}`);
      continue;
    }
    if (!response.ok) { problems.push(`${url}: HTTP ${response.status} ${response.statusText}`.trim()); continue; }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (WASM_MAGIC.every((b, k) => bytes[k] === b)) return bytes;
    problems.push(`${url}: not a wasm file (${describeNotWasm(bytes)})`);
  }
  throw new Error(`${problems.join('; ')}. Serve ${file} from the package's dist/ beside index.mjs, or set ` +
    `glint.env.wasm.wasmPaths to the URL prefix it is served from`);
}

function moduleOptions(extra) {
  return {
    print: (s) => { if (env.logLevel === 'verbose' || env.logLevel === 'info') console.log(s); },
    printErr: (s) => { if (env.logLevel !== 'error' && env.logLevel !== 'fatal') console.warn(s); },
    ...extra,
  };
}

function asBytes(b) {
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw glintError(`env.wasm.wasmBinary must be an ArrayBuffer or a Uint8Array, got ${describeData(b)}`);
}

// Rejects with `what` after `ms` milliseconds (0: never).
function withTimeout(promise, ms, what) {
  if (!(ms > 0)) return promise;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (env.wasm.initTimeout)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Every threaded file must be there before its workers are started (a
// missing worker script would otherwise leave the module waiting forever).
async function checkThreadedFiles() {
  const files = ['glint-threaded.mjs', 'glint-threaded.wasm', 'glint-threaded.worker.js'];
  await Promise.all(files.map(async (f) => {
    const url = resolveWasmUrl(f);
    if (/^(data|blob):/.test(url)) return;  // inlined by a bundler: present by construction
    let r;
    try {
      r = await fetch(url, { method: 'HEAD' });
    } catch (e) {
      throw new Error(`${url}: ${e && e.message ? e.message : e}`);
    }
    const type = r.headers.get('content-type') || '';
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    if (/text\/html/i.test(type)) throw new Error(`${url}: the server answered an HTML page`);
  }));
}

// A bundler may inline a small file as a data: URL (Vite does below 4 KiB);
// a worker started from one would have an opaque origin and could not import
// the engine, so it becomes a blob: URL (the page's origin).
async function sameOriginUrl(url) {
  if (!url.startsWith('data:')) return url;
  return URL.createObjectURL(await (await fetch(url)).blob());
}

async function loadSingle() {
  const binary = env.wasm.wasmBinary !== undefined ? asBytes(env.wasm.wasmBinary) : await fetchWasm('glint.wasm');
  const M = await createGlintModule(moduleOptions({ wasmBinary: binary, locateFile: resolveWasmUrl }));
  M.glintMaxThreads = 1;
  return M;
}

async function loadThreaded(threads) {
  await checkThreadedFiles();
  const mainUrl = await sameOriginUrl(resolveWasmUrl('glint-threaded.mjs'));
  const workerUrl = await sameOriginUrl(resolveWasmUrl('glint-threaded.worker.js'));
  // Imported by URL (not bundled): the worker script imports the same file.
  const factory = (await import(/* @vite-ignore */ /* webpackIgnore: true */ mainUrl)).default;
  const M = await factory(moduleOptions({
    glintWorkers: threads - 1,
    locateFile: (file) => (file === 'glint-threaded.worker.js' ? workerUrl : resolveWasmUrl(file)),
    mainScriptUrlOrBlob: mainUrl,
  }));
  M.glintMaxThreads = threads;
  return M;
}

// Loads and instantiates glint.wasm, or glint-threaded.wasm with
// `threads - 1` workers started up front (the kernels cannot wait for a
// worker to load), once per page. A later session that wants more threads
// than the threaded module has workers gets as many as there are.
function getModule(threads) {
  const kind = threads > 1 ? 'threaded' : 'single';
  if (!modules[kind]) {
    const file = kind === 'threaded' ? 'glint-threaded.wasm' : 'glint.wasm';
    const limit = kind === 'threaded' ? (env.wasm.initTimeout > 0 ? env.wasm.initTimeout : 10000) : env.wasm.initTimeout;
    const load = withTimeout(kind === 'threaded' ? loadThreaded(threads) : loadSingle(), limit, `loading ${file}`);
    modules[kind] = load.catch((e) => {
      modules[kind] = null;
      throw glintError(`glint: could not load ${file}: ${e && e.message ? e.message : e}`);
    });
  }
  return modules[kind];
}

// The threaded module, or glint.wasm (1 thread) with a warning when it cannot
// load (files not deployed, workers refused, too slow): threads are an optimization.
async function getModuleOrFallback(threads, severity) {
  if (threads <= 1) return getModule(1);
  try {
    return await getModule(threads);
  } catch (e) {
    warnOnce('threaded-fallback', `${e.message.replace(/^glint: /, '')}; running on 1 thread (glint.wasm)`, severity);
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
  const limits = env.webgl.limits;
  if (limits && typeof limits === 'object') {
    const spec = Object.entries(limits).map(([k, v]) => `${k}=${typeof v === 'boolean' ? Number(v) : v}`).join(',');
    Module.setGlLimits(spec);
  }
  const c = newCanvas();
  if (!c) return;  // no canvas: creating a GPU session fails with the engine's message
  Module.glintCanvas = c;
  Module.specialHTMLTargets['#glint-canvas'] = c;
  Module.glintGpu = newGpuState(Module, c);
}

// ---------------------------------------------------------------------------
// The engine's WebGL context: lost, restored, or without highp.
// ---------------------------------------------------------------------------
// Every webgl session of a module runs on one GL executor (one context on
// Module.glintCanvas, engine/runtime/session.cc shared_executor), so a loss
// is the module's: every webgl session on it rejects its runs until the
// context is back, then makes a fresh engine session from the model bytes it
// kept, on a fresh executor (nothing made before the loss is used again).
//
// Where a loss is seen: the engine issues a run's draws synchronously inside
// one wasm call, so the page's 'webglcontextlost' event can arrive only
// between awaits: before a run starts, while its readback is polled, or
// between runs. A loss the browser notices while the engine is inside a call
// (a GPU reset) turns the remaining GL calls into no-ops, whose reads give
// zeros: so gl.isContextLost() and the loss count are checked again after
// the outputs are read, and such a run rejects instead of answering wrong.

// The attributes engine/gl/context.cc asks for: getContext() returns the
// context made first, so glint's own probes ask for the same.
const ENGINE_CONTEXT_ATTRIBUTES = {
  alpha: false, depth: false, stencil: false, antialias: false, premultipliedAlpha: false,
  preserveDrawingBuffer: false, powerPreference: 'high-performance',
};

function newGpuState(Module, canvas) {
  const g = {
    canvas,
    sessions: new Set(),   // webgl sessions on this module
    lost: null,            // the loss's message while lost
    losses: 0,             // incremented on every loss: a run compares it before and after
    restoreTimer: null,
    // Settles when the sessions of the last loss have let go of their engine
    // sessions and the executor made before it is gone.
    settled: Promise.resolve(),
  };
  canvas.addEventListener('webglcontextlost', (e) => {
    e.preventDefault();  // without it the browser never restores the context
    onContextLost(Module, g, e.statusMessage);
  }, false);
  canvas.addEventListener('webglcontextrestored', () => onContextRestored(Module, g), false);
  return g;
}

// The engine's context (made with the engine's attributes when glint asks
// first), or null without WebGL2.
function engineGl(g) {
  try {
    return g.canvas.getContext('webgl2', ENGINE_CONTEXT_ATTRIBUTES);
  } catch {
    return null;
  }
}

// Why the webgl provider cannot start on this module now, or null (also null
// without WebGL2: the engine reports that itself).
function gpuUnusableReason(g) {
  const gl = engineGl(g);
  if (g.lost || (gl && gl.isContextLost())) return `${g.lost ?? 'WebGL context lost'}; not restored yet`;
  if (!gl) return null;
  const highp = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT);
  if (!highp || highp.precision === 0) {
    return 'this device has no highp float in fragment shaders (getShaderPrecisionFormat(FRAGMENT_SHADER, ' +
      "HIGH_FLOAT).precision is 0); glint's WebGL kernels compute in 32-bit float";
  }
  return null;
}

function restoreTimeoutMs() {
  const ms = Number(env.webgl.contextRestoreTimeout);
  return Number.isFinite(ms) && ms >= 0 ? ms : 5000;
}

function onContextLost(Module, g, statusMessage) {
  if (g.lost) return;
  g.losses += 1;
  g.lost = `WebGL context lost${statusMessage ? ` (${statusMessage})` : ''}`;
  for (const s of g.sessions) s._lost = `${g.lost}: runs reject until the browser restores it, then the session rebuilds itself`;
  // Each session lets go of its engine session once a run in flight has
  // rejected; then the executor goes, with every GL object made before the
  // loss (on a lost context deleting them is a no-op).
  g.settled = Promise.all([...g.sessions].map((s) => s._dropEngineSession())).then(() => {
    checkCall(Module.releaseGpu(), 'glint: releasing the GL executor of the lost context');
  });
  g.settled.catch((e) => warnOnce(`release-gpu:${e.message}`, e.message));
  clearTimeout(g.restoreTimer);
  const ms = restoreTimeoutMs();
  g.restoreTimer = setTimeout(() => {
    if (!g.lost) return;
    for (const s of g.sessions) s._onRestoreTimeout(ms);
  }, ms);
}

function onContextRestored(Module, g) {
  clearTimeout(g.restoreTimer);
  g.restoreTimer = null;
  if (!g.lost) return;
  g.lost = null;
  const gl = engineGl(g);
  g.settled = g.settled.catch(() => {}).then(() => {
    // Deleting objects of the lost context after the restore raises
    // INVALID_OPERATION; the new executor must start with no error pending.
    for (let i = 0; gl && i < 32 && gl.getError() !== gl.NO_ERROR; ++i) {}
  });
  for (const s of g.sessions) s._rebuildAfterRestore();
}

function glintError(message) {
  const e = new Error(message);
  e.name = 'Error';
  return e;
}

// onnxruntime-web's severity levels (0 verbose .. 4 fatal) and env.logLevel's names.
const SEVERITY = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 };
function warningsShown(severity) {
  const level = severity ?? SEVERITY[env.logLevel] ?? 2;
  return level <= 2;
}

// Each distinct warning once per page (or worker).
const warned = new Set();
function warnOnce(key, message, severity) {
  if (warned.has(key) || !warningsShown(severity)) return;
  warned.add(key);
  console.warn(`glint: ${message}`);
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
  string: Array,          // an array of strings, as onnxruntime-web
};

function typeOfArray(data) {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (typeof Float16Array !== 'undefined' && data instanceof Float16Array) return 'float16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data)) {
    if (data.length && typeof data[0] === 'string') return 'string';
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
    if (type === 'string') {
      if (!Array.isArray(data) || !data.every((v) => typeof v === 'string')) {
        throw glintError(`Tensor: a 'string' tensor needs an array of strings, got ${describeData(data)}`);
      }
    } else if (Array.isArray(data)) {
      if (type === 'int64' || type === 'uint64') data = Ctor.from(data, (v) => BigInt(v));
      else if (type === 'bool') data = Ctor.from(data, (v) => (v ? 1 : 0));
      else data = Ctor.from(data);
    } else if (type === 'uint8' && data instanceof Uint8ClampedArray) {
      data = new Uint8Array(data.buffer, data.byteOffset, data.length);
    } else if (type === 'float16' && typeof Float16Array !== 'undefined' && data instanceof Float16Array) {
      // kept as given: its bytes are the IEEE half bits toWasm() copies
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

  // As onnxruntime-web: the tensor as ImageData / a data: URL (PNG), for a
  // [1, C, H, W] tensor (or [1, H, W, C] with tensorLayout 'NHWC'), C = 1, 3
  // or 4; pixel = (value - norm.bias[i]) * norm.mean[i] for image channel i
  // (defaults 0 and 255; see tensorToPixels).
  toImageData(options) {
    const { rgba, width, height } = tensorToPixels(this, options);
    if (typeof ImageData === 'undefined') throw glintError('Tensor.toImageData: ImageData is not available here');
    return new ImageData(rgba, width, height);
  }

  toDataURL(options) {
    const { rgba, width, height } = tensorToPixels(this, options);
    if (typeof document === 'undefined' || !document.createElement) {
      throw glintError('Tensor.toDataURL: needs a document (a canvas to encode the PNG); in a worker use toImageData()');
    }
    const canvas = document.createElement('canvas');
    canvas.width = width; canvas.height = height;
    canvas.getContext('2d').putImageData(new ImageData(rgba, width, height), 0, 0);
    return canvas.toDataURL();
  }

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

// An output kept in the engine's memory (preferredOutputLocation
// 'cpu-pinned'): no copy comes out of the wasm heap, and fed to a run of a
// session on the same module it goes back in without one either: a decoder
// step's KV cache stays where the engine wrote it (a GPT decode step copies
// 2.4 MB of cache out and back in otherwise, a third of a step on wasm).
// `data` is a view of the engine's bytes, made again when the heap grows;
// it is valid while the tensor is alive and not disposed. dispose() frees
// the bytes at once; one that is never disposed is freed after it is
// collected (FinalizationRegistry), so a forgotten cache does not leak.
const heldRegistry = typeof FinalizationRegistry !== 'undefined'
  ? new FinalizationRegistry((handle) => { try { handle.delete(); } catch { /* already gone */ } })
  : null;

// dispose() of a tensor that holds an engine handle (PinnedTensor,
// TextureTensor): the handle goes at once, the tensor is left empty.
function disposeHeld(t) {
  if (t.disposed) return;
  heldRegistry?.unregister(t);
  t._handle.delete();
  t._handle = null;
  Object.defineProperty(t, 'data', { value: new TYPED_ARRAYS[t.type](0), writable: true, configurable: true, enumerable: true });
  t.size = 0;
  t.dims = [0];
  t.disposed = true;
}

class PinnedTensor extends Tensor {
  constructor(Module, handle, type, dims, ptr, byteLength) {
    const Ctor = TYPED_ARRAYS[type];
    const length = byteLength / Ctor.BYTES_PER_ELEMENT;
    super(type, new Ctor(Module.HEAPU8.buffer, ptr, length), dims);
    this.location = 'cpu-pinned';
    this._module = Module;
    this._handle = handle;
    let view = null;
    Object.defineProperty(this, 'data', {
      configurable: true,
      enumerable: true,
      get() {
        if (!view || view.buffer !== Module.HEAPU8.buffer) view = new Ctor(Module.HEAPU8.buffer, ptr, length);
        return view;
      },
    });
    heldRegistry?.register(this, handle, this);
  }

  // A copy: still the caller's after dispose().
  async getData() { return this.data.slice(); }

  // A 'cpu' tensor with a copy of the data (a view would outlive dispose()).
  reshape(dims) { return new Tensor(this.type, this.data.slice(), dims); }

  dispose() { disposeHeld(this); }
}

// An output kept where the run left it (preferredOutputLocation 'texture',
// on a webgl session): in GPU memory, or in the engine's memory when a CPU
// kernel made it (a decode loop's attention runs there once its sizes keep
// changing). The run reads nothing back for it, and fed to the next run of a
// webgl session on the same module it is read where it lies, so a decoder's
// KV cache crosses nothing between steps (a GPT decode step reads 2.4 MB back
// and uploads it again otherwise, and each read-back waits for the GPU).
// Its texels are in glint's own layout (channel-packed, padded), so there is
// no `texture` to hand to other WebGL code: getData() reads the values back.
// After a lost context a GPU one's data is gone; feeding or reading it then
// fails with an error that says so. dispose() lets it go at once; one never
// disposed goes after it is collected.
class TextureTensor extends Tensor {
  constructor(Module, handle, type, dims) {
    super(type, type === 'string' ? [] : new TYPED_ARRAYS[type](0), [0]);
    this.dims = dims;
    this.size = dims.reduce((a, b) => a * b, 1);
    this.location = 'texture';
    this._module = Module;
    this._handle = handle;
    Object.defineProperty(this, 'data', {
      configurable: true,
      enumerable: true,
      get() {
        throw glintError(`this ${type} tensor [${dims.join(',')}] is a 'texture' tensor: its data stays on the GPU; ` +
          'await getData() to read it back');
      },
    });
    heldRegistry?.register(this, handle, this);
  }

  get cpuData() { return this.data; }

  // Reads the values back (a copy, the caller's to keep); `releaseData`
  // disposes of the texture afterwards, as onnxruntime-web's.
  async getData(releaseData) {
    if (this.disposed) throw glintError('Tensor.getData: the texture tensor was disposed');
    const Module = this._module;
    const wt = checkCall(this._handle.download(), 'Tensor.getData').tensor;
    let data;
    if (this.type === 'float16' || this.type === 'string') {
      data = convertFromWasm(Module, wt).data;  // converted on the way out; deletes wt
    } else {
      try {
        const ptr = wt.dataPtr();
        data = new TYPED_ARRAYS[this.type](Module.HEAPU8.slice(ptr, ptr + wt.byteLength()).buffer);
      } finally {
        wt.delete();
      }
    }
    if (releaseData) this.dispose();
    return data;
  }

  reshape() {
    throw glintError("Tensor.reshape: a 'texture' tensor cannot be reshaped where it lies; reshape the data of getData()");
  }

  dispose() { disposeHeld(this); }
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

// Copies a string or float16 feed `t` into a WasmTensor (the caller deletes
// it); every other type goes through feedToWasm's one call.
function toWasm(Module, t, name) {
  const dims = t.dims;
  const r = checkCall(Module.makeTensor(t.type, dims), `input '${name}'`);
  const wt = r.tensor;
  try {
    if (t.type === 'string') {
      if (!wt.setStrings(t.data)) throw glintError(`input '${name}': ${t.data.length} strings do not fill dims [${dims.join(',')}]`);
    } else {
      // float16, as IEEE half bits: a Uint16Array already holds them, a
      // Float16Array too (the same bytes); a plain array became a Uint16Array
      // in the constructor.
      const bytes = t.data.length * 2;
      const tmp = Module._malloc(Math.max(bytes, 1));
      try {
        Module.HEAPU8.set(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes), tmp);
        wt.setHalves(tmp);
      } finally {
        Module._free(tmp);
      }
    }
  } catch (e) {
    wt.delete();
    throw e;
  }
  return wt;
}

// A module's scratch for feed dims (doubles), grown to the largest rank fed.
function feedDimsScratch(Module, rank) {
  if (!Module.glintFeedDims || Module.glintFeedDimsRank < rank) {
    if (Module.glintFeedDims) Module._free(Module.glintFeedDims);
    Module.glintFeedDimsRank = Math.max(rank, 8);
    Module.glintFeedDims = Module._malloc(8 * Module.glintFeedDimsRank);
  }
  return Module.glintFeedDims;
}

// Copies feed `t` into session `h`'s feeds. Every type but string and
// float16 takes one engine call (feedBuffer: the dims go through a scratch
// buffer in the heap, the bytes straight into the engine's tensor); those
// two go through a WasmTensor (toWasm), whose handle and JS objects cost
// 60-95 us on a run that follows an idle page.
function feedToWasm(Module, h, t, name, onGpu) {
  if (t instanceof PinnedTensor && t._module === Module) {
    h.setFeed(name, t._handle);  // the engine's own tensor: no bytes move
    return;
  }
  if (t instanceof TextureTensor) {
    if (t._module !== Module) {
      throw glintError(`input '${name}': a 'texture' tensor of another glint module (its textures are another context's); ` +
        'feed its getData() instead');
    }
    if (onGpu) {
      h.setFeed(name, t._handle);  // read where it lies; the engine checks that its context still holds it
      return;
    }
    // A wasm session: the values come back from the GPU and go in as bytes.
    const wt = checkCall(t._handle.download(), `input '${name}'`).tensor;
    try {
      h.setFeed(name, wt);
    } finally {
      wt.delete();
    }
    return;
  }
  if (t.type === 'string' || t.type === 'float16') {
    const wt = toWasm(Module, t, name);
    try {
      h.setFeed(name, wt);
    } finally {
      wt.delete();
    }
    return;
  }
  const dims = feedDimsScratch(Module, t.dims.length);
  Module.HEAPF64.set(t.dims, dims >> 3);
  const ptr = h.feedBuffer(name, t.type, dims, t.dims.length);
  if (ptr === 0) {
    const error = h.lastError();  // an unknown type or a bad dim
    if (error) throw glintError(`input '${name}': ${error}`);
  }
  const bytes = t.dims.reduce((a, d) => a * d, 1) * TYPED_ARRAYS[t.type].BYTES_PER_ELEMENT;
  if (bytes !== t.data.byteLength) {
    throw glintError(`input '${name}': ${t.type} data of ${t.data.byteLength} bytes does not fill ${bytes} bytes`);
  }
  if (bytes > 0) Module.HEAPU8.set(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes), ptr);
}

// Copies a string or float16 WasmTensor (values converted on the way out)
// into a Tensor, and deletes it. Other outputs: outputsFromWasm.
function convertFromWasm(Module, wt) {
  try {
    const type = wt.type();
    const dims = wt.dims();
    let data;
    if (type === 'string') {
      data = wt.getStrings();
    } else {
      const n = wt.size();
      const tmp = Module._malloc(Math.max(n * 2, 1));
      try {
        wt.getHalves(tmp);
        const bits = Module.HEAPU8.slice(tmp, tmp + n * 2).buffer;
        // As onnxruntime-web: a Float16Array where the runtime has one, else
        // the IEEE half bits in a Uint16Array (glint.float16ToFloat32 decodes either).
        data = typeof Float16Array !== 'undefined' ? new Float16Array(bits) : new Uint16Array(bits);
      } finally {
        Module._free(tmp);
      }
    }
    return new Tensor(type, data, dims);
  } finally {
    wt.delete();
  }
}

// A pre-allocated output (fetches {name: Tensor}) that a run can write into:
// a live 'cpu' tensor of a numeric type, for an output not kept as a texture.
// Its type and dims are checked against the output's once the run has them.
function checkPreallocated(what, name, t, keptAsTexture) {
  const bad = (why) => glintError(`${what}: the pre-allocated tensor for output '${name}' ${why}`);
  if (t.disposed) throw bad('was disposed');
  if (t.location !== 'cpu') throw bad(`is a '${t.location}' tensor; only 'cpu' tensors are written in place (give null for the others)`);
  if (t.type === 'string') throw bad("is a 'string' tensor; strings are not written in place (give null)");
  if (keptAsTexture) throw bad("names an output kept as a texture (preferredOutputLocation 'texture'); give null for it");
}

// The bytes a typed array views.
function bytesOf(a) { return new Uint8Array(a.buffer, a.byteOffset, a.byteLength); }

// A pre-allocated tensor `t` (or none) for output `name` of {type, dims}:
// the same type and dims, or an error naming both.
function checkInto(what, name, { type, dims }, t) {
  if (t && (t.type !== type || t.dims.length !== dims.length || t.dims.some((d, j) => d !== dims[j]))) {
    throw glintError(`${what}: output '${name}' is ${type} [${dims.join(',')}] but its pre-allocated tensor is ` +
      `${t.type} [${t.dims.join(',')}]`);
  }
}

// Output i (described by `e`: {type, ptr, len}) copied into `target`'s
// data, which checkInto accepted; returns `target`.
function writeInto(Module, h, i, { type, ptr, len }, target) {
  if (type === 'float16') {  // converted on the way out: its bits, then copied
    const t = convertFromWasm(Module, h.heldOutput(i));
    bytesOf(target.data).set(bytesOf(t.data));
  } else {
    bytesOf(target.data).set(Module.HEAPU8.subarray(ptr, ptr + len));
  }
  return target;
}

// The outputs of WasmSession.runFinish() as {name: Tensor}: `names` in the
// order the engine was asked for them, each described in the table of
// doubles at r.table (dtype index, rank, dims, address, byte length), so
// that the bytes come out in one slice each without a call per field. A
// byte length of -1 marks an output kept in GPU memory (a TextureTensor). The
// outputs named in `pinned` (a Set, or null) stay where they are: a
// PinnedTensor holds the engine's tensor instead (string and float16 ones,
// converted on the way out, are copied all the same). The outputs in `into`
// (a Map of name -> the caller's pre-allocated Tensor, checked by
// checkPreallocated) are copied into that tensor's data, which is returned:
// no new buffer, where a fresh one costs a decoder step more than the copy
// (page faults on new memory: 1.3 ms against 0.1 for 2.4 MB of KV cache in
// Chromium). Every such output is checked before any is written.
let dtypeNames = null;
function outputsFromWasm(Module, h, r, names, pinned, into, what) {
  dtypeNames = dtypeNames ?? Module.dtypeNames();
  const table = new Float64Array(Module.HEAPU8.buffer, r.table);
  const out = {};
  const entries = [];
  for (let i = 0, k = 0; i < r.count; ++i) {
    const type = dtypeNames[table[k]];
    const rank = table[k + 1];
    const dims = Array.from(table.subarray(k + 2, k + 2 + rank));
    entries.push({ type, dims, ptr: table[k + 2 + rank], len: table[k + 3 + rank] });
    k += 4 + rank;
  }
  if (into && into.size) entries.forEach((e, i) => checkInto(what, names[i], e, into.get(names[i])));
  for (let i = 0; i < r.count; ++i) {
    const { type, dims, ptr, len } = entries[i];
    const target = into && into.get(names[i]);
    if (target && len !== -1) {
      out[names[i]] = writeInto(Module, h, i, entries[i], target);
      continue;
    }
    if ((type === 'string' || type === 'float16') && len !== -1) {
      out[names[i]] = convertFromWasm(Module, h.heldOutput(i));
      continue;
    }
    const Ctor = TYPED_ARRAYS[type];
    if (!Ctor) throw glintError(`output of type ${type} cannot be returned to JavaScript`);
    if (len === -1) {  // kept in GPU memory (preferredOutputLocation 'texture')
      out[names[i]] = new TextureTensor(Module, h.heldOutput(i), type, dims);
      continue;
    }
    if (pinned && pinned.has(names[i]) && ptr % Ctor.BYTES_PER_ELEMENT === 0) {
      out[names[i]] = new PinnedTensor(Module, h.heldOutput(i), type, dims, ptr, len);
      continue;
    }
    // A new array filled by set() rather than slice() of the heap: a GPT
    // decode step's 2.4 MB of outputs, in Chromium at 1 thread, 5.90 / 6.00 /
    // 5.57 -> 5.67 / 5.63 / 5.48 ms a step in three interleaved A/Bs.
    const data = new Ctor(len / Ctor.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(Module.HEAPU8.subarray(ptr, ptr + len));
    out[names[i]] = new Tensor(type, data, dims);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Model bytes: a URL (fetched with progress), an ArrayBuffer or a Uint8Array.
// ---------------------------------------------------------------------------
async function fetchModel(url, onProgress, what = 'the model') {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw glintError(`failed to fetch ${what} from ${url}: ${e && e.message ? e.message : e}`);
  }
  if (!response.ok) {
    throw glintError(`failed to fetch ${what} from ${url}: HTTP ${response.status} ${response.statusText}`.trim());
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

// A URL, as a string or a URL object.
function isUrl(x) {
  return typeof x === 'string' || (typeof URL !== 'undefined' && x instanceof URL);
}

// The bytes `source` holds or names: a URL fetched (`what` names it in
// errors), an ArrayBuffer (from byteOffset, for byteLength), or a view's
// bytes; null for anything else. The model and its external data files
// are given the same ways.
async function sourceBytes(source, what, { byteOffset, byteLength, onProgress } = {}) {
  if (isUrl(source)) return fetchModel(String(source), onProgress, what);
  if (source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer)) {
    const off = byteOffset ?? 0;
    const len = byteLength ?? source.byteLength - off;
    return new Uint8Array(source, off, len);
  }
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

async function modelBytes(source, byteOffset, byteLength, onProgress) {
  const bytes = await sourceBytes(source, 'the model', { byteOffset, byteLength, onProgress });
  if (bytes) return bytes;
  throw glintError(`InferenceSession.create: expected a URL string, ArrayBuffer or Uint8Array, got ${describeData(source)}`);
}

// externalData (onnxruntime-web's session option): the files a model keeps
// tensors in (TensorProto data_location EXTERNAL), each {path, data} — path
// as the model's tensors name it (their `location`), data the bytes or a
// URL to fetch them from — or a URL (string or object) fetched and matched
// by its last path segment (externalDataName). Resolves to
// [{path, bytes, fetched}] (fetched: the bytes are glint's own).
async function externalDataFiles(list) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    throw glintError(`InferenceSession.create: externalData must be an array of {path, data} or URL strings, got ${describeData(list)}`);
  }
  return Promise.all(list.map(async (entry, i) => {
    const where = `InferenceSession.create: externalData[${i}]`;
    const { path, data } = isUrl(entry) ? { path: externalDataName(String(entry)), data: entry } : (entry ?? {});
    if (typeof path !== 'string' || path === '') {
      throw glintError(`${where}.path must be the file name the model's tensors give as their location, got ${describeData(path)}`);
    }
    if (!relativeFileName(path)) {
      throw glintError(`${where}.path '${path}' is not a file name relative to the model (as the model's tensors ` +
        "give their location): no leading '/', no scheme, no '..'");
    }
    const bytes = await sourceBytes(data, `external data '${path}'`);
    if (bytes) return { path, bytes, fetched: isUrl(data) };
    throw glintError(`${where}.data must be a Uint8Array, an ArrayBuffer or a URL string, got ${describeData(data)}`);
  }));
}

// executionProviders: 'webgl' = GPU kernels with per-node wasm fallback;
// 'wasm' (or 'cpu') = wasm CPU kernels only; 'auto' (the default) = whichever
// is faster here (see chooseProvider).
const PROVIDERS = { webgl: 'default', wasm: 'cpu', cpu: 'cpu', auto: 'auto' };
const GL_ERROR_CODE = 5;  // glint::StatusCode::kGlError: the GPU could not be used here

// onnxruntime-web's providers (and others a ported app may name), skipped
// with one warning each, as onnxruntime-web skips a backend that is not
// available in the browser at hand.
function providerNames(options, severity) {
  const eps = options.executionProviders ?? ['auto'];
  if (!Array.isArray(eps) || eps.length === 0) {
    throw glintError("InferenceSession.create: executionProviders must be a non-empty array, e.g. ['webgl', 'wasm']");
  }
  const names = [];
  const skipped = [];
  eps.forEach((ep, i) => {
    const name = typeof ep === 'string' ? ep : ep && typeof ep === 'object' ? ep.name : undefined;
    if (typeof name !== 'string') {
      throw glintError(`InferenceSession.create: executionProviders[${i}] must be a name or {name: ...}, got ${describeData(ep)}`);
    }
    if (PROVIDERS[name]) { names.push(name); return; }
    skipped.push(name);
    warnOnce(`ep:${name}`, `execution provider '${name}' is not available in glint (it has 'webgl', 'wasm' and 'auto'); skipped`, severity);
  });
  if (names.length === 0) {
    throw glintError(`InferenceSession.create: no usable execution provider in [${skipped.map((n) => `'${n}'`).join(', ')}]: ` +
      "glint has 'webgl' (GPU with wasm fallback per node), 'wasm' and 'auto'");
  }
  return names;
}

// onnxruntime-web's SessionOptions, each honoured or warned about (once per
// page) when set to something glint does not do.
const SESSION_OPTIONS = {
  executionProviders: null,   // honoured: providerNames()
  logSeverityLevel: null,     // honoured: glint's warnings for this session (0 verbose .. 4 fatal)
  logVerbosityLevel: null,    // accepted: verbosity within level 0, and glint has one verbose level
  logId: null,                // accepted: a label; glint's warnings are once per page, not per session
  intraOpNumThreads: null,    // honoured: caps the session's wasm threads (at most env.wasm.numThreads)
  preferredOutputLocation: (v) => (v === undefined || HONOURED_LOCATIONS.includes(v) ||
    (v && typeof v === 'object' && Object.values(v).every((x) => HONOURED_LOCATIONS.includes(x)))
    ? null : `preferredOutputLocation ${JSON.stringify(v)} is not supported: glint returns outputs as 'cpu' tensors ` +
      "(copied out), 'cpu-pinned' ones (kept in the engine's memory) or, on webgl, 'texture' ones (kept in GPU memory); " +
      "the others come back as 'cpu'"),
  graphOptimizationLevel: (v) => (v === undefined || v === 'all' || v === 'extended' ? null
    : `graphOptimizationLevel '${v}' is not supported: glint always applies its graph optimizations (as 'all')`),
  enableProfiling: null,      // honoured: profiling from creation on (startProfiling)
  profileFilePrefix: (v) => (v !== undefined ? 'profileFilePrefix has no effect: endProfiling() returns the trace (no file is written in a browser)' : null),
  freeDimensionOverrides: null,  // honoured: overrideFreeDimensions()
  externalData: null,          // honoured: externalDataFiles()
  enableCpuMemArena: (v) => (v !== undefined ? 'enableCpuMemArena has no effect: glint plans its memory from tensor lifetimes' : null),
  enableMemPattern: (v) => (v !== undefined ? 'enableMemPattern has no effect: glint plans its memory from tensor lifetimes' : null),
  executionMode: (v) => (v === 'parallel' ? "executionMode 'parallel' is not supported: nodes run in order (the wasm kernels use threads within a node)" : null),
  interOpNumThreads: (v) => (v !== undefined ? 'interOpNumThreads has no effect: nodes run in order' : null),
  optimizedModelFilePath: (v) => (v !== undefined ? 'optimizedModelFilePath is not supported: the optimized graph is not saved' : null),
  enableGraphCapture: (v) => (v ? 'enableGraphCapture is a WebGPU option; ignored' : null),
  extra: (v) => (v && Object.keys(v).length ? 'SessionOptions.extra (session config entries) is not supported; ignored' : null),
  onProgress: null,           // glint's own: bytes received while the model downloads
};

// The output locations glint honours (preferredOutputLocation).
const HONOURED_LOCATIONS = ['cpu', 'cpu-pinned', 'texture'];

// The outputs preferredOutputLocation `v` puts at `location` ('cpu-pinned':
// kept in the engine's memory; 'texture': in GPU memory), as a Set of names,
// or null for none; names that are no output of the session are warned about.
function outputNamesAt(v, location, outputNames, severity) {
  if (v === location) return new Set(outputNames);
  if (!v || typeof v !== 'object') return null;
  const names = Object.keys(v).filter((n) => v[n] === location);
  for (const n of Object.keys(v)) {
    if (!outputNames.includes(n)) {
      warnOnce(`preferredOutputLocation:${n}`, `preferredOutputLocation names '${n}', which is no output of the model ` +
        `(its outputs: ${outputNames.map((o) => `'${o}'`).join(', ')}); ignored`, severity);
    }
  }
  const known = names.filter((n) => outputNames.includes(n));
  return known.length ? new Set(known) : null;
}

const RUN_OPTIONS = {
  logSeverityLevel: null,     // honoured: glint's warnings for this run
  logVerbosityLevel: null,
  tag: null,                  // honoured: names the run in its error messages
  terminate: null,            // honoured: a run not yet started is rejected
  extra: (v) => (v && Object.keys(v).length ? 'RunOptions.extra (run config entries) is not supported; ignored' : null),
};

function checkOptions(table, options, what, severity) {
  for (const [key, value] of Object.entries(options)) {
    if (!(key in table)) {
      warnOnce(`${what}:${key}`, `unknown ${what} field '${key}'; ignored`, severity);
      continue;
    }
    const check = table[key];
    const message = check && check(value);
    if (message) warnOnce(`${what}:${key}:${JSON.stringify(value)}`, message, severity);
  }
}

function severityOf(options) {
  const v = options && options.logSeverityLevel;
  return Number.isInteger(v) && v >= 0 && v <= 4 ? v : undefined;
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

// Runs and the page's event loop. After each run a message is posted to
// ourselves; it arrives once the event loop has had a turn. A run that
// starts before it arrived is back to back with the previous one (a loop
// awaiting run after run: a webcam classifying frames on wasm, where nothing
// inside a run waits for a task), and yields a macrotask when 16 ms have
// passed without a turn, so the page still paints and takes input about once
// a frame. Any other run starts at once: a yield per run cost a tiny model
// more than its compute (MNIST on wasm: 0.8 ms a run with it, 0.26 without),
// and onnxruntime-web does not yield either.
const runPacing = { turned: true, lastTurn: 0, port: null };
function loopTurned() {
  runPacing.turned = true;
  runPacing.lastTurn = now();
}
function runEnded() {
  runPacing.turned = false;
  if (typeof MessageChannel === 'undefined') {
    setTimeout(loopTurned, 0);
    return;
  }
  if (!runPacing.port) {
    const ch = new MessageChannel();
    ch.port1.onmessage = loopTurned;
    ch.port1.unref?.();  // Node: the channel must not keep the process alive
    ch.port2.unref?.();
    runPacing.port = ch.port2;
  }
  runPacing.port.postMessage(null);
}
async function yieldIfBusy() {
  if (runPacing.turned || now() - runPacing.lastTurn <= 16) return;
  await nextTick();
  loopTurned();
}

function now() {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

// SessionOptions.freeDimensionOverrides: {dim_param or denotation: size},
// written into the model's input/output/value_info shapes before loading.
function overrideFreeDimensions(bytes, overrides, severity) {
  if (overrides === undefined || overrides === null) return bytes;
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw glintError('InferenceSession.create: freeDimensionOverrides must be an object {dimensionName: size}');
  }
  const keys = Object.keys(overrides);
  if (keys.length === 0) return bytes;
  for (const k of keys) {
    const v = overrides[k];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw glintError(`InferenceSession.create: freeDimensionOverrides['${k}'] = ${v} is not a non-negative integer`);
    }
  }
  let patched;
  try {
    patched = applyFreeDimensionOverrides(bytes, overrides);
  } catch (e) {
    throw glintError(`not an ONNX model: ${e.message} (while applying freeDimensionOverrides)`);
  }
  for (const k of keys) {
    if (!patched.applied[k]) warnOnce(`fdo:${k}`, `freeDimensionOverrides: the model has no symbolic dimension '${k}'`, severity);
  }
  return patched.bytes;
}

// The engine's session of `bytes` on `backend` ('default', 'cpu'):
// {session} or {error, code}.
// The model's bytes and its external data files (externalDataFiles) copied
// into the engine's memory for as long as the engine session is made.
function createEngineSession(Module, bytes, backend, external = []) {
  const ptrs = [];
  const copy = (b) => {  // 0 when the engine's memory cannot grow to hold it
    const ptr = Module._malloc(Math.max(1, b.length));
    if (ptr) { ptrs.push(ptr); Module.HEAPU8.set(b, ptr); }
    return ptr;
  };
  // {error} as the engine answers, for the callers that try the next
  // provider or rebuild after a lost context.
  const tooBig = (what, b) => ({ error: `${what} (${b.length} bytes) does not fit in the engine's memory` });
  try {
    const ptr = copy(bytes);
    if (!ptr) return tooBig('the model', bytes);
    const files = [];
    for (const f of external) {
      const at = copy(f.bytes);
      if (!at) return tooBig(`external data '${f.path}'`, f.bytes);
      files.push({ path: f.path, ptr: at, size: f.bytes.length });
    }
    return Module.createSession(ptr, bytes.length, backend, files);
  } finally {
    for (const p of ptrs) Module._free(p);
  }
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
    this._createdAt = now();
    this._released = false;
    // While the WebGL context is lost (or was not restored in time): the
    // message runs reject with.
    this._lost = null;
  }

  // create(urlOrBytes, options) or create(buffer, byteOffset, byteLength, options)
  static async create(source, a, b, c) {
    let options = {};
    let byteOffset, byteLength;
    if (typeof a === 'number') { byteOffset = a; byteLength = typeof b === 'number' ? b : undefined; options = (typeof b === 'number' ? c : b) ?? {}; }
    else options = a ?? {};
    if (typeof options !== 'object') throw glintError('InferenceSession.create: options must be an object');
    const t0 = now();
    const severity = severityOf(options);
    checkOptions(SESSION_OPTIONS, options, 'SessionOptions', severity);
    const asked = providerNames(options, severity);
    // 'auto' expands to the providers it picks; explicit ones stay as given.
    let names = [];
    let autoReason = null;
    for (const n of asked) {
      if (n !== 'auto') { if (!names.includes(n)) names.push(n); continue; }
      const choice = chooseProvider();
      autoReason = choice.reason;
      for (const c of choice.names) if (!names.includes(c)) names.push(c);
    }
    let threads = requestedThreads();
    const intra = Number(options.intraOpNumThreads);
    if (Number.isInteger(intra) && intra >= 1) threads = Math.min(threads, intra);
    const onProgress = typeof options.onProgress === 'function' ? options.onProgress : undefined;
    const [Module, loaded, external] = await Promise.all([getModuleOrFallback(threads, severity),
      modelBytes(source, byteOffset, byteLength, onProgress), externalDataFiles(options.externalData)]);
    const fetchMs = now() - t0;
    if (loaded.length === 0) throw glintError('InferenceSession.create: the model is empty (0 bytes)');
    const bytes = overrideFreeDimensions(loaded, options.freeDimensionOverrides, severity);
    const failures = [];
    const cpuListed = names.includes('wasm') || names.includes('cpu');
    for (const name of names) {
      if (PROVIDERS[name] === 'default') {
        ensureCanvas(Module);
        if (Module.glintGpu) {
          await Module.glintGpu.settled.catch(() => {});  // a lost context's executor is gone first
          const why = gpuUnusableReason(Module.glintGpu);
          if (why) {
            failures.push(`${name}: ${why}${cpuListed ? '' : "; add 'wasm' to executionProviders to run on the CPU instead"}`);
            continue;
          }
        }
      }
      const r = createEngineSession(Module, bytes, PROVIDERS[name], external);
      if (r.session) {
        const t = r.session.timings();
        const timings = { fetchMs, loadMs: t.loadMs, optimizeMs: t.optimizeMs, compileMs: t.compileMs, createMs: now() - t0 };
        let reason = autoReason ?? `executionProviders asked for '${name}'`;
        if (failures.length) reason += `; ${failures.join('; ')}: fell back to '${name}'`;
        const n = Module.setNumThreads(threads, Module.glintMaxThreads);
        const session = new InferenceSession(Module, r.session, name, reason, n, timings);
        session._severity = severity;
        session._pinned = outputNamesAt(options.preferredOutputLocation, 'cpu-pinned', session.outputNames, severity);
        session._texture = outputNamesAt(options.preferredOutputLocation, 'texture', session.outputNames, severity);
        if (session._texture && name !== 'webgl') {
          warnOnce(`texture-on-${name}`, `preferredOutputLocation 'texture' needs the webgl execution provider; this ` +
            `session runs on '${name}', so those outputs come back as 'cpu' tensors`, severity);
        }
        if (name === 'webgl') {
          // Kept to rebuild the session after a lost context (the caller's
          // array may change after create() returns).
          session._model = isUrl(source) || bytes !== loaded ? bytes : bytes.slice();
          session._external = external.map((f) => (f.fetched ? f : { ...f, bytes: f.bytes.slice() }));
          session._cpuListed = cpuListed;
          Module.glintGpu?.sessions.add(session);
        }
        if (options.enableProfiling) session.startProfiling();
        return session;
      }
      // A provider that cannot start here (no WebGL2) gives way to the next
      // one; a problem with the model itself is reported at once.
      failures.push(`${name}: ${r.error}`);
      if (r.code !== GL_ERROR_CODE) break;
      if (!cpuListed) {
        failures[failures.length - 1] += " (WebGL2 is unavailable here; add 'wasm' to executionProviders to run on the CPU instead)";
      }
    }
    throw glintError(failures.length === 1 ? failures[0].replace(/^\w+: /, '') : failures.join('; '));
  }

  // run(feeds[, fetches][, options]) -> Promise<{name: Tensor}>. `fetches`: an
  // array of output names or an object whose keys are output names.
  run(feeds, fetches, options) {
    const job = this._queue.then(() => this._run(feeds, fetches, options));
    this._queue = job.catch(() => {});
    return job;
  }

  async _run(feeds, fetches, options) {
    if (this._released) throw glintError('InferenceSession.run: the session was released');
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || feeds instanceof Tensor) {
      throw glintError("InferenceSession.run: feeds must be an object mapping input names to Tensors, e.g. { [session.inputNames[0]]: tensor }");
    }
    // As onnxruntime-web: the second argument is fetches when it is an array
    // of names, or an object whose keys are all output names (values null or
    // Tensors); otherwise it is run options.
    let names = [];
    const into = new Map();  // pre-allocated outputs: name -> the caller's Tensor, written in place
    let runOptions = options;
    if (Array.isArray(fetches)) names = fetches.map(String);
    else if (fetches && typeof fetches === 'object' && !(fetches instanceof Tensor)) {
      const keys = Object.keys(fetches);
      const isFetches = keys.length > 0 && keys.every((k) => this.outputNames.includes(k) &&
        (fetches[k] === null || fetches[k] instanceof Tensor));
      if (isFetches) {
        names = keys;
        for (const k of keys) if (fetches[k] !== null) into.set(k, fetches[k]);
      } else if (options === undefined) runOptions = fetches;
    } else if (fetches !== undefined && fetches !== null) {
      throw glintError('InferenceSession.run: fetches must be an array of output names or an object keyed by output names');
    }
    runOptions = runOptions ?? {};
    if (typeof runOptions !== 'object') throw glintError('InferenceSession.run: options must be an object');
    const severity = severityOf(runOptions) ?? this._severity;
    checkOptions(RUN_OPTIONS, runOptions, 'RunOptions', severity);
    const what = runOptions.tag !== undefined ? `InferenceSession.run (tag '${runOptions.tag}')` : 'InferenceSession.run';
    if (runOptions.terminate === true) throw glintError(`${what}: terminated (RunOptions.terminate) before it started`);
    for (const n of names) {
      if (!this.outputNames.includes(n)) {
        throw glintError(`${what}: unknown output '${n}'; the model's outputs are ${this.outputNames.map((o) => `'${o}'`).join(', ')}`);
      }
    }
    const intoSeen = new Map();
    for (const [n, t] of into) {
      checkPreallocated(what, n, t, this.executionProvider === 'webgl' && this._texture?.has(n));
      if (intoSeen.has(t)) throw glintError(`${what}: outputs '${intoSeen.get(t)}' and '${n}' are given the same pre-allocated tensor`);
      intoSeen.set(t, n);
    }
    const gpu = this.executionProvider === 'webgl' ? this._m.glintGpu : null;
    if (this._lost) throw glintError(`${what}: ${this._lost}`);
    const M = this._m;
    const h = this._h;
    if (!h) throw glintError(`${what}: the session has no engine session (internal error)`);
    const tUpload = now();
    // The CPU kernels' workers, asleep since the last run, wake while the
    // feeds are copied in rather than during the first kernel (this
    // session's thread count first: the pool wakes only at the count in
    // effect, which another session's run may have changed).
    if (this.numThreads > 1) {
      M.setNumThreads(this.numThreads, M.glintMaxThreads);
      M.wakeWorkers();
    }
    const onGpu = this.executionProvider === 'webgl';
    h.clearFeeds();
    for (const [name, t] of Object.entries(feeds)) {
      if (!(t instanceof Tensor) && !(t && typeof t.type === 'string' && t.data && Array.isArray(t.dims))) {
        throw glintError(`InferenceSession.run: feed '${name}' is not a Tensor (got ${describeData(t)})`);
      }
      if (t.disposed) throw glintError(`InferenceSession.run: feed '${name}' was disposed`);
      feedToWasm(M, h, t, name, onGpu);
    }
    // Outputs kept where the run leaves them: on webgl only (a session that
    // fell back to wasm returns them as 'cpu'). Told to each engine session
    // once (a lost context's rebuild or the wasm fallback makes a new one).
    if (this._texture && h.glintKept !== onGpu) {
      h.setKeptOutputs(onGpu ? [...this._texture] : []);
      h.glintKept = onGpu;
    }
    await yieldIfBusy();  // back-to-back runs give the page a turn now and then
    // A loss seen now, or by the end of the run (see "Where a loss is seen"),
    // rejects the run: whatever the GPU computed is gone.
    const losses = gpu ? gpu.losses : 0;
    const gl = gpu ? engineGl(gpu) : null;
    const lostDuringRun = () => gpu && (gpu.losses !== losses || (gl && gl.isContextLost()));
    const lostError = () => glintError(`${what}: ${gpu.lost ?? 'WebGL context lost'} during the run: ` +
      'the session rebuilds itself when the browser restores the context');
    if (lostDuringRun() || this._lost) throw lostError();
    M.setNumThreads(this.numThreads, M.glintMaxThreads);  // threads are per module; sessions may differ
    const tRun = now();
    const started = h.runStart(names);
    const tDownload = now();
    const tagged = (m) => (runOptions.tag !== undefined ? `${what}: ${m}` : m);
    if (started.error !== undefined) throw glintError(tagged(started.error));
    // The GPU outputs are on their way back (pixel-pack buffer + fence): poll
    // from the event loop instead of stalling the page in readPixels. Steps
    // of at most 4 ms (what the browser clamps a chain of timers to anyway):
    // with steps of up to 16 ms a run saw its fence about 8 ms late on
    // average (SwiftShader, interleaved fresh pages: SqueezeNet 218 -> 181 ms,
    // MobileNetV2 218 -> 195, 5 of 6 rounds faster each).
    for (let i = 0; !h.poll(); ++i) {
      await (i < 4 ? nextTick() : sleep(Math.min(4, 1 << (i - 4))));
      loopTurned();
      if (lostDuringRun()) throw lostError();  // a lost fence may never signal
    }
    const r = h.runFinish();
    if (r.error !== undefined) throw glintError(tagged(r.error));
    let out;
    try {
      if (lostDuringRun()) throw lostError();
      out = outputsFromWasm(M, h, r, names.length ? names : this.outputNames, this._pinned, into, what);
    } finally {
      h.releaseOutputs();
    }
    runEnded();
    this.lastRunMs = r.runMs;
    if (this._profiling) this._profileRun(tUpload, tRun, tDownload, now());
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

  // Profiling, as onnxruntime-web's: between startProfiling() (or
  // enableProfiling) and endProfiling() every node of every run is timed
  // (each waits for the GPU: fenced wall time, so profiled runs are slower;
  // EXT_disjoint_timer_query is not used) and endProfiling() returns the
  // events as a Chrome trace (chrome://tracing, Perfetto): the session's
  // creation split into fetch/load/optimize/compile, then each run's
  // upload/run/download phases and its nodes ('Node' events: name, op,
  // provider). The last trace stays in `profile`.
  startProfiling() {
    if (!this._h) return;
    this._h.setProfiling(true);
    this._h.takeProfile();  // nothing before this point
    this._trace = [];
    this._traceStart = now();
    this._profiling = true;
  }

  endProfiling() {
    if (!this._h || !this._profiling) {
      warnOnce('profiling-end', 'endProfiling(): no profiling was started (startProfiling or enableProfiling)', this._severity);
      return [];
    }
    this._h.setProfiling(false);
    const t = this.timings;
    const session = [];
    let ts = 0;
    for (const [name, ms] of [['fetch', t.fetchMs], ['load', t.loadMs], ['optimize', t.optimizeMs], ['compile', t.compileMs]]) {
      if (ms === undefined) continue;
      session.push({ cat: 'Session', name, ph: 'X', pid: 1, tid: 1, ts: ts * 1000, dur: ms * 1000, args: {} });
      ts += ms;
    }
    this.profile = [...session, ...this._trace];
    this._trace = [];
    this._profiling = false;
    return this.profile;
  }

  // One run's events: its upload (feeds into the engine), run (every node,
  // from the engine's records, placed from the run's start) and download
  // (outputs back) phases, on the page's clock from the session's creation.
  _profileRun(tUpload, tRun, tDownload, tEnd) {
    const us = (t) => (t - this._createdAt + (this.timings.createMs ?? 0)) * 1000;
    const phase = (name, a, b) => this._trace.push({ cat: 'Session', name, ph: 'X', pid: 1, tid: 1, ts: us(a), dur: (b - a) * 1000, args: {} });
    phase('upload', tUpload, tRun);
    phase('run', tRun, tDownload);
    phase('download', tDownload, tEnd);
    const nodes = this._h.takeProfile();
    const first = nodes.length ? nodes[0].startMs : 0;
    for (const e of nodes) {
      this._trace.push({ cat: 'Node', name: e.node, ph: 'X', pid: 1, tid: 1, ts: us(tRun) + (e.startMs - first) * 1000,
        dur: e.ms * 1000, args: { op_name: e.op, provider: e.gpu ? this.executionProvider : 'wasm' } });
    }
  }

  async release() {
    await this._queue;  // runs queued before release() still run
    this._released = true;
    if (this._m.glintGpu) this._m.glintGpu.sessions.delete(this);
    this._model = null;
    this._external = null;
    if (this._h) {
      this._h.delete();
      this._h = null;
    }
  }

  // Runs `fn` after the runs queued so far (and keeps later ones behind it).
  _enqueue(fn) {
    const job = this._queue.then(fn);
    this._queue = job.catch(() => {});
    return job;
  }

  // The context is lost: the engine session goes once a run in flight has
  // rejected (its GL objects are gone with the context).
  _dropEngineSession() {
    return this._enqueue(() => {
      if (this._h && this.executionProvider === 'webgl') {
        this._h.delete();
        this._h = null;
      }
    });
  }

  // The context is back: a fresh engine session from the kept model bytes,
  // before any run queued after this point.
  _rebuildAfterRestore() {
    const g = this._m.glintGpu;
    const settled = g.settled;
    return this._enqueue(async () => {
      await settled;
      if (this._released || this.executionProvider !== 'webgl' || this._h || g.lost) return;
      const why = gpuUnusableReason(g);
      const r = why ? { error: why } : createEngineSession(this._m, this._model, 'default', this._external);
      if (r.session) {
        this._h = r.session;
        this._lost = null;
        if (this._profiling) r.session.setProfiling(true);
        return;
      }
      this._fallBackToWasm(`the WebGL context was restored but the session could not be rebuilt on it: ${r.error}`);
    });
  }

  // The context did not come back within `ms`.
  _onRestoreTimeout(ms) {
    return this._enqueue(() => {
      if (this._released || this.executionProvider !== 'webgl' || this._h) return;
      this._fallBackToWasm(`${this._m.glintGpu.lost} and not restored within ${ms} ms (env.webgl.contextRestoreTimeout)`);
    });
  }

  // Continues on wasm when executionProviders listed it; else runs reject
  // with `why` (and the session rebuilds if the context comes back later).
  _fallBackToWasm(why) {
    if (!this._cpuListed) {
      this._lost = `${why}; add 'wasm' to executionProviders to continue on the CPU instead`;
      return;
    }
    const r = createEngineSession(this._m, this._model, 'cpu', this._external);
    if (!r.session) {
      this._lost = `${why}; and the wasm session failed: ${r.error}`;
      return;
    }
    this._h = r.session;
    this._lost = null;
    this._model = null;
    this._external = null;
    this._m.glintGpu.sessions.delete(this);
    this.executionProvider = 'wasm';
    this.executionProviderReason += `; ${why}: fell back to 'wasm'`;
    if (this._profiling) r.session.setProfiling(true);
    warnOnce(`context-fallback:${why}`, `${why}: sessions that list 'wasm' continue on it`, this._severity);
  }
}

export default { InferenceSession, Tensor, env, float16ToFloat32, float32ToFloat16 };
