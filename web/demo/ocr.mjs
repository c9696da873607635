// The OCR demo page: a photo of text read by three models on glint-onnx
// (ocr-pipeline.mjs does the work; this file is the page around it): the
// photo with its text boxes, the lines read with their scores, the time of
// each stage, and the models' download (bytes) and compile times.
// URL parameters: ?ep=auto|webgl|wasm  ?cls=1 (the direction classifier)
// ?image=URL
// For tests, the page's state is on window.glintOcr and on #lines'
// data-state ("loading" | "running" | "done" | "error") and data-provider.
import * as glint from '../dist/index.mjs';
import { parseDictionary, readText } from './ocr-pipeline.mjs';
import { bitmapFrom, onImageFile } from './bitmap.mjs';

const MODELS = {
  det: { file: '/models/ocr/ch_PP-OCRv4_det_infer.onnx', name: 'detection', title: 'PP-OCRv4 DB text detection' },
  rec: { file: '/models/ocr/ch_PP-OCRv4_rec_infer.onnx', name: 'recognition', title: 'PP-OCRv4 text recognition (CTC)' },
  cls: { file: '/models/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx', name: 'direction', title: 'ch_ppocr_mobile_v2.0 0/180 degree classifier' },
};
const DICTIONARY = '/models/ocr/ppocr_keys_v1.txt';
const SAMPLE = '/models/images/page.png';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const linesEl = $('lines');
const state = {
  ep: ['webgl', 'wasm', 'auto'].includes(params.get('ep')) ? params.get('ep') : 'auto',
  useCls: params.get('cls') === '1',
  sessions: {},      // ep -> {det, rec, cls}: sessions
  created: {},       // 'ep|model' -> {fetchMs, compileMs, createMs, bytes}
  dictionary: null,
  image: null,       // ImageData of the photo
  bitmap: null,
  name: '',
  last: null,        // readText's result
  hover: -1,         // the line under the pointer
};
window.glintOcr = { state: 'loading' };

const ms = (x) => (x === undefined || x === null || Number.isNaN(x) ? '–' : `${x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}
function setProgress(value) {
  const p = $('progress');
  if (value === null) { p.hidden = true; p.removeAttribute('value'); return; }
  p.hidden = false;
  if (value === undefined) p.removeAttribute('value');   // indeterminate: compiling
  else p.value = value;
}
// Lets the page paint a status before a long synchronous step.
const paint = () => new Promise((r) => { requestAnimationFrame(() => setTimeout(r, 0)); setTimeout(r, 100); });

// Work is serialised: a click while the models run waits its turn.
let queue = Promise.resolve();
function enqueue(fn) {
  queue = queue.then(fn).catch((e) => {
    console.error(e);
    linesEl.dataset.state = 'error';
    window.glintOcr = { ...window.glintOcr, state: 'error', error: e.message };
    setStatus(`Error: ${e.message}`, true);
    setProgress(null);
  });
  return queue;
}

async function loadDictionary() {
  if (state.dictionary) return state.dictionary;
  const r = await fetch(DICTIONARY);
  if (!r.ok) throw new Error(`could not load the dictionary (${DICTIONARY}: HTTP ${r.status})`);
  state.dictionary = parseDictionary(await r.text());
  return state.dictionary;
}

// One session per model and provider, created on first use, with the
// download shown in bytes and then the compile.
async function getSession(ep, key) {
  const all = (state.sessions[ep] ??= {});
  if (all[key]) return all[key];
  const m = MODELS[key];
  setStatus(`Downloading the ${m.name} model…`);
  setProgress(0);
  await paint();
  let bytes = 0;
  const session = await glint.InferenceSession.create(m.file, {
    executionProviders: [ep],
    onProgress: ({ loaded, total, done }) => {
      bytes = loaded;
      if (done) {
        setStatus(`Compiling the ${m.name} model (${mb(loaded)}, ${ep === 'auto' ? 'auto: choosing the provider' : ep})…`);
        setProgress(undefined);
      } else {
        setStatus(`Downloading the ${m.name} model: ${mb(loaded)}${total ? ` of ${mb(total)}` : ''}…`);
        setProgress(total ? loaded / total : undefined);
      }
    },
  });
  setProgress(null);
  all[key] = session;
  state.created[`${ep}|${key}`] = { ...session.timings, bytes, provider: session.executionProvider, threads: session.numThreads };
  return session;
}

async function imageFrom(source) {
  const bitmap = await bitmapFrom(source);
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#fff';   // a transparent PNG: its text on white, not on black
  ctx.fillRect(0, 0, bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  return { bitmap, image: ctx.getImageData(0, 0, bitmap.width, bitmap.height) };
}

// The photo, the text-probability map (red) and the boxes (numbered as the list).
function drawPhoto() {
  const c = $('photo');
  const { bitmap, last } = state;
  if (!bitmap) return;
  c.width = bitmap.width;
  c.height = bitmap.height;
  const ctx = c.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  if (!last) return;
  if ($('show-map').checked && last.map) {
    const { width, height, data } = last.map;
    const img = new ImageData(width, height);
    for (let i = 0; i < width * height; ++i) {
      img.data[4 * i] = 230; img.data[4 * i + 1] = 40; img.data[4 * i + 2] = 40;
      img.data[4 * i + 3] = Math.round(160 * Math.min(1, Math.max(0, data[i])));
    }
    const m = new OffscreenCanvas(width, height);
    m.getContext('2d').putImageData(img, 0, 0);
    ctx.drawImage(m, 0, 0, bitmap.width, bitmap.height);
  }
  if ($('show-boxes').checked) {
    const scale = Math.max(1, bitmap.width / 800);
    ctx.lineWidth = 1.5 * scale;
    ctx.font = `${Math.round(10 * scale)}px system-ui, sans-serif`;
    last.lines.forEach((l, i) => {
      const q = l.box.quad ?? [[l.box.x0, l.box.y0], [l.box.x1, l.box.y0], [l.box.x1, l.box.y1], [l.box.x0, l.box.y1]];
      ctx.strokeStyle = i === state.hover ? '#e36209' : '#2f6fdf';
      ctx.beginPath();
      ctx.moveTo(q[0][0], q[0][1]);
      for (const p of q.slice(1)) ctx.lineTo(p[0], p[1]);
      ctx.closePath();
      ctx.stroke();
      const label = String(i + 1);
      const x = Math.max(0, q[0][0]), y = Math.max(0, q[0][1]);
      ctx.fillStyle = i === state.hover ? '#e36209' : '#2f6fdf';
      ctx.fillRect(x, y, ctx.measureText(label).width + 4 * scale, 12 * scale);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, x + 2 * scale, y + 10 * scale);
    });
  }
}

function renderLines(result) {
  linesEl.replaceChildren(...result.lines.map((l, i) => {
    const li = document.createElement('li');
    li.className = l.score < 0.5 ? 'line low' : 'line';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = l.text || '(nothing read)';
    const score = document.createElement('span');
    score.className = 'score';
    score.textContent = `${(100 * l.score).toFixed(1)}%`;
    score.title = 'mean probability of the characters read';
    li.append(text, score);
    if (l.verdict) {
      const a = document.createElement('span');
      a.className = 'angle';
      a.textContent = `${l.verdict.angle}° (${(100 * l.verdict.score).toFixed(0)}%)${l.angle === 180 ? ', turned' : ''}`;
      a.title = "the direction classifier's verdict on this line";
      li.append(a);
    }
    li.addEventListener('mouseenter', () => { state.hover = i; drawPhoto(); });
    li.addEventListener('mouseleave', () => { state.hover = -1; drawPhoto(); });
    return li;
  }));
  if (!result.lines.length) {
    const li = document.createElement('li');
    li.textContent = 'No text found.';
    linesEl.replaceChildren(li);
  }
}

function renderTimings(result, ep) {
  const t = result.times;
  $('t-det').textContent = ms(t.det);
  $('t-boxes').textContent = `${ms(t.boxes)} (${result.boxes.length} boxes)`;
  $('t-cls').textContent = t.cls === undefined ? 'off' : ms(t.cls);
  $('t-rec').textContent = `${ms(t.rec)}${result.shapes.rec ? ` [${result.shapes.rec.join('×')}]` : ''}`;
  $('t-decode').textContent = ms(t.decode);
  $('t-total').textContent = ms(t.total);
  const rows = Object.keys(MODELS).filter((k) => state.created[`${ep}|${k}`]).map((k) => {
    const c = state.created[`${ep}|${k}`];
    const tr = document.createElement('tr');
    const shape = result.shapes[k] ? `[${result.shapes[k].join('×')}]` : '–';
    for (const [i, v] of [MODELS[k].name, `${mb(c.bytes)}, ${ms(c.fetchMs)}`, ms(c.compileMs), shape].entries()) {
      const cell = document.createElement(i ? 'td' : 'th');
      cell.textContent = v;
      if (!i) cell.title = MODELS[k].title;
      tr.append(cell);
    }
    return tr;
  });
  $('model-times').tBodies[0].replaceChildren(...rows);
  const s = state.sessions[ep];
  const parts = Object.entries(s).map(([k, x]) => {
    const gpu = x.placements.filter((p) => p.gpu).length;
    return `${k}: ${gpu} of ${x.placements.length} nodes on the GPU`;
  });
  $('placement').textContent = s.det.executionProvider === 'webgl' ? `${parts.join('; ')} (${s.det.renderer}).` : 'All nodes on the wasm CPU kernels.';
}

async function read() {
  if (!state.image) return;
  linesEl.dataset.state = 'running';
  const ep = state.ep;
  const dictionary = await loadDictionary();
  const det = await getSession(ep, 'det');
  const rec = await getSession(ep, 'rec');
  const cls = state.useCls ? await getSession(ep, 'cls') : null;
  const provider = det.executionProvider;
  $('reason').textContent = `Runs on ${provider}: ${det.executionProviderReason}`;
  const stageText = {
    det: (d) => `Finding the text in ${state.name} (${d.width}×${d.height}) on ${provider}…`,
    cls: (d) => `Checking the direction of ${d.boxes} lines…`,
    rec: (d) => `Reading ${d.boxes} lines on ${provider}…`,
  };
  const result = await readText(state.image, { det, rec, cls }, {
    Tensor: glint.Tensor, dictionary,
    onStage: (stage, detail) => { setStatus(stageText[stage](detail)); setProgress(undefined); },
  });
  setProgress(null);
  state.last = result;
  drawPhoto();
  renderLines(result);
  renderTimings(result, ep);
  linesEl.dataset.state = 'done';
  linesEl.dataset.provider = provider;
  const created = Object.fromEntries(Object.keys(MODELS).filter((k) => state.created[`${ep}|${k}`]).map((k) => [k, state.created[`${ep}|${k}`]]));
  window.glintOcr = {
    state: 'done', provider, reason: det.executionProviderReason, renderer: det.renderer, image: state.name,
    lines: result.lines.map((l) => ({ text: l.text, score: l.score, angle: l.angle, verdict: l.verdict, box: [l.box.x0, l.box.y0, l.box.x1, l.box.y1] })),
    times: result.times, shapes: result.shapes, pageAngle: result.pageAngle ?? null, created,
  };
  const chars = result.lines.reduce((a, l) => a + l.text.length, 0);
  setStatus(`${state.name}: ${result.lines.length} lines, ${chars} characters, read in ${ms(result.times.total)} on ${provider}` +
    `${result.pageAngle === 180 ? ' (upside down: turned)' : ''}.`);
}

function useSource(source, name) {
  enqueue(async () => {
    setStatus(`Loading ${name}…`);
    const { bitmap, image } = await imageFrom(source);
    state.bitmap = bitmap;
    state.image = image;
    state.name = name;
    state.last = null;
    drawPhoto();
    await read();
  });
}

document.querySelector(`input[name="ep"][value="${state.ep}"]`).checked = true;
for (const r of document.querySelectorAll('input[name="ep"]')) {
  r.addEventListener('change', () => {
    if (!r.checked) return;
    state.ep = r.value;
    enqueue(read);
  });
}
$('use-cls').checked = state.useCls;
$('use-cls').addEventListener('change', (e) => { state.useCls = e.target.checked; enqueue(read); });
$('show-boxes').addEventListener('change', drawPhoto);
$('show-map').addEventListener('change', drawPhoto);
$('sample').addEventListener('click', () => useSource(SAMPLE, SAMPLE.split('/').pop()));
onImageFile($('file'), $('drop'), (f) => useSource(f, f.name));

const initial = params.get('image') ?? SAMPLE;
useSource(initial, initial.split('/').pop());
