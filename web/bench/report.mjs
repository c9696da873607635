// The harness's outputs besides bench.json: a markdown table per workload and
// an SVG bar chart of each engine's median time relative to glint's.
export const TOLERANCE = 1e-3;

// Rows (a workload's, in bench.json) name their configuration: config (the
// id, e.g. 'ort-wasm-2t'), engine, backend and threads. A row's maxAbsDiff is
// the largest over the workload's outputs (diffs: each output's; worstOutput
// names the largest when there are several); skipped says why a
// configuration does not run the workload at all (TF.js without a port).

// The reference output: onnxruntime-web on wasm (1 thread first).
export function referenceFor(rows) {
  const ok = rows.filter((r) => r.outputs && r.engine === 'ort' && r.backend === 'wasm');
  ok.sort((a, b) => a.threads - b.threads);
  return ok[0];
}

export const fmtMs = (ms) => (ms === undefined || ms === null ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

function memoryText(row) {
  const m = row.memory;
  if (!m) return row.error ? '' : 'n/a';
  if (m.textureBytes !== undefined) return `${mib(m.textureBytes)} (${m.liveTextures + m.pooledTextures} textures)`;
  if (m.numBytesInGPUAllocated !== undefined) return `${mib(m.numBytesInGPUAllocated)} (${m.numTensors} tensors)`;
  if (m.numBytesInGPU !== undefined) return `${mib(m.numBytesInGPU)} (${m.numTensors} tensors)`;
  if (m.numBytes !== undefined) return '—';  // TF.js wasm: tensors live in the wasm heap
  return 'n/a';
}

function diffText(row) {
  if (row.diffNote) return row.diffNote;
  if (row.maxAbsDiff === undefined) return '';
  if (row.maxAbsDiff === null) return 'no reference';
  if (row.config === row.reference) return 'reference';
  const ok = row.maxAbsDiff <= TOLERANCE;
  const worst = row.worstOutput ? ` (${row.worstOutput})` : '';
  return `${row.maxAbsDiff === 0 ? '0' : row.maxAbsDiff.toExponential(1)} ${ok ? '✓' : '✗'}${worst}`;
}

// The glint rows each of a workload's rows is compared with: glint webgl;
// for wasm rows also glint wasm with the same thread count (else 1 thread,
// marked †). A Map row -> {webgl, wasm, wasmNote}; webgl/wasm only when timed.
export function glintRefs(rows) {
  const glintRow = (backend, threads) =>
    rows.find((r) => r.engine === 'glint' && r.backend === backend && (threads === undefined || r.threads === threads));
  const timed = (r) => (r?.medianMs ? r : undefined);
  const webgl = timed(glintRow('webgl'));
  return new Map(rows.map((row) => {
    let wasm;
    let wasmNote = '';
    if (row.backend === 'wasm') {
      wasm = glintRow('wasm', row.threads);
      if (!wasm?.medianMs && row.threads !== 1) {
        wasm = glintRow('wasm', 1);
        wasmNote = '†';
      }
    }
    return [row, { webgl, wasm: timed(wasm), wasmNote }];
  }));
}

function ratio(a, b) {
  return a && b ? a / b : undefined;
}
const ratioText = (r, note = '') => (r === undefined ? '—' : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×${note}`);

export function markdownReport(results) {
  const { env, options } = results;
  const L = [];
  L.push('# glint benchmark');
  L.push('');
  L.push(`${env.date} · ${env.chromium} · WebGL: ${env.renderer ?? '?'} · ${env.cores} × ${env.cpu} · node ${env.node}`);
  L.push(`engines: glint ${env.versions.glint}, TensorFlow.js ${env.versions.tfjs} (wasm ${env.versions['tfjs-backend-wasm']}), ` +
    `onnxruntime-web ${env.versions['onnxruntime-web']}, ONNX.js ${env.versions.onnxjs}`);
  L.push(`${options.runs} timed runs after ${options.warmup} warm-ups per configuration (interleaved rounds), ` +
    `budget ${options.budget} s per configuration and workload` +
    (options.settle ? `, a ${options.settle} ms pause after each multi-threaded wasm run` : '') +
    `; every run includes the input upload and the ` +
    `output read back to the CPU. Times in ms.`);
  L.push('');
  L.push('Ratios are median ÷ glint\'s median: below 1× the engine is faster than glint, above 1× slower. ' +
    `"max abs diff" is against onnxruntime-web wasm's output (✓ within ${TOLERANCE}). ` +
    'TF.js builds the network from tf ops (the same weights, NHWC): its "create" is building the weight tensors; ' +
    'its upload and shader compile fall into the first run.');
  const refsOf = new Map(results.workloads.map((w) => [w, glintRefs(w.rows)]));
  for (const w of results.workloads) {
    const refs = refsOf.get(w);
    L.push('');
    L.push(`## ${w.name}: ${w.description}`);
    L.push('');
    if (w.outputs?.length > 1) {
      L.push(`Outputs compared: ${w.outputs.join(', ')}; "max abs diff" is the largest over them (the output in brackets).`);
      L.push('');
    }
    L.push('| engine | backend | threads | create | first run | median | p90 | runs | GPU memory | max abs diff | ÷ glint webgl | ÷ glint wasm |');
    L.push('|---|---|--:|--:|--:|--:|--:|--:|---|---|--:|--:|');
    for (const row of w.rows) {
      const { engine, backend, threads } = row;
      const th = backend === 'wasm' ? String(threads) : '';
      if (row.medianMs === undefined) {
        const why = row.skipped ? `n/a: ${row.skipped}` : row.error ?? 'no timed runs';
        L.push(`| ${engine} | ${backend} | ${th} | ${fmtMs(row.createMs)} | ${fmtMs(row.firstMs)} | ${why.replace(/\|/g, '\\|')} | | | | ${diffText(row)} | | |`);
        continue;
      }
      const { webgl, wasm, wasmNote } = refs.get(row);
      const runs = row.budgetStopped ? `(${row.times.length} runs, budget)` :
        row.error ? `${row.times.length} (${row.error.replace(/\|/g, '\\|')})` : String(row.times.length);
      L.push(`| ${engine} | ${backend} | ${th} | ${fmtMs(row.createMs)} | ${fmtMs(row.firstMs)} | ${fmtMs(row.medianMs)} | ` +
        `${fmtMs(row.p90Ms)} | ${runs} | ${memoryText(row)} | ${diffText(row)} | ` +
        `${ratioText(ratio(row.medianMs, webgl?.medianMs))} | ` +
        `${backend === 'wasm' ? ratioText(ratio(row.medianMs, wasm?.medianMs), wasmNote) : ''} |`);
    }
  }
  const notes = [];
  for (const c of results.configs) if (c.error) notes.push(`${c.id}: ${c.error}`);
  if (results.workloads.some((w) => [...refsOf.get(w).values()].some((r) => r.wasmNote))) {
    notes.push('†: against glint wasm with 1 thread (there is no glint row with that thread count)');
  }
  const bad = [];
  for (const w of results.workloads) {
    for (const r of w.rows) if (typeof r.maxAbsDiff === 'number' && !(r.maxAbsDiff <= TOLERANCE)) bad.push(`${w.name}/${r.config}`);
  }
  notes.push(bad.length ? `outputs beyond ${TOLERANCE} of onnxruntime-web wasm: ${bad.join(', ')}` :
    `every output that was compared is within ${TOLERANCE} of onnxruntime-web wasm's`);
  if (results.totalSeconds) notes.push(`the whole run took ${results.totalSeconds.toFixed(0)} s`);
  L.push('');
  for (const n of notes) L.push(`- ${n}`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// SVG: per workload a group of bars, one per non-glint configuration, each its
// median ÷ glint's median on the same backend (webgl ÷ glint webgl, wasm ÷
// glint wasm), on a log scale with a line at 1×.
// ---------------------------------------------------------------------------
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(results) {
  const series = [];
  const groups = results.workloads.map((w) => {
    const bars = [];
    const refsOf = glintRefs(w.rows);
    for (const row of w.rows) {
      if ((row.engine === 'glint' && row.backend === 'webgl') || row.medianMs === undefined) continue;
      const refs = refsOf.get(row);
      const ref = row.backend === 'wasm' ? refs.wasm : refs.webgl;
      if (!ref || ref.config === row.config) continue;
      if (!series.includes(row.config)) series.push(row.config);
      bars.push({ config: row.config, r: row.medianMs / ref.medianMs, ref: ref.config, budget: row.budgetStopped });
    }
    return { name: w.name, bars };
  });
  const all = groups.flatMap((g) => g.bars.map((b) => b.r));
  const W = 980;
  const H = 460;
  const m = { l: 64, r: 16, t: 48, b: 110 };
  if (!all.length) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="120"><text x="20" y="60" font-family="sans-serif" font-size="14">no ratios to chart</text></svg>\n`;
  }
  const lo = Math.floor(Math.log10(Math.min(...all, 1)) - 0.05);
  const hi = Math.ceil(Math.log10(Math.max(...all, 1)) + 0.05);
  const y = (r) => m.t + (H - m.t - m.b) * (1 - (Math.log10(r) - lo) / (hi - lo || 1));
  const gw = (W - m.l - m.r) / groups.length;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">Median run time ÷ glint's median on the same backend (log scale; below 1× = faster than glint)</text>`);
  const renderer = String(results.env.renderer ?? '').replace(/^.*ANGLE \((.*)\)$/, '$1');
  out.push(`<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">webgl bars ÷ glint webgl, wasm bars ÷ glint wasm · * stopped by the time budget (fewer runs) · ${esc(results.env.date.slice(0, 10))}</text>`);
  out.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle" fill="#555" font-size="10">${esc(results.env.chromium)} · ${esc(renderer)}</text>`);
  for (let e = lo; e <= hi; ++e) {
    const yy = y(10 ** e);
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${yy + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}×</text>`);
  }
  const base = y(1);
  groups.forEach((g, gi) => {
    const x0 = m.l + gi * gw;
    const bw = Math.min(22, (gw - 16) / Math.max(1, g.bars.length));
    const start = x0 + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const x = start + bi * bw;
      const yy = y(b.r);
      const color = COLORS[series.indexOf(b.config) % COLORS.length];
      out.push(`<rect x="${x.toFixed(1)}" y="${Math.min(yy, base).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${Math.abs(base - yy).toFixed(1)}" fill="${color}"><title>${esc(`${g.name} ${b.config}: ${b.r.toFixed(3)}× ${b.ref}`)}</title></rect>`);
      const ly = b.r >= 1 ? yy - 3 : yy + 10;
      const label = b.r >= 10 ? b.r.toFixed(0) : b.r >= 1 ? b.r.toFixed(1) : b.r.toPrecision(1);
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${ly.toFixed(1)}" text-anchor="middle" font-size="8">${label}${b.budget ? '*' : ''}</text>`);
    });
    out.push(`<text x="${x0 + gw / 2}" y="${H - m.b + 16}" text-anchor="middle" font-size="12">${esc(g.name)}</text>`);
  });
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${base}" y2="${base}" stroke="black" stroke-width="1.5"/>`);
  series.forEach((s, i) => {
    const lx = m.l + (i % 5) * 170;
    const ly = H - m.b + 40 + Math.floor(i / 5) * 18;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${esc(s)}</text>`);
  });
  {
    const i = series.length;
    const lx = m.l + (i % 5) * 170;
    const ly = H - m.b + 40 + Math.floor(i / 5) * 18;
    out.push(`<line x1="${lx}" x2="${lx + 12}" y1="${ly - 4}" y2="${ly - 4}" stroke="black" stroke-width="1.5"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">glint = 1×</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
