// Reading the text of a photo with three ONNX models, as an app would write it
// on glint-onnx (or onnxruntime-web: the sessions and the Tensor class are
// passed in). Pure JavaScript, no DOM: the photo comes in as ImageData-like
// {width, height, data} (RGBA bytes), so the same code runs in a page, a
// worker and under Node.
//
//   detection   PP-OCRv4 DB: photo -> [1,3,H,W] (H, W multiples of 32,
//               BGR planes, ImageNet mean/std) -> text-probability map
//               [1,1,H,W] -> threshold -> connected components -> the
//               smallest (possibly tilted) rectangle around each, grown back
//               by the "unclip" distance (DB trains on shrunk text regions)
//               and scaled to the photo -> sorted into reading order.
//   direction   (optional) the 0/180 degree classifier, [N,3,48,192]; the
//               lines vote, and an upside-down photo is turned.
//   recognition PP-OCRv4 SVTR-LCNet: each box cropped, resized to height 48
//               (aspect kept), padded to the batch's widest, one batch
//               [N,3,48,W] -> per-column class probabilities [N,W/8,C] ->
//               CTC greedy decoding through the dictionary.
//
// Usage:
//   const ocr = await readText(imageData, { det, rec, cls }, { Tensor, dictionary });
//   ocr.lines  -> [{ text, score, box: {quad, x0, y0, x1, y1, ...}, angle, verdict }]
//   ocr.times  -> { det, boxes, cls, rec, decode, total } in milliseconds

const now = () => (globalThis.performance ? performance.now() : Date.now());

// ---------------------------------------------------------------------------
// Resampling
// ---------------------------------------------------------------------------

// For one axis: the source pixels (and their weights) that make each of `n`
// output pixels, when the source span [from, to) (in pixel edges) of an axis
// `size` pixels long is resampled to n pixels. A tent filter on pixel centres:
// bilinear when enlarging, widened to the step when shrinking (so that a big
// photo is averaged, not aliased). Outside the image the edge pixel repeats.
function axisWeights(size, from, to, n) {
  const step = (to - from) / n;
  const radius = Math.max(1, Math.abs(step));
  const taps = [];
  for (let i = 0; i < n; ++i) {
    const c = from + (i + 0.5) * step - 0.5;  // the output centre, in source pixel-centre coordinates
    const lo = Math.ceil(c - radius), hi = Math.floor(c + radius);
    const idx = [], w = [];
    let sum = 0;
    for (let j = lo; j <= hi; ++j) {
      const wj = 1 - Math.abs(j - c) / radius;
      if (wj <= 0) continue;
      idx.push(Math.min(size - 1, Math.max(0, j)));
      w.push(wj);
      sum += wj;
    }
    if (sum === 0) { idx.push(Math.min(size - 1, Math.max(0, Math.round(c)))); w.push(1); sum = 1; }
    taps.push({ idx, w: w.map((x) => x / sum) });
  }
  return taps;
}

// The rectangle {x0, y0, x1, y1} (pixel edges, may be fractional) of an
// RGBA image resampled to outW x outH: Float32Array of interleaved R, G, B
// in 0..255. `rotate180` turns the result upside down.
export function sampleRGB(image, rect, outW, outH, rotate180 = false) {
  const { width, height, data } = image;
  const xs = axisWeights(width, rect.x0, rect.x1, outW);
  const ys = axisWeights(height, rect.y0, rect.y1, outH);
  // Rows first: only the source rows some output row needs.
  const rowsNeeded = new Map();
  for (const t of ys) for (const r of t.idx) rowsNeeded.set(r, null);
  for (const r of rowsNeeded.keys()) {
    const row = new Float32Array(outW * 3);
    const base = r * width * 4;
    for (let x = 0; x < outW; ++x) {
      const { idx, w } = xs[x];
      let R = 0, G = 0, B = 0;
      for (let k = 0; k < idx.length; ++k) {
        const p = base + idx[k] * 4;
        R += w[k] * data[p]; G += w[k] * data[p + 1]; B += w[k] * data[p + 2];
      }
      row[x * 3] = R; row[x * 3 + 1] = G; row[x * 3 + 2] = B;
    }
    rowsNeeded.set(r, row);
  }
  const out = new Float32Array(outW * outH * 3);
  for (let y = 0; y < outH; ++y) {
    const { idx, w } = ys[y];
    const oy = rotate180 ? outH - 1 - y : y;
    for (let x = 0; x < outW; ++x) {
      const ox = rotate180 ? outW - 1 - x : x;
      let R = 0, G = 0, B = 0;
      for (let k = 0; k < idx.length; ++k) {
        const row = rowsNeeded.get(idx[k]);
        R += w[k] * row[x * 3]; G += w[k] * row[x * 3 + 1]; B += w[k] * row[x * 3 + 2];
      }
      const o = (oy * outW + ox) * 3;
      out[o] = R; out[o + 1] = G; out[o + 2] = B;
    }
  }
  return out;
}

// The parallelogram `quad` ([[x, y] x 4]: top-left, top-right, bottom-right,
// bottom-left, in pixel-edge coordinates; a tilted text box) of an RGBA image
// resampled to an upright outW x outH crop: bilinear, with ceil(step) x
// ceil(step) samples averaged per pixel where the crop shrinks. Returns
// interleaved R, G, B in 0..255 as sampleRGB does.
export function sampleQuad(image, quad, outW, outH, rotate180 = false) {
  const { width, height, data } = image;
  let [ox, oy] = quad[0];
  let ex = quad[1][0] - quad[0][0], ey = quad[1][1] - quad[0][1];   // along the width
  let fx = quad[3][0] - quad[0][0], fy = quad[3][1] - quad[0][1];   // along the height
  if (rotate180) { [ox, oy] = quad[2]; ex = -ex; ey = -ey; fx = -fx; fy = -fy; }
  const ku = Math.max(1, Math.ceil(Math.hypot(ex, ey) / outW)), kv = Math.max(1, Math.ceil(Math.hypot(fx, fy) / outH));
  const out = new Float32Array(outW * outH * 3);
  const px = (x, y, c) => data[(y * width + x) * 4 + c];
  const acc = [0, 0, 0];
  const bilinear = (sx, sy) => {
    // (sx, sy) in pixel-edge coordinates; pixel centres are at +0.5.
    const x = Math.min(width - 1, Math.max(0, sx - 0.5)), y = Math.min(height - 1, Math.max(0, sy - 0.5));
    const xa = Math.floor(x), ya = Math.floor(y), xb = Math.min(width - 1, xa + 1), yb = Math.min(height - 1, ya + 1);
    const tx = x - xa, ty = y - ya;
    for (let c = 0; c < 3; ++c) {
      const top = px(xa, ya, c) + (px(xb, ya, c) - px(xa, ya, c)) * tx;
      const bot = px(xa, yb, c) + (px(xb, yb, c) - px(xa, yb, c)) * tx;
      acc[c] += top + (bot - top) * ty;
    }
  };
  const n = ku * kv;
  for (let j = 0; j < outH; ++j) {
    for (let i = 0; i < outW; ++i) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let b = 0; b < kv; ++b) {
        const t = (j + (b + 0.5) / kv) / outH;
        for (let a = 0; a < ku; ++a) {
          const s = (i + (a + 0.5) / ku) / outW;
          bilinear(ox + s * ex + t * fx, oy + s * ey + t * fy);
        }
      }
      const o = (j * outW + i) * 3;
      out[o] = acc[0] / n; out[o + 1] = acc[1] / n; out[o + 2] = acc[2] / n;
    }
  }
  return out;
}

// Writes interleaved RGB pixels (w x h) as normalised planes into a [3, H,
// stride] block of `dst` starting at `offset`: v = (pixel - mean[c]) / std[c]
// for plane c, planes in `order` ('BGR' or 'RGB'). Columns past w keep what
// `dst` had there (the padding).
export function writePlanes(dst, offset, stride, planeSize, rgb, w, h, mean, std, order = 'BGR') {
  const src = order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; ++c) {
    const s = src[c], m = mean[c], k = 1 / std[c];
    const plane = offset + c * planeSize;
    for (let y = 0; y < h; ++y) {
      const o = plane + y * stride;
      for (let x = 0; x < w; ++x) dst[o + x] = (rgb[(y * w + x) * 3 + s] - m) * k;
    }
  }
}

// ---------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------

// PaddleOCR's models were trained on BGR images (OpenCV), normalised with the
// ImageNet mean and std in that plane order; on a grey page it makes no difference.
const DET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255];
const DET_STD = [0.229 * 255, 0.224 * 255, 0.225 * 255];

// The detection input: the photo resized so that both sides are multiples of
// 32, the long side at most `limitSide` and at least `minSide` (small photos
// are enlarged: the detector was trained on text more than ~10 px high).
export function detInput(image, { limitSide = 960, minSide = 0 } = {}) {
  const { width, height } = image;
  const long = Math.max(width, height);
  let scale = 1;
  if (long > limitSide) scale = limitSide / long;
  else if (long < minSide) scale = Math.min(limitSide, minSide) / long;
  const W = Math.max(32, Math.round((width * scale) / 32) * 32);
  const H = Math.max(32, Math.round((height * scale) / 32) * 32);
  const rgb = sampleRGB(image, { x0: 0, y0: 0, x1: width, y1: height }, W, H);
  const data = new Float32Array(3 * H * W);
  writePlanes(data, 0, W, H * W, rgb, W, H, DET_MEAN, DET_STD);
  return { data, dims: [1, 3, H, W], scaleX: width / W, scaleY: height / H };
}

// Connected components (8-neighbours) of prob > threshold in a W x H map.
// Returns [{minX, minY, maxX, maxY, pixels, score, rows}]: the bounding box,
// the pixel count, the mean probability over the component's pixels, and
// for each row minY..maxY the leftmost and rightmost pixel ([x0, x1] pairs
// in an Int32Array; -1 where the row has none).
export function components(prob, W, H, threshold) {
  const label = new Int32Array(W * H);  // 0 = not visited
  const stack = new Int32Array(W * H);
  const members = new Int32Array(W * H);
  const out = [];
  for (let start = 0; start < W * H; ++start) {
    if (label[start] || !(prob[start] > threshold)) continue;
    const id = out.length + 1;
    let top = 0, count = 0;
    stack[top++] = start;
    label[start] = id;
    let minX = W, minY = H, maxX = -1, maxY = -1, sum = 0;
    while (top > 0) {
      const p = stack[--top];
      members[count++] = p;
      const x = p % W, y = (p - x) / W;
      sum += prob[p];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; ++dy) {
        const ny = y + dy;
        if (ny < 0 || ny >= H) continue;
        for (let dx = -1; dx <= 1; ++dx) {
          const nx = x + dx;
          if (nx < 0 || nx >= W || (dx === 0 && dy === 0)) continue;
          const q = ny * W + nx;
          if (!label[q] && prob[q] > threshold) { label[q] = id; stack[top++] = q; }
        }
      }
    }
    const rows = new Int32Array(2 * (maxY - minY + 1)).fill(-1);
    for (let i = 0; i < count; ++i) {
      const p = members[i], x = p % W, r = 2 * ((p - x) / W - minY);
      if (rows[r] < 0 || x < rows[r]) rows[r] = x;
      if (x > rows[r + 1]) rows[r + 1] = x;
    }
    out.push({ minX, minY, maxX, maxY, pixels: count, score: sum / count, rows });
  }
  return out;
}

// The convex hull of [x, y] points (Andrew's monotone chain), its corners in
// order around it.
export function convexHull(points) {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [], upper = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  for (let i = pts.length - 1; i >= 0; --i) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop(); upper.pop();
  return lower.concat(upper);
}

// The smallest-area rectangle around a convex polygon: one of its sides lies
// on a hull edge, so each edge's direction is tried. Returns {cx, cy, w, h,
// ux, uy}: centre, the side along the unit vector (ux, uy) (pointing right,
// the more horizontal of the two) and the side across it (along (-uy, ux),
// pointing down).
export function minAreaRect(hull) {
  let best = null;
  const n = hull.length;
  for (let i = 0; i < n; ++i) {
    const [ax, ay] = hull[i], [bx, by] = hull[(i + 1) % n];
    const len = Math.hypot(bx - ax, by - ay);
    if (len === 0) continue;
    const ux = (bx - ax) / len, uy = (by - ay) / len;
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const [x, y] of hull) {
      const u = x * ux + y * uy, v = -x * uy + y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (!best || area < best.area) best = { area, ux, uy, minU, maxU, minV, maxV };
  }
  if (!best) return null;
  const { ux, uy, minU, maxU, minV, maxV } = best;
  const mu = (minU + maxU) / 2, mv = (minV + maxV) / 2;
  let rect = { cx: mu * ux - mv * uy, cy: mu * uy + mv * ux, w: maxU - minU, h: maxV - minV, ux, uy };
  // The longer side (or, for a square-ish box, the more horizontal one) is the width.
  if (Math.abs(uy) > Math.abs(ux)) rect = { ...rect, w: rect.h, h: rect.w, ux: -uy, uy: ux };
  if (rect.ux < 0) rect = { ...rect, ux: -rect.ux, uy: -rect.uy };
  return rect;
}

// A rectangle {cx, cy, w, h, ux, uy} -> its corners, top-left, top-right,
// bottom-right, bottom-left (reading order when ux points right).
export function rectCorners({ cx, cy, w, h, ux, uy }) {
  const ax = (ux * w) / 2, ay = (uy * w) / 2;     // half the width, along u
  const bx = (-uy * h) / 2, by = (ux * h) / 2;    // half the height, along v
  return [[cx - ax - bx, cy - ay - by], [cx + ax - bx, cy + ay - by], [cx + ax + bx, cy + ay + by], [cx - ax + bx, cy - ay + by]];
}

// DB post-processing: the text boxes of the text-probability map `prob`
// (W x H), in the photo's coordinates, with their scores. Each box is the
// smallest rectangle (any angle) around a component, grown on each side by
// area * unclipRatio / perimeter (DB is trained on text regions shrunk by
// about that much): {quad: [[x, y] x 4] (top-left, top-right, bottom-right,
// bottom-left), w, h (its sides), x0, y0, x1, y1 (its bounds, clipped to the
// photo), score}.
//   threshold    a pixel is text above this probability
//   boxThreshold a component whose mean probability is lower is dropped
//   minSize      a box whose shorter side (in map pixels) is smaller is dropped
export function dbBoxes(prob, W, H, { scaleX = 1, scaleY = 1, imageWidth = W * scaleX, imageHeight = H * scaleY,
  threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.6, minSize = 3, maxBoxes = 1000 } = {}) {
  const boxes = [];
  for (const c of components(prob, W, H, threshold)) {
    if (Math.min(c.maxX - c.minX, c.maxY - c.minY) + 1 < minSize || c.score < boxThreshold) continue;
    // The corners of each row's outermost pixels: enough for the hull of all the pixels.
    const pts = [];
    for (let r = 0; r < c.rows.length; r += 2) {
      if (c.rows[r] < 0) continue;
      const y = c.minY + r / 2, xl = c.rows[r], xr = c.rows[r + 1] + 1;
      pts.push([xl, y], [xl, y + 1], [xr, y], [xr, y + 1]);
    }
    const rect = minAreaRect(convexHull(pts));
    if (!rect || Math.min(rect.w, rect.h) < minSize) continue;
    const d = (rect.w * rect.h * unclipRatio) / (2 * (rect.w + rect.h));
    const grown = { ...rect, w: rect.w + 2 * d, h: rect.h + 2 * d };
    const quad = rectCorners(grown).map(([x, y]) => [x * scaleX, y * scaleY]);
    const w = Math.hypot(quad[1][0] - quad[0][0], quad[1][1] - quad[0][1]);
    const h = Math.hypot(quad[3][0] - quad[0][0], quad[3][1] - quad[0][1]);
    if (Math.min(grown.w, grown.h) < minSize + 2) continue;
    const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
    boxes.push({
      quad, w, h, score: c.score,
      x0: Math.max(0, Math.min(...xs)), y0: Math.max(0, Math.min(...ys)),
      x1: Math.min(imageWidth, Math.max(...xs)), y1: Math.min(imageHeight, Math.max(...ys)),
    });
  }
  boxes.sort((a, b) => b.score - a.score);
  return readingOrder(boxes.slice(0, maxBoxes));
}

// Top to bottom, then left to right within a line: a box belongs to the
// current line when its vertical centre is within half the line's height of
// the line's centre. Boxes: {x0, y0, x1, y1} bounds, and h, the box's own
// height, when it is tilted (default y1 - y0).
export function readingOrder(boxes) {
  const byY = [...boxes].sort((a, b) => (a.y0 + a.y1) - (b.y0 + b.y1));
  const lines = [];
  for (const b of byY) {
    const cy = (b.y0 + b.y1) / 2;
    const line = lines[lines.length - 1];
    if (line && Math.abs(cy - line.cy) <= line.h / 2) {
      line.boxes.push(b);
      line.cy = (line.cy * (line.boxes.length - 1) + cy) / line.boxes.length;
    } else {
      lines.push({ cy, h: b.h ?? b.y1 - b.y0, boxes: [b] });
    }
  }
  return lines.flatMap((l) => l.boxes.sort((a, b) => a.x0 - b.x0));
}

// ---------------------------------------------------------------------------
// Direction and recognition
// ---------------------------------------------------------------------------

const REC_MEAN = [127.5, 127.5, 127.5];
const REC_STD = [127.5, 127.5, 127.5];

// Each box's crop (its quad when it has one, else {x0, y0, x1, y1}) resized
// to `height` rows (aspect kept, width rounded,
// between 8 and `maxWidth` columns: a longer line is squeezed), normalised to
// -1..1, padded with 0 to a common width (the widest, rounded up to a multiple
// of 8; or `fixedWidth`). Returns {data, dims: [N, 3, height, W], widths}.
export function cropBatch(image, boxes, { height = 48, maxWidth = 1280, fixedWidth = 0, rotate = [] } = {}) {
  const widths = boxes.map((b) => {
    const ratio = b.quad ? b.w / Math.max(1, b.h) : (b.x1 - b.x0) / Math.max(1, b.y1 - b.y0);
    return Math.max(8, Math.min(fixedWidth || maxWidth, Math.round(height * ratio)));
  });
  const W = fixedWidth || Math.max(8, Math.ceil(Math.max(8, ...widths) / 8) * 8);
  const N = boxes.length;
  const data = new Float32Array(N * 3 * height * W);  // zeros: the padding
  boxes.forEach((b, i) => {
    const rgb = b.quad ? sampleQuad(image, b.quad, widths[i], height, !!rotate[i])
      : sampleRGB(image, b, widths[i], height, !!rotate[i]);
    writePlanes(data, i * 3 * height * W, W, height * W, rgb, widths[i], height, REC_MEAN, REC_STD);
  });
  return { data, dims: [N, 3, height, W], widths };
}

// The left part of a box, at most `ratio` times as wide as it is high.
export function leftPart(box, ratio) {
  if (!box.quad) {
    const h = box.y1 - box.y0;
    return { ...box, x1: Math.min(box.x1, box.x0 + ratio * h) };
  }
  const f = Math.min(1, (ratio * box.h) / Math.max(1e-6, box.w));
  const [a, b, c, d] = box.quad;
  const lerp = (p, q) => [p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1])];
  return { ...box, quad: [a, lerp(a, b), lerp(d, c), d], w: box.w * f };
}

// The direction classifier's output [N, 2] (probabilities of 0 and 180
// degrees) -> [{angle, score}].
export function directions(probs, N) {
  const out = [];
  for (let i = 0; i < N; ++i) {
    const p0 = probs[2 * i], p180 = probs[2 * i + 1];
    out.push(p180 > p0 ? { angle: 180, score: p180 } : { angle: 0, score: p0 });
  }
  return out;
}

// The dictionary file's text -> the class names: class 0 is the CTC blank,
// classes 1..n the file's lines, class n + 1 a space.
export function parseDictionary(text) {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}

// CTC greedy decoding of [N, T, C] per-column probabilities: the most likely
// class of each column, repeats collapsed, blanks (class 0) dropped. score =
// mean probability of the kept characters.
export function ctcGreedy(probs, [N, T, C], classes) {
  const out = [];
  for (let n = 0; n < N; ++n) {
    let text = '', sum = 0, count = 0, prev = -1;
    for (let t = 0; t < T; ++t) {
      const o = (n * T + t) * C;
      let best = 0, bestP = probs[o];
      for (let c = 1; c < C; ++c) if (probs[o + c] > bestP) { bestP = probs[o + c]; best = c; }
      if (best !== 0 && best !== prev) {
        text += classes[best] ?? '';
        sum += bestP; count += 1;
      }
      prev = best;
    }
    out.push({ text, score: count ? sum / count : 0 });
  }
  return out;
}

// ---------------------------------------------------------------------------
// The whole pipeline
// ---------------------------------------------------------------------------

async function runModel(session, Tensor, data, dims) {
  const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', data, dims) });
  const y = out[session.outputNames[0]];
  return { data: y.data, dims: [...y.dims] };
}

// Reads the text of `image` ({width, height, data: RGBA bytes}).
//   sessions  {det, rec, cls?}: InferenceSessions (glint-onnx or onnxruntime-web)
//   options   Tensor (the library's class), dictionary (parseDictionary's
//             classes), det {limitSide, minSide, threshold, boxThreshold,
//             unclipRatio, minSize}, rec {maxWidth}, clsVote: 'page' (the
//             default: every line is turned when the lines' verdicts,
//             weighted by their scores, say upside down; one line alone is
//             often misjudged, e.g. small text with its neighbours in the
//             crop) or 'line' (each line turned on its own verdict when
//             the classifier is at least clsThreshold (0.9) sure),
//             onStage(name, detail) called before each stage
// Returns {lines: [{text, score, box, angle (as read: 0, 180, or null
// without the classifier), verdict: {angle, score} (the classifier's, per
// line)}], boxes, times: {det, boxes, cls, rec, decode, total} (ms), shapes:
// {det, cls, rec} (the input dims of each model), map: the detection's
// probability map {data, width, height}, pageAngle and pageVote (clsVote
// 'page': the vote, -1..1, > 0 for upside down)}.
export async function readText(image, { det, rec, cls = null }, { Tensor, dictionary, onStage = () => {},
  det: detOptions = {}, rec: recOptions = {}, clsVote = 'page', clsThreshold = 0.9 } = {}) {
  if (!Tensor) throw new Error('readText: pass the Tensor class of the library the sessions come from');
  if (!dictionary) throw new Error('readText: pass the dictionary (parseDictionary of ppocr_keys_v1.txt)');
  const times = {};
  const shapes = {};
  const t0 = now();

  onStage('det', { width: image.width, height: image.height });
  let t = now();
  const input = detInput(image, detOptions);
  shapes.det = input.dims;
  const map = await runModel(det, Tensor, input.data, input.dims);
  times.det = now() - t;

  t = now();
  const [H, W] = map.dims.slice(-2);
  const boxes = dbBoxes(map.data, W, H, {
    ...detOptions, scaleX: input.scaleX, scaleY: input.scaleY, imageWidth: image.width, imageHeight: image.height,
  });
  times.boxes = now() - t;
  const result = { lines: [], boxes, times, shapes, map: { data: map.data, width: W, height: H } };
  if (!boxes.length) { times.total = now() - t0; return result; }

  let rotate = boxes.map(() => false);
  let dirs = null;
  if (cls) {
    onStage('cls', { boxes: boxes.length });
    t = now();
    // The classifier sees 48 x 192: a long line squeezed into it is hard to
    // read, so it gets the line's first (up to) 4 heights, unsqueezed.
    const batch = cropBatch(image, boxes.map((b) => leftPart(b, 4)), { height: 48, fixedWidth: 192 });
    shapes.cls = batch.dims;
    const y = await runModel(cls, Tensor, batch.data, batch.dims);
    dirs = directions(y.data, boxes.length);
    if (clsVote === 'page') {
      // One photo, one direction: the lines vote (each with its score).
      const vote = dirs.reduce((a, d) => a + (d.angle === 180 ? d.score : -d.score), 0) / dirs.length;
      rotate = dirs.map(() => vote > 0);
      result.pageAngle = vote > 0 ? 180 : 0;
      result.pageVote = vote;
    } else {
      rotate = dirs.map((d) => d.angle === 180 && d.score >= clsThreshold);
    }
    times.cls = now() - t;
  }

  onStage('rec', { boxes: boxes.length });
  t = now();
  const batch = cropBatch(image, boxes, { height: 48, rotate, ...recOptions });
  shapes.rec = batch.dims;
  const y = await runModel(rec, Tensor, batch.data, batch.dims);
  times.rec = now() - t;
  t = now();
  const texts = ctcGreedy(y.data, y.dims, dictionary);
  times.decode = now() - t;
  result.lines = boxes.map((box, i) => ({
    text: texts[i].text, score: texts[i].score, box,
    angle: dirs ? (rotate[i] ? 180 : 0) : null, verdict: dirs ? dirs[i] : null,
  }));
  // An upside-down page reads from its bottom right.
  if (result.pageAngle === 180) result.lines.reverse();
  times.total = now() - t0;
  return result;
}
