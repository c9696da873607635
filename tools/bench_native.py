#!/usr/bin/env python3
"""glint natively, beside onnxruntime's CPU provider (Python) where it can be
imported, on the benchmark workloads of tools/make-bench-models.py. On a
machine with a real GPU this is the GL figure the browser harness cannot give
(EGL: Mesa's surfaceless platform, or the device platform of NVIDIA's driver;
GLINT_EGL_PLATFORM picks one).

  python3 tools/bench_native.py [--glint build/native/glint] [--models models/data/bench]
                                [--only W,...] [--runs N] [--threads 1,2] [--out bench-results/native]

Each workload: `glint bench --json` on the default backend (GL with per-node
CPU fallback) and on the CPU backend at each thread count (GLINT_NUM_THREADS),
and onnxruntime at the same thread counts. With onnxruntime there, the
workload's own inputs (its .bin files) also run through `glint run` on both
backends against onnxruntime's outputs (rtol = atol = 1e-3). Writes
results.json, native.md (the table) and native.svg (the chart) into --out and
prints the table. A benchmark, not a test: it reports and never fails on a
time.
"""
import argparse
import html
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def glint_bench(glint, model, backend, runs, warmup, files, threads=None):
    env = dict(os.environ)
    if threads:
        env['GLINT_NUM_THREADS'] = str(threads)
    cmd = [glint, 'bench', model, '--backend', backend, '--runs', str(runs), '--warmup', str(warmup), '--json'] + files
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0:
        return {'error': (p.stderr.strip().splitlines() or ['exit %d' % p.returncode])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def load_inputs(np, models, workload):
    feeds = {}
    for i in workload['inputs']:
        a = np.fromfile(os.path.join(models, i['file']), dtype=np.dtype(i['dtype']))
        feeds[i['name']] = a.reshape(i['shape'])
    return feeds


def input_files(np, feeds, workdir, tag):
    """The feeds as .npy files, as `glint bench` / `glint run` arguments."""
    files = []
    for i, (name, a) in enumerate(feeds.items()):
        path = os.path.join(workdir, '%s.in.%d.npy' % (tag, i))
        np.save(path, a)
        files += ['--input', '%s=%s' % (name, path)]
    return files


def ort_bench(ort, model, feeds, threads, runs, warmup):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    t0 = time.perf_counter()
    s = ort.InferenceSession(model, so, providers=['CPUExecutionProvider'])
    create = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    outs = s.run(None, feeds)
    first = (time.perf_counter() - t0) * 1e3
    for _ in range(warmup):
        s.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    names = [o.name for o in s.get_outputs()]
    return {'create_ms': create, 'first_run_ms': first, 'median_ms': statistics.median(times)}, dict(zip(names, outs))


def agreement(glint, model, backends, input_args, reference, workdir):
    """`glint run` on the workload's inputs (input_args: input_files') against
    onnxruntime's outputs, on each backend: {backend: {'agrees', 'max_abs_diff'[, 'detail']}}."""
    import numpy as np
    from onnx import numpy_helper
    files = list(input_args)
    for i, (name, a) in enumerate(reference.items()):
        path = os.path.join(workdir, 'out.%d.pb' % i)
        with open(path, 'wb') as f:
            f.write(numpy_helper.from_array(np.asarray(a), name).SerializeToString())
        files += ['--expect', '%s=%s' % (name, path)]
    return {b: check_run(glint, model, b, files) for b in backends}


def check_run(glint, model, backend, files):
    cmd = [glint, 'run', model, '--backend', backend, '--rtol', '1e-3', '--atol', '1e-3'] + files
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [l for l in p.stderr.splitlines() if l.startswith(('match', 'MISMATCH', 'glint: error'))]
    worst = 0.0
    for l in lines:
        if 'max |diff| ' in l:
            worst = max(worst, float(l.split('max |diff| ')[1].split()[0]))
    if p.returncode == 0:
        return {'agrees': True, 'max_abs_diff': worst}
    return {'agrees': False, 'max_abs_diff': worst, 'detail': '; '.join(l for l in lines if not l.startswith('match'))}


def fmt(v, digits=None):
    if v is None:
        return '—'
    if digits is None:
        digits = 3 if v < 1 else 2 if v < 10 else 1
    return '%.*f' % (digits, v)


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def median_of(r):
    return None if not r or 'error' in r else r['median_ms']


def markdown(results):
    threads = results['threads']
    head = ['workload', 'glint GL median', 'create + first']
    for t in threads:
        head += ['glint cpu %dt' % t, 'ORT cpu %dt' % t, 'glint ÷ ORT']
    head += ['GL ÷ ORT %dt' % threads[0], 'outputs vs ORT (1e-3)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for w in results['workloads']:
        gl = w['glint']['default']
        row = [w['name'], fmt(median_of(gl)) if 'error' not in gl else 'error: ' + gl['error'][:60],
               '—' if 'error' in gl else fmt(gl['create_ms'] + gl['first_run_ms'], 0)]
        for t in threads:
            g = median_of(w['glint'].get('cpu-%dt' % t))
            o = median_of(w['ort'].get('%dt' % t))
            r = ratio(g, o)
            row += [fmt(g), fmt(o), '—' if r is None else '%.2f×' % r]
        r = ratio(median_of(gl), median_of(w['ort'].get('%dt' % threads[0])))
        row.append('—' if r is None else '%.2f×' % r)
        agree = []
        for backend, a in w.get('agreement', {}).items():
            agree.append('%s %s (%.1e)' % (backend, 'yes' if a['agrees'] else 'NO', a['max_abs_diff']))
        row.append(', '.join(agree) or '—')
        lines.append('| ' + ' | '.join(row) + ' |')
    env = results['environment']
    notes = ['', 'Medians in ms of %d runs after %d warm-ups; ratios below 1× mean glint is faster. ' % (
        results['runs'], results['warmup']) +
        'GL: %s. CPU: %s, %s.' % (env['renderer'], env['cpu'], env['onnxruntime'])]
    return '\n'.join(lines + notes) + '\n'


def svg(results):
    """Grouped bars per workload: glint GL, glint cpu and ORT cpu at the first
    thread count, log scale."""
    t = results['threads'][0]
    series = [('glint GL', '#2f6fb3', lambda w: median_of(w['glint']['default'])),
              ('glint cpu %dt' % t, '#7fb0e0', lambda w: median_of(w['glint'].get('cpu-%dt' % t))),
              ('ORT cpu %dt' % t, '#d98c2b', lambda w: median_of(w['ort'].get('%dt' % t)))]
    ws = results['workloads']
    vals = [v for w in ws for _, _, f in series for v in [f(w)] if v]
    if not vals:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n'
    lo, hi = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
    hi = max(hi, lo + 1)
    left, top, plot_h, group_w, bar_w = 60, 40, 260, 120, 30
    width = left + group_w * len(ws) + 20
    height = top + plot_h + 60
    y = lambda v: top + plot_h - (math.log10(v) - lo) / (hi - lo) * plot_h
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (width, height),
           '<text x="%d" y="18" font-size="13">median run, ms (log scale) on %s</text>'
           % (left, html.escape(results['environment']['renderer']))]
    for e in range(lo, hi + 1):
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 10, y(10 ** e), y(10 ** e)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (left - 5, y(10 ** e) + 4, 10 ** e))
    for i, w in enumerate(ws):
        x0 = left + i * group_w + 10
        for j, (_, color, f) in enumerate(series):
            v = f(w)
            if v:
                out.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s</title></rect>'
                           % (x0 + j * bar_w, y(v), bar_w - 2, top + plot_h - y(v), color, fmt(v)))
        out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>'
                   % (x0 + 1.5 * bar_w, top + plot_h + 16, html.escape(w['name'])))
    for j, (label, color, _) in enumerate(series):
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>'
                   % (left + j * 130, height - 22, color, left + j * 130 + 16, height - 12, html.escape(label)))
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--glint', default=os.path.join(ROOT, 'build/native/glint'))
    ap.add_argument('--models', default=os.path.join(ROOT, 'models/data/bench'))
    ap.add_argument('--only', default='')
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench-results/native'))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(',') if t]
    manifest_path = os.path.join(args.models, 'manifest.json')
    if not os.path.exists(manifest_path):
        sys.exit('bench_native: no %s (make the models first: /usr/bin/python3 tools/make-bench-models.py)'
                 % manifest_path)
    with open(manifest_path) as f:
        manifest = json.load(f)
    wanted = [w for w in args.only.split(',') if w]
    workloads = [w for w in manifest['workloads'] if not wanted or w['name'] in wanted]
    unknown = set(wanted) - {w['name'] for w in manifest['workloads']}
    if unknown:
        sys.exit('bench_native: unknown workload(s) %s; the manifest has %s'
                 % (', '.join(sorted(unknown)), ', '.join(w['name'] for w in manifest['workloads'])))
    import numpy as np  # Debian's onnx, which made the models, needs it
    try:
        import onnxruntime as ort
        ort_version = 'onnxruntime %s' % ort.__version__
    except ImportError as e:
        ort = None
        ort_version = 'onnxruntime not importable (%s)' % e
        log('bench_native: %s; glint only' % ort_version)
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(l.split(':', 1)[1].strip() for l in f if l.startswith('model name'))
    except (OSError, StopIteration):
        pass
    results = {'runs': args.runs, 'warmup': args.warmup, 'threads': threads, 'workloads': [],
               'environment': {'renderer': 'no GL', 'cpu': '%s, %d cores' % (cpu, os.cpu_count() or 0),
                               'onnxruntime': ort_version, 'date': time.strftime('%Y-%m-%d %H:%M')}}
    os.makedirs(args.out, exist_ok=True)
    steps = len(workloads) * (1 + (2 if ort else 1) * len(threads))
    step = 0
    with tempfile.TemporaryDirectory() as workdir:
        for w in workloads:
            model = os.path.join(args.models, w['name'] + '.onnx')
            entry = {'name': w['name'], 'glint': {}, 'ort': {}}
            # The workload's own inputs (Silero VAD's dims are free; BERT's token ids index its vocabulary).
            feeds = load_inputs(np, args.models, w)
            files = input_files(np, feeds, workdir, w['name'])
            step += 1
            log('[%d/%d] %s: glint default backend (GL)' % (step, steps, w['name']))
            entry['glint']['default'] = glint_bench(args.glint, model, 'default', args.runs, args.warmup, files)
            if 'renderer' in entry['glint']['default']:
                results['environment']['renderer'] = entry['glint']['default']['renderer']
            for t in threads:
                step += 1
                log('[%d/%d] %s: glint cpu, %d thread(s)' % (step, steps, w['name'], t))
                entry['glint']['cpu-%dt' % t] = glint_bench(args.glint, model, 'cpu', args.runs, args.warmup, files, t)
            if ort:
                outs = None
                for t in threads:
                    step += 1
                    log('[%d/%d] %s: onnxruntime cpu, %d thread(s)' % (step, steps, w['name'], t))
                    entry['ort']['%dt' % t], got = ort_bench(ort, model, feeds, t, args.runs, args.warmup)
                    outs = outs or got  # the first thread count's outputs are the reference
                entry['agreement'] = agreement(args.glint, model, ('default', 'cpu'), files, outs, workdir)
            results['workloads'].append(entry)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    table = markdown(results)
    with open(os.path.join(args.out, 'native.md'), 'w') as f:
        f.write(table)
    with open(os.path.join(args.out, 'native.svg'), 'w') as f:
        f.write(svg(results))
    print(table)
    log('bench_native: results.json, native.md and native.svg in %s' % args.out)


if __name__ == '__main__':
    main()
