// One benchmark configuration per page: ?engine=glint|ort|tfjs|onnxjs
// &backend=webgl|wasm&threads=N. The driver (run.mjs) calls window.bench:
//   init()            load the engine, apply the global settings (threads)
//   create(workload)  fetch the files (not timed), then time the session create
//   run(keepOutput)   one timed run: inputs in, outputs read back to the CPU (a decode loop's
//                     carried outputs stay where the engine keeps them; read back when compared)
//   memory()          GPU memory figures after the runs (where the engine has them)
//   release()         free the workload's session
// A workload (its manifest.json entry) lists its inputs ({name, shape, dtype
// float32|int64, file}) and outputs ({name, shape}). Every engine gets the
// same input bytes (NCHW; NHWC for TF.js, whose workloads have one float32
// input) and hands every output back as float32 in NCHW, in the order of
// the list, so the driver compares like with like.
import { fetchBytes } from '/test/util.mjs';
import { buildTfModel } from './tf-builder.mjs';

const params = new URLSearchParams(location.search);
const ENGINE = params.get('engine');
const BACKEND = params.get('backend');
const THREADS = Number(params.get('threads') || 1);
const NM = new URL('./node_modules/', import.meta.url).href;
const MODELS = new URL('/models/bench/', location.href).href;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

// A float array of a [n, c, h, w] tensor from NCHW to NHWC (to = 'NHWC'), or
// from NHWC back to NCHW (to = 'NCHW'): element (b, ch, y, x) sits at
// b·c·h·w + ch·sc + y·sy + x·sx, with strides (sc, sy, sx) per layout.
function toLayout(src, [n, c, h, w], to) {
  const nchw = [h * w, w, 1];
  const nhwc = [1, w * c, c];
  const [dc, dy, dx] = to === 'NHWC' ? nhwc : nchw;
  const [sc, sy, sx] = to === 'NHWC' ? nchw : nhwc;
  const dst = new Float32Array(src.length);
  for (let b = 0, base = 0; b < n; ++b, base += c * h * w) {
    for (let ch = 0; ch < c; ++ch) for (let y = 0; y < h; ++y) for (let x = 0; x < w; ++x) {
      dst[base + ch * dc + y * dy + x * dx] = src[base + ch * sc + y * sy + x * sx];
    }
  }
  return dst;
}

function toBase64(f32) {
  const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function errorText(e) {
  return (e && e.message ? e.message : String(e)).split('\n')[0].slice(0, 300);
}

// ---------------------------------------------------------------------------
// Engines: each { init, create(files, w), run(handle, w, feeds), memory, release };
// feeds: [{name, dtype, shape, data}] in w.inputs' order, or with `tensor`
// (the engine's own, from an earlier run: a carried KV cache); run resolves to
// the outputs' data in w.outputs' order, or to {data, tensors} where outputs
// can be carried.
// ---------------------------------------------------------------------------
const ENGINES = {
  glint: {
    dist: '/dist/index.mjs',
    async init() {
      const glint = await import(this.dist);
      this.glint = glint;
      const notes = [];
      if (BACKEND === 'wasm') {
        if (glint.env?.wasm) glint.env.wasm.numThreads = THREADS;
        else if (THREADS !== 1) throw new Error('glint.env.wasm does not exist: no thread setting');
      }
      return { version: glint.env?.versions?.glint, threads: BACKEND === 'wasm' ? (glint.env?.wasm?.numThreads ?? 1) : undefined, notes };
    },
    async create(files, w) {
      // On webgl the carried outputs stay in GPU memory ('texture').
      const s = await this.glint.InferenceSession.create(files.onnx,
        { executionProviders: [BACKEND], ...carryOptions(w, BACKEND === 'webgl' ? 'texture' : 'cpu-pinned') });
      if (s.executionProvider !== BACKEND) throw new Error(`started on ${s.executionProvider}, not ${BACKEND}`);
      return s;
    },
    async run(s, w, feeds, keepOutput) {
      const out = await s.run(Object.fromEntries(feeds.map((f) => [f.name, f.tensor ?? new this.glint.Tensor(f.dtype, f.data, f.shape)])));
      // A carried output kept in GPU memory is read back only when the outputs are compared.
      const data = await Promise.all(w.outputs.map((o) => (out[o.name].location !== 'texture' ? out[o.name].data
        : keepOutput ? out[o.name].getData() : null)));
      return { data, tensors: out };
    },
    memory(s) {
      const m = s.gpuMemory;
      return m ? { textureBytes: m.textureBytes, liveTextures: m.liveTextures, pooledTextures: m.pooledTextures,
        programs: m.programs } : null;
    },
    async release(s) { await s.release(); },
  },

  ort: {
    async init() {
      const bundle = BACKEND === 'webgl' ? 'ort.webgl.min.mjs' : 'ort.wasm.min.mjs';
      const ort = await import(`${NM}onnxruntime-web/dist/${bundle}`);
      this.ort = ort;
      ort.env.wasm.wasmPaths = `${NM}onnxruntime-web/dist/`;
      ort.env.wasm.numThreads = THREADS;
      ort.env.logLevel = 'error';
      return { version: ort.env.versions?.web, threads: BACKEND === 'wasm' ? ort.env.wasm.numThreads : undefined,
        notes: BACKEND === 'webgl' ? [`env.webgl.pack ${ort.env.webgl?.pack ?? 'unset (its default)'}`] : [] };
    },
    async create(files, w) {
      return this.ort.InferenceSession.create(files.onnx, { executionProviders: [BACKEND], graphOptimizationLevel: 'all',
        ...carryOptions(w) });
    },
    async run(s, w, feeds) {
      const out = await s.run(Object.fromEntries(feeds.map((f) => [f.name, f.tensor ?? new this.ort.Tensor(f.dtype, f.data, f.shape)])));
      // CPU tensors on both EPs ('cpu-pinned' too: onnxruntime-web's wasm copies those out all the same)
      return { data: w.outputs.map((o) => out[o.name].data), tensors: out };
    },
    memory() { return null; },  // no API for it
    async release(s) { await s.release(); },
  },

  tfjs: {
    async init() {
      await loadScript(`${NM}@tensorflow/tfjs/dist/tf.min.js`);
      const tf = globalThis.tf;
      this.tf = tf;
      if (BACKEND === 'wasm') {
        await loadScript(`${NM}@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`);
        tf.wasm.setWasmPaths(`${NM}@tensorflow/tfjs-backend-wasm/dist/`);
        tf.wasm.setThreadsCount(THREADS);
      }
      if (!(await tf.setBackend(BACKEND))) throw new Error(`tf.setBackend('${BACKEND}') failed`);
      await tf.ready();
      const threads = BACKEND === 'wasm' ? tf.wasm.getThreadsCount() : undefined;
      const notes = BACKEND === 'wasm' ? [`multithread support: ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}`] :
        [`WEBGL_PACK=${tf.env().getBool('WEBGL_PACK')}`];
      return { version: tf.version.tfjs, threads, notes };
    },
    // create = building the weight tensors (TF.js uploads and compiles lazily:
    // both fall into the first run).
    async create(files) { return buildTfModel(this.tf, files.spec, files.weights); },
    async run(model, w, [feed]) {
      const tf = this.tf;
      const y = tf.tidy(() => model.predict(tf.tensor(feed.data, w.inputs[0].tfShape, 'float32')));
      try {
        return [await y.data()];
      } finally {
        y.dispose();
      }
    },
    memory() {
      const m = this.tf.memory();
      const out = { numTensors: m.numTensors, numBytes: m.numBytes };
      if (m.numBytesInGPU !== undefined) out.numBytesInGPU = m.numBytesInGPU;
      if (m.numBytesInGPUAllocated !== undefined) out.numBytesInGPUAllocated = m.numBytesInGPUAllocated;
      return out;
    },
    async release(model) { model.dispose(); },
  },

  onnxjs: {
    async init() {
      if (BACKEND !== 'webgl') throw new Error('ONNX.js is measured on webgl only');
      await loadScript(`${NM}onnxjs/dist/onnx.min.js`);
      this.onnx = globalThis.onnx;
      return { version: undefined, notes: [] };
    },
    async create(files, w) {
      const s = new this.onnx.InferenceSession({ backendHint: 'webgl' });
      await s.loadModel(files.onnx);
      const int64 = w?.inputs.find((i) => i.dtype !== 'float32');  // no w: init()'s warm-up
      if (int64) throw new Error(`ONNX.js has no ${int64.dtype} tensors (input '${int64.name}')`);
      return s;
    },
    async run(s, w, feeds) {
      const out = await s.run(feeds.map((f) => new this.onnx.Tensor(f.data, 'float32', f.shape)));
      // Its outputs by name (one output: whatever it calls it); reading data reads the texture back.
      return w.outputs.map((o) => (out.get(o.name) ?? (w.outputs.length === 1 ? out.values().next().value : undefined))?.data);
    },
    memory() { return null; },
    async release() {},  // ONNX.js has no release; the session is dropped
  },
};
// A second build of the package (run.mjs --baseline DIR, served at /base/):
// the same engine code against other files, for A/B runs.
ENGINES['glint-base'] = { ...ENGINES.glint, dist: '/base/index.mjs' };
// glint writing each output into a tensor allocated once (run.mjs --into):
// onnxruntime-web's pre-allocated outputs (run(feeds, {name: tensor})). The
// first run allocates them from its outputs (the workloads' outputs keep
// their dims from run to run); a decode loop's carried outputs stay kept.
ENGINES['glint-into'] = {
  ...ENGINES.glint,
  async run(s, w, feeds, keepOutput) {
    const into = (s.glintInto ??= {});
    const carried = new Set(Object.keys(w.carry?.outputs ?? {}));
    const fetches = Object.fromEntries(w.outputs.map((o) => [o.name, carried.has(o.name) ? null : into[o.name] ?? null]));
    const out = await s.run(Object.fromEntries(feeds.map((f) => [f.name, f.tensor ?? new this.glint.Tensor(f.dtype, f.data, f.shape)])), fetches);
    for (const o of w.outputs) {
      const t = out[o.name];
      if (!carried.has(o.name) && t.location === 'cpu' && into[o.name] !== t) into[o.name] = t;  // reused from the next run on
    }
    const data = await Promise.all(w.outputs.map((o) => (out[o.name].location !== 'texture' ? out[o.name].data
      : keepOutput ? out[o.name].getData() : null)));
    return { data, tensors: out };
  },
};

// ---------------------------------------------------------------------------
const engine = ENGINES[ENGINE];
let current = null;  // { w, handle, feeds, carried, step, spent }

// A decode loop (w.carry: {outputs: {output: input}, e.g. present_key_0 ->
// past_key_0, mask, every}): each run feeds the outputs of the run before
// (the KV cache grows by one token a step, w.carry.mask with it), back to the
// files' cache every w.carry.every runs so that every engine does the same
// bounded work. The
// engines are asked to keep those outputs where they are
// (preferredOutputLocation 'cpu-pinned'; 'texture' for glint on webgl):
// glint keeps them in its memory (in GPU memory on webgl), onnxruntime-web's
// wasm copies them out regardless.
function carryOptions(w, location = 'cpu-pinned') {
  if (!w?.carry) return {};
  return { preferredOutputLocation: Object.fromEntries(Object.keys(w.carry.outputs).map((o) => [o, location])) };
}

function carriedFeeds(c) {
  const { w, feeds, carried, step } = c;
  if (!carried) return feeds;
  const grown = step % w.carry.every;
  return feeds.map((f) => {
    if (carried[f.name]) return { ...f, tensor: carried[f.name] };
    if (f.name !== w.carry.mask) return f;
    const shape = [f.shape[0], f.shape[1] + grown];
    return { ...f, shape, data: new BigInt64Array(shape[0] * shape[1]).fill(1n) };
  });
}

// After run `r` (its {data, tensors}): what the next run feeds, and what is
// disposed before it (the cache this run was fed; at a reset, this run's too).
function carryOn(c, r) {
  const { w } = c;
  c.spent.push(...Object.values(c.carried ?? {}));
  c.step += 1;
  const outs = Object.keys(w.carry.outputs).map((o) => r.tensors[o]);
  if (c.step % w.carry.every === 0) {
    c.spent.push(...outs);
    c.carried = null;
  } else {
    c.carried = Object.fromEntries(Object.entries(w.carry.outputs).map(([o, i]) => [i, r.tensors[o]]));
  }
}

function disposeSpent(c) {
  for (const t of c.spent.splice(0)) t.dispose?.();
}

const TYPED = { float32: Float32Array, int64: BigInt64Array };

function rendererString() {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return 'no WebGL2';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const r = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    const v = ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return `${v} / ${r}`;
  } catch (e) {
    return `unknown (${errorText(e)})`;
  }
}

window.bench = {
  async init() {
    if (!engine) throw new Error(`unknown engine '${ENGINE}'`);
    const info = await engine.init();
    // Instantiate the engine's runtime (wasm module, WebGL context) with a
    // small model first, so that no workload's "create" pays for it.
    if (ENGINE !== 'tfjs') {
      const t0 = performance.now();
      const h = await engine.create({ onnx: await fetchBytes(MODELS + 'mnist.onnx') });
      await engine.release(h);
      info.runtimeMs = performance.now() - t0;
    }
    return { ...info, crossOriginIsolated: globalThis.crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined', hardwareConcurrency: navigator.hardwareConcurrency,
      userAgent: navigator.userAgent };
  },

  renderer: rendererString,

  async create(w) {
    const files = {};
    if (ENGINE === 'tfjs') {
      if (w.tfSkip) throw new Error(w.tfSkip);  // run.mjs does not ask; say why if asked
      files.spec = JSON.parse(new TextDecoder().decode(await fetchBytes(MODELS + `${w.name}.tf.json`)));
      files.weights = new Float32Array((await fetchBytes(MODELS + `${w.name}.tf.bin`)).buffer);
    } else {
      files.onnx = await fetchBytes(MODELS + `${w.name}.onnx`);
    }
    const feeds = [];
    for (const i of w.inputs) {
      const Typed = TYPED[i.dtype];
      if (!Typed) throw new Error(`input '${i.name}': dtype ${i.dtype} is not one the harness feeds`);
      const bytes = await fetchBytes(MODELS + i.file);
      let data = new Typed(bytes.buffer, bytes.byteOffset, bytes.byteLength / Typed.BYTES_PER_ELEMENT);
      if (ENGINE === 'tfjs' && i.nhwc) data = toLayout(data, i.shape, 'NHWC');
      feeds.push({ name: i.name, dtype: i.dtype, shape: i.shape, data });
    }
    const t0 = performance.now();
    const handle = await engine.create(files, w);
    const createMs = performance.now() - t0;
    current = { w, handle, feeds, carried: null, step: 0, spent: [] };
    return { createMs };
  },

  async run(keepOutput) {
    const c = current;
    const { w, handle } = c;
    const t0 = performance.now();
    if (w.carry) disposeSpent(c);
    const r = await engine.run(handle, w, w.carry ? carriedFeeds(c) : c.feeds, keepOutput);
    const data = Array.isArray(r) ? r : r.data;
    const ms = performance.now() - t0;
    if (w.carry && !r.tensors) throw new Error(`${ENGINE} returns no output tensors to feed back: it cannot run a decode loop`);
    if (w.carry) carryOn(c, r);
    if (!keepOutput) return { ms };
    const outputs = w.outputs.map((o, k) => {
      const d = data[k];
      if (!d) throw new Error(`output '${o.name}' is missing`);
      let out = d instanceof Float32Array ? d : Float32Array.from(d, Number);  // BigInt64Array too
      if (ENGINE === 'tfjs' && o.nhwc) out = toLayout(out, o.shape, 'NCHW');
      return toBase64(out);
    });
    return { ms, outputs };
  },

  memory() { return current ? engine.memory(current.handle) : null; },

  async release() {
    if (!current) return;
    const c = current;
    current = null;
    if (c.w.carry) {
      c.spent.push(...Object.values(c.carried ?? {}));
      disposeSpent(c);
    }
    await engine.release(c.handle);
  },
};
window.benchReady = true;
