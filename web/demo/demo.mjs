// The demo page: an image-classification model (SqueezeNet 1.1 and the
// others models/models.json lists and the server has) on a sample photo or
// one of yours, top-5 with bars, timings (median per photo), the execution
// provider ('auto' by default, with the reason it chose), and "open your own
// .onnx": its inputs, where each node runs, and a run on generated inputs;
// the webcam, classified frame after frame with the frames per second.
// URL parameters: ?ep=auto|webgl|wasm  ?runs=N (extra runs for the median,
// default 3)  ?model=NAME  ?image=URL
// For tests and `make demo`, the page's state is on window.glintDemo and on
// #results' data-state ("loading" | "running" | "done" | "error"),
// data-provider (where it ran) and data-bench ("done" once the median runs
// are in); #custom's data-state ("done" | "error") for your own model.
import * as glint from '../dist/index.mjs';
import { bitmapFrom, onImageFile } from './bitmap.mjs';

// Used when models/models.json cannot be read.
const SQUEEZENET = {
  name: 'squeezenet1.1-fp16', file: 'squeezenet1.1-fp16.onnx', task: 'image-classification',
  input: { dtype: 'float16' }, labels: 'imagenet-labels.txt', output: { softmaxed: true },
  preprocess: { resize: 'short_side', resize_size: 256, crop: [224, 224], color: 'BGR', mean: [104, 117, 123], scale: [1, 1, 1], layout: 'NCHW' },
};

const params = new URLSearchParams(location.search);
const benchRuns = Math.max(0, Math.min(50, Number(params.get('runs') ?? 3) || 0));
const $ = (id) => document.getElementById(id);
const results = $('results');
const state = {
  ep: ['webgl', 'wasm', 'auto'].includes(params.get('ep')) ? params.get('ep') : 'auto',
  models: [SQUEEZENET],
  model: SQUEEZENET,
  sessions: {},    // 'model|ep' -> {session, firstRunMs: {photo: ms}, runs: {photo: [ms]}, lastMs}
  labels: {},      // model name -> labels
  bitmap: null,    // the photo being classified
  name: '',
};
window.glintDemo = { state: 'loading' };

const ms = (x) => (x === undefined || x === null || Number.isNaN(x) ? '–' : `${x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`);
const median = (xs) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// Work is serialised: a click while the model runs waits its turn.
let queue = Promise.resolve();
function enqueue(fn) {
  queue = queue.then(fn).catch((e) => {
    console.error(e);
    results.dataset.state = 'error';
    window.glintDemo = { ...window.glintDemo, state: 'error', error: e.message };
    setStatus(`Error: ${e.message}`, true);
  });
  return queue;
}

async function loadLabels(model) {
  if (state.labels[model.name]) return state.labels[model.name];
  let labels;
  if (Array.isArray(model.labels)) labels = model.labels.map(String);
  else {
    const url = `/models/${model.labels}`;
    const r = await fetch(url);
    if (!r.ok) throw new Error(`could not load the labels (${url}: HTTP ${r.status})`);
    labels = (await r.text()).split('\n').map((s) => s.trim()).filter(Boolean).map((s) => s.replace(/^\d{1,9},/, ''));
  }
  state.labels[model.name] = labels;
  return labels;
}

// Tensor.fromImage's options from a models.json preprocess entry.
function imageOptions(model) {
  const pp = model.preprocess;
  const [h, w] = pp.crop;
  const o = {
    resizedWidth: w, resizedHeight: h, tensorFormat: pp.color ?? 'RGB', tensorLayout: pp.layout ?? 'NCHW',
    mean: pp.mean ?? 0, scale: pp.scale ?? 1, invert: !!pp.invert,
    dataType: model.input && model.input.dtype === 'float16' ? 'float16' : 'float32',
  };
  if (pp.resize === 'short_side') o.shortSide = pp.resize_size;
  return o;
}

// The image-classification models of models/models.json the server has.
async function loadModels() {
  let list = [SQUEEZENET];
  try {
    const r = await fetch('/models/models.json');
    if (r.ok) {
      const cfg = await r.json();
      const candidates = cfg.models.filter((m) => m.task === 'image-classification' && m.preprocess && m.preprocess.crop);
      const present = await Promise.all(candidates.map(async (m) => (await fetch(`/models/${m.file}`, { method: 'HEAD' })).ok));
      const found = candidates.filter((m, i) => present[i]);
      if (found.length) list = found;
    }
  } catch { /* keep SqueezeNet */ }
  state.models = list;
  const wanted = params.get('model');
  state.model = list.find((m) => m.name === wanted) ?? list.find((m) => m.name === SQUEEZENET.name) ?? list[0];
  const select = $('model');
  select.replaceChildren(...list.map((m) => {
    const o = document.createElement('option');
    o.value = m.name;
    o.textContent = `${m.name} (${m.input && m.input.shape ? m.input.shape.join('x') : ''} ${m.input ? m.input.dtype : ''})`;
    o.selected = m === state.model;
    return o;
  }));
}

async function getSession(ep) {
  const model = state.model;
  const key = `${model.name}|${ep}`;
  if (state.sessions[key]) return state.sessions[key];
  setStatus(`Loading ${model.name} for ${ep}…`);
  const session = await glint.InferenceSession.create(`/models/${model.file}`, {
    executionProviders: [ep],
    onProgress: ({ loaded, total }) => {
      const pct = total ? ` (${Math.round((100 * loaded) / total)}%)` : '';
      setStatus(`Downloading the model: ${(loaded / 1e6).toFixed(1)} MB${pct}…`);
    },
  });
  const entry = { session, firstRunMs: {}, runs: {}, lastMs: undefined };
  state.sessions[key] = entry;
  return entry;
}

// The preview shows exactly the crop the model sees.
function drawPreview(bitmap) {
  const c = $('preview');
  const ctx = c.getContext('2d');
  const o = imageOptions(state.model);
  const w = bitmap.videoWidth || bitmap.width, h = bitmap.videoHeight || bitmap.height;
  ctx.imageSmoothingQuality = 'high';
  ctx.clearRect(0, 0, c.width, c.height);
  if (!o.shortSide) { ctx.drawImage(bitmap, 0, 0, c.width, c.height); return; }
  const scale = o.shortSide / Math.min(w, h);
  const rw = Math.round(w * scale), rh = Math.round(h * scale);
  const cx = Math.floor((rw - o.resizedWidth) / 2), cy = Math.floor((rh - o.resizedHeight) / 2);
  ctx.drawImage(bitmap, cx / scale, cy / scale, o.resizedWidth / scale, o.resizedHeight / scale, 0, 0, c.width, c.height);
}

function renderTop(top) {
  results.replaceChildren(...top.map((t) => {
    const li = document.createElement('li');
    li.className = 'row';
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = t.label.split(',')[0];
    label.title = t.label;
    const pct = document.createElement('span');
    pct.className = 'pct';
    pct.textContent = `${(100 * t.prob).toFixed(1)}%`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${Math.max(0.5, 100 * t.prob).toFixed(1)}%`;
    bar.append(fill);
    li.append(label, pct, bar);
    return li;
  }));
}

function renderTimings(entry) {
  const t = entry.session.timings;
  const runs = entry.runs[state.name] ?? [];
  $('t-load').textContent = ms(t.fetchMs + t.loadMs);
  $('t-compile').textContent = ms(t.compileMs);
  $('t-first').textContent = ms(entry.firstRunMs[state.name]);
  $('t-median').textContent = runs.length ? `${ms(median(runs))} (${runs.length} runs on ${state.name})` : '–';
  $('t-last').textContent = ms(entry.lastMs);
  const mem = entry.session.gpuMemory;
  $('t-gpu').textContent = mem && entry.session.executionProvider === 'webgl'
    ? `${(mem.textureBytes / 1048576).toFixed(1)} MiB in ${mem.liveTextures + mem.pooledTextures} textures, ${mem.programs} programs`
    : '– (wasm)';
  const p = entry.session.placements;
  const gpu = p.filter((x) => x.gpu).length;
  $('placement').textContent = entry.session.executionProvider === 'webgl'
    ? `${gpu} of ${p.length} nodes on the GPU (${entry.session.renderer}), ${p.length - gpu} on the wasm CPU kernels.`
    : `${p.length} nodes on the wasm CPU kernels.`;
}

async function runOnce(entry, input) {
  const t0 = performance.now();
  const out = await entry.session.run({ [entry.session.inputNames[0]]: input });
  const dt = performance.now() - t0;
  entry.lastMs = dt;
  // Timings per photo: a first run and the median of the runs after it.
  if (entry.firstRunMs[state.name] === undefined) entry.firstRunMs[state.name] = dt;
  else (entry.runs[state.name] ??= []).push(dt);
  return out[entry.session.outputNames[0]];
}

// One profiled run (startProfiling/endProfiling) drawn as bars: the slowest
// nodes of that run, each with its op and provider.
async function renderProfile(entry, input) {
  const s = entry.session;
  s.startProfiling();
  await s.run({ [s.inputNames[0]]: input });
  const nodes = s.endProfiling().filter((e) => e.cat === 'Node');
  const total = nodes.reduce((a, e) => a + e.dur, 0) / 1000;
  const top = [...nodes].sort((a, b) => b.dur - a.dur).slice(0, 12);
  const svg = $('profile-chart');
  const row = 18, label = 230, width = 560;
  const max = top.length ? top[0].dur : 1;
  const esc = (t) => String(t).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
  // Scales with the card: the bars and labels live in the viewBox.
  svg.setAttribute('viewBox', `0 0 ${width} ${row * (top.length + 1)}`);
  svg.setAttribute('width', '100%');
  svg.innerHTML = top.map((e, i) => {
    const w = Math.max(1, ((width - label - 70) * e.dur) / max);
    const y = i * row;
    return `<text x="${label - 6}" y="${y + 13}" text-anchor="end" font-size="11">${esc(e.name.slice(-28))} (${esc(e.args.op_name)})</text>` +
      `<rect x="${label}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" fill="${e.args.provider === 'wasm' ? '#c77' : '#479'}"></rect>` +
      `<text x="${(label + w + 4).toFixed(1)}" y="${y + 13}" font-size="11">${(e.dur / 1000).toFixed(2)} ms</text>`;
  }).join('') + `<text x="0" y="${row * top.length + 13}" font-size="11">${nodes.length} nodes, ${total.toFixed(1)} ms in nodes</text>`;
  $('profile').hidden = false;
  return { nodes: nodes.length, totalMs: total, slowest: top[0] ? top[0].name : null };
}

function softmax(v) {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

async function classify() {
  const model = state.model;
  results.dataset.state = 'running';
  results.dataset.bench = '';
  const labels = await loadLabels(model);
  const entry = await getSession(state.ep);
  const ep = entry.session.executionProvider;
  $('reason').textContent = `${model.name} runs on ${ep}: ${entry.session.executionProviderReason}`;
  setStatus(`Classifying ${state.name} on ${ep}…`);
  const input = await glint.Tensor.fromImage(state.bitmap, imageOptions(model));
  const y = await runOnce(entry, input);
  let probs = y.type === 'float16' ? glint.float16ToFloat32(y.data) : Float32Array.from(y.data, Number);
  if (model.output && model.output.softmaxed === false) probs = softmax(probs);
  const top = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5)
    .map((i) => ({ index: i, label: labels[i] ?? String(i), prob: probs[i] }));
  renderTop(top);
  renderTimings(entry);
  results.dataset.state = 'done';
  results.dataset.provider = ep;
  window.glintDemo = {
    state: 'done', provider: ep, reason: entry.session.executionProviderReason, model: model.name, image: state.name, top,
    renderer: entry.session.renderer, timings: { ...entry.session.timings, firstRunMs: entry.firstRunMs[state.name] },
  };
  setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%).`);
  // Warm runs for the median (once per session and photo).
  const done = () => (entry.runs[state.name] ?? []).length;
  if (done() < benchRuns) {
    for (let i = done(); i < benchRuns; ++i) {
      setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%). Timing run ${i + 1} of ${benchRuns}…`);
      await runOnce(entry, input);
      renderTimings(entry);
    }
    setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%).`);
  }
  window.glintDemo.timings.medianRunMs = median(entry.runs[state.name] ?? []);
  window.glintDemo.runs = done();
  window.glintDemo.profile = await renderProfile(entry, input);
  results.dataset.bench = 'done';
}

function useSource(source, name) {
  if (webcam.on) stopWebcam();
  enqueue(async () => {
    setStatus(`Loading ${name}…`);
    state.bitmap = await bitmapFrom(source);
    state.name = name;
    drawPreview(state.bitmap);
    await classify();
  });
}

for (const b of document.querySelectorAll('.sample')) {
  b.addEventListener('click', () => {
    for (const o of document.querySelectorAll('.sample')) o.setAttribute('aria-pressed', String(o === b));
    useSource(b.dataset.src, b.dataset.src.split('/').pop());
  });
}
document.querySelector(`input[name="ep"][value="${state.ep}"]`).checked = true;
for (const r of document.querySelectorAll('input[name="ep"]')) {
  r.addEventListener('change', () => {
    if (!r.checked) return;
    state.ep = r.value;
    if (state.bitmap) enqueue(classify);
  });
}
onImageFile($('file'), $('drop'), (f) => {
  for (const o of document.querySelectorAll('.sample')) o.setAttribute('aria-pressed', 'false');
  useSource(f, f.name);
});

// The webcam: each frame classified as soon as the last one is done; frames
// per second over the last 10 frames.
const webcam = { on: false, stream: null, frames: 0, times: [] };
async function webcamFrame() {
  if (!webcam.on) return;
  const video = $('video');
  const model = state.model;
  const labels = await loadLabels(model);
  const entry = await getSession(state.ep);
  drawPreview(video);
  const input = await glint.Tensor.fromImage(video, imageOptions(model));
  const out = (await entry.session.run({ [entry.session.inputNames[0]]: input }))[entry.session.outputNames[0]];
  let probs = out.type === 'float16' ? glint.float16ToFloat32(out.data) : Float32Array.from(out.data, Number);
  if (model.output && model.output.softmaxed === false) probs = softmax(probs);
  const top = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5)
    .map((i) => ({ index: i, label: labels[i] ?? String(i), prob: probs[i] }));
  renderTop(top);
  webcam.frames += 1;
  webcam.times.push(performance.now());
  if (webcam.times.length > 11) webcam.times.shift();
  const n = webcam.times.length - 1;
  const fps = n > 0 ? (1000 * n) / (webcam.times[n] - webcam.times[0]) : 0;
  $('fps').textContent = `webcam on ${entry.session.executionProvider}: ${fps.toFixed(1)} frames/s`;
  window.glintDemo = { ...window.glintDemo, webcam: { frames: webcam.frames, fps, top1: top[0].label, provider: entry.session.executionProvider } };
  if (webcam.on) enqueue(webcamFrame);
}

async function startWebcam() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('this browser has no camera access (getUserMedia)');
  webcam.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const video = $('video');
  video.srcObject = webcam.stream;
  await video.play();
  webcam.on = true; webcam.frames = 0; webcam.times = [];
  $('webcam').setAttribute('aria-pressed', 'true');
  $('webcam').textContent = 'Stop the webcam';
  setStatus('Classifying the webcam…');
  enqueue(webcamFrame);
}

function stopWebcam() {
  webcam.on = false;
  if (webcam.stream) for (const t of webcam.stream.getTracks()) t.stop();
  webcam.stream = null;
  $('webcam').setAttribute('aria-pressed', 'false');
  $('webcam').textContent = 'Use the webcam';
  setStatus('Webcam stopped.');
  if (state.bitmap) drawPreview(state.bitmap);
}

$('webcam').addEventListener('click', () => {
  if (webcam.on) stopWebcam();
  else enqueue(startWebcam);
});

$('model').addEventListener('change', (e) => {
  state.model = state.models.find((m) => m.name === e.target.value) ?? state.model;
  if (state.bitmap) enqueue(async () => { drawPreview(state.bitmap); await classify(); });
});

// ---------------------------------------------------------------------------
// Your own .onnx: inputs, placements, a run on generated inputs.
// ---------------------------------------------------------------------------
const FLOAT_TYPES = ['float32', 'float16', 'float64'];
const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array,
  int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

// An input the model accepts: symbolic and unknown dims become 1, floats
// uniform in [0, 1), everything else zeros.
function generatedInput(meta) {
  const dims = (meta.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  if (meta.type === 'float16') {
    return { tensor: new glint.Tensor('float16', glint.float32ToFloat16(Float32Array.from({ length: n }, Math.random)), dims), how: 'uniform [0, 1)' };
  }
  const Ctor = ARRAYS[meta.type];
  if (!Ctor) throw new Error(`input '${meta.name}' has type ${meta.type}, which the demo cannot generate`);
  const data = new Ctor(n);
  if (FLOAT_TYPES.includes(meta.type)) for (let i = 0; i < n; ++i) data[i] = Math.random();
  return { tensor: new glint.Tensor(meta.type, data, dims), how: FLOAT_TYPES.includes(meta.type) ? 'uniform [0, 1)' : 'zeros' };
}

function cells(row, values, classes = []) {
  const tr = document.createElement('tr');
  values.forEach((v, i) => {
    const td = document.createElement('td');
    td.textContent = v;
    if (classes[i]) td.className = classes[i];
    tr.append(td);
  });
  row.append(tr);
}

function previewValues(t) {
  const data = t.type === 'float16' ? glint.float16ToFloat32(t.data) : t.data;
  const head = Array.from(data.slice(0, 6), (v) => (typeof v === 'bigint' ? String(v) : Number(v).toPrecision(4)));
  return head.join(', ') + (data.length > 6 ? `, … (${data.length} values)` : '');
}

async function openCustom(file) {
  const box = $('custom');
  box.hidden = false;
  box.dataset.state = 'running';
  $('custom-title').textContent = `Your model: ${file.name}`;
  for (const id of ['custom-inputs', 'custom-outputs', 'custom-placements']) $(id).tBodies[0].replaceChildren();
  $('custom-summary').textContent = '';
  const status = (t) => { $('custom-status').textContent = t; };
  try {
    status(`Loading ${file.name} (${(file.size / 1e6).toFixed(1)} MB) on ${state.ep}…`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const session = await glint.InferenceSession.create(bytes, { executionProviders: [state.ep] });
    try {
      const feeds = {};
      for (const meta of session.inputMetadata) {
        const g = generatedInput(meta);
        feeds[meta.name] = g.tensor;
        cells($('custom-inputs').tBodies[0], [meta.name, meta.type, `[${(meta.shape ?? []).map((d) => d ?? '?').join(', ')}]`,
          `[${g.tensor.dims.join(', ')}] ${g.how}`]);
      }
      const p = session.placements;
      const gpu = p.filter((x) => x.gpu).length;
      $('custom-summary').textContent = `${session.executionProvider} (${session.executionProviderReason}): ` +
        `${gpu} of ${p.length} nodes on the GPU, ${p.length - gpu} on the wasm CPU kernels; ` +
        `created in ${ms(session.timings.createMs)} (compile ${ms(session.timings.compileMs)}).`;
      for (const x of p) cells($('custom-placements').tBodies[0], [x.node, x.op, x.gpu ? `GPU (${x.kernel})` : 'wasm CPU', x.reason ?? ''], [null, null, x.gpu ? 'gpu' : 'cpu']);
      status(`Running ${file.name} on generated inputs…`);
      const t0 = performance.now();
      const out = await session.run(feeds);
      const runMs = performance.now() - t0;
      for (const [name, t] of Object.entries(out)) cells($('custom-outputs').tBodies[0], [name, t.type, `[${t.dims.join(', ')}]`, previewValues(t)]);
      status(`${file.name}: ${session.inputNames.length} input(s), ${session.outputNames.length} output(s), ran in ${ms(runMs)} on ${session.executionProvider}.`);
      box.dataset.state = 'done';
      window.glintDemo = { ...window.glintDemo, custom: { name: file.name, provider: session.executionProvider, nodes: p.length, gpuNodes: gpu, outputs: Object.keys(out) } };
    } finally {
      await session.release();
    }
  } catch (e) {
    status(`Error: ${e.message}`);
    box.dataset.state = 'error';
  }
}

$('onnx-file').addEventListener('change', (e) => {
  const f = e.target.files && e.target.files[0];
  if (f) enqueue(() => openCustom(f));
});

// The models, then the default photo.
enqueue(loadModels).then(() => {
  const initial = params.get('image') ?? '/models/images/chelsea.png';
  useSource(initial, initial.split('/').pop());
});
