// The demo page: SqueezeNet 1.1 on a sample photo or one of yours, top-5 with
// bars, timings, and a switch between the webgl and wasm providers.
// URL parameters: ?ep=webgl|wasm  ?runs=N (extra runs for the median, default 3)
// For tests and `make demo`, the page's state is on window.glintDemo and on
// #results' data-state ("loading" | "running" | "done" | "error") and
// data-bench ("done" once the median runs are in).
import * as glint from '../dist/index.mjs';

const MODEL = '/models/squeezenet1.1-fp16.onnx';
const LABELS = '/models/imagenet-labels.txt';
// models/models.json: BGR 0-255 minus the mean, short side 256, centre crop 224, float16.
const PREPROCESS = {
  resizedWidth: 224, resizedHeight: 224, shortSide: 256,
  tensorFormat: 'BGR', tensorLayout: 'NCHW', mean: [104, 117, 123], scale: 1, dataType: 'float16',
};

const params = new URLSearchParams(location.search);
const benchRuns = Math.max(0, Math.min(50, Number(params.get('runs') ?? 3) || 0));
const $ = (id) => document.getElementById(id);
const results = $('results');
const state = {
  ep: params.get('ep') === 'wasm' ? 'wasm' : 'webgl',
  sessions: {},    // ep -> {session, firstRunMs, runs: []}
  labels: null,
  bitmap: null,    // the photo being classified
  name: '',
};
window.glintDemo = { state: 'loading' };
document.querySelector(`input[name="ep"][value="${state.ep}"]`).checked = true;

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

async function loadLabels() {
  if (state.labels) return state.labels;
  const r = await fetch(LABELS);
  if (!r.ok) throw new Error(`could not load the labels (${LABELS}: HTTP ${r.status})`);
  state.labels = (await r.text()).split('\n').map((s) => s.trim()).filter(Boolean).map((s) => s.replace(/^\d{1,9},/, ''));
  return state.labels;
}

async function getSession(ep) {
  if (state.sessions[ep]) return state.sessions[ep];
  setStatus(`Loading SqueezeNet for ${ep}…`);
  const session = await glint.InferenceSession.create(MODEL, {
    executionProviders: [ep],
    onProgress: ({ loaded, total }) => {
      const pct = total ? ` (${Math.round((100 * loaded) / total)}%)` : '';
      setStatus(`Downloading the model: ${(loaded / 1e6).toFixed(1)} MB${pct}…`);
    },
  });
  const entry = { session, firstRunMs: undefined, runs: [] };
  state.sessions[ep] = entry;
  return entry;
}

async function bitmapFrom(source) {
  if (typeof source === 'string') {
    const r = await fetch(source);
    if (!r.ok) throw new Error(`could not load ${source} (HTTP ${r.status})`);
    source = await r.blob();
  }
  try {
    return await createImageBitmap(source);
  } catch {
    throw new Error('that file is not an image this browser can decode');
  }
}

// The preview shows exactly the crop the model sees.
function drawPreview(bitmap) {
  const c = $('preview');
  const ctx = c.getContext('2d');
  const { width: w, height: h } = bitmap;
  const scale = 256 / Math.min(w, h);
  const rw = Math.round(w * scale), rh = Math.round(h * scale);
  const cx = Math.floor((rw - 224) / 2), cy = Math.floor((rh - 224) / 2);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, cx / scale, cy / scale, 224 / scale, 224 / scale, 0, 0, c.width, c.height);
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
  $('t-load').textContent = ms(t.fetchMs + t.loadMs);
  $('t-compile').textContent = ms(t.compileMs);
  $('t-first').textContent = ms(entry.firstRunMs);
  $('t-median').textContent = entry.runs.length ? `${ms(median(entry.runs))} (${entry.runs.length} runs)` : '–';
  $('t-last').textContent = ms(entry.lastMs);
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
  if (entry.firstRunMs === undefined) entry.firstRunMs = dt;
  else entry.runs.push(dt);
  return out[entry.session.outputNames[0]];
}

async function classify() {
  const ep = state.ep;
  results.dataset.state = 'running';
  results.dataset.bench = '';
  const labels = await loadLabels();
  const entry = await getSession(ep);
  setStatus(`Classifying ${state.name} on ${ep}…`);
  const input = await glint.Tensor.fromImage(state.bitmap, PREPROCESS);
  const y = await runOnce(entry, input);
  const probs = glint.float16ToFloat32(y.data);  // a Float16Array or Uint16Array of half bits
  const top = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5)
    .map((i) => ({ index: i, label: labels[i] ?? String(i), prob: probs[i] }));
  renderTop(top);
  renderTimings(entry);
  results.dataset.state = 'done';
  results.dataset.provider = ep;
  window.glintDemo = {
    state: 'done', provider: ep, image: state.name, top,
    renderer: entry.session.renderer, timings: { ...entry.session.timings, firstRunMs: entry.firstRunMs },
  };
  setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%).`);
  // Warm runs for the median (once per session).
  if (entry.runs.length < benchRuns) {
    for (let i = entry.runs.length; i < benchRuns; ++i) {
      setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%). Timing run ${i + 1} of ${benchRuns}…`);
      await runOnce(entry, input);
      renderTimings(entry);
    }
    setStatus(`${state.name} on ${ep}: ${top[0].label.split(',')[0]} (${(100 * top[0].prob).toFixed(1)}%).`);
  }
  window.glintDemo.timings.medianRunMs = median(entry.runs);
  window.glintDemo.runs = entry.runs.length;
  results.dataset.bench = 'done';
}

function useSource(source, name) {
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
for (const r of document.querySelectorAll('input[name="ep"]')) {
  r.addEventListener('change', () => {
    if (!r.checked) return;
    state.ep = r.value;
    if (state.bitmap) enqueue(classify);
  });
}
$('file').addEventListener('change', (e) => {
  const f = e.target.files && e.target.files[0];
  if (f) {
    for (const o of document.querySelectorAll('.sample')) o.setAttribute('aria-pressed', 'false');
    useSource(f, f.name);
  }
});
const drop = $('drop');
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
  if (f) {
    for (const o of document.querySelectorAll('.sample')) o.setAttribute('aria-pressed', 'false');
    useSource(f, f.name);
  }
});

// The default photo.
const initial = params.get('image') ?? '/models/images/chelsea.png';
useSource(initial, initial.split('/').pop());
