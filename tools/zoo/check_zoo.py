#!/usr/bin/python3
"""Runs glint on the zoo and prints a markdown table of the results.

    /usr/bin/python3 tools/zoo/check_zoo.py [--glint PATH] [--zoo DIR] [--only NAME,...]
                                            [--backends cpu,default] [--timeout S] [--json FILE]

For each model: `glint node-tests <dir> --backend B --rtol R --atol A`
(the tolerances from its zoo.json) on each backend, the first failure's
message, the wall time, and from `glint info` how many nodes the default
backend puts on the GPU and which it leaves on the CPU, grouped by op and the
reason it prints, heavy ones (Conv, MatMul, Gemm, attention, ...) first and
marked '!'.
"""
import argparse
import json
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HEAVY = re.compile(r'Conv|MatMul|Gemm|Attention|LSTM|GRU|RNN|Einsum|NBits|ConvTranspose')


def run(cmd, timeout):
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
        return 124, out + f'\n(timed out after {timeout} s)', time.time() - t0


def node_tests(glint, folder, backend, meta, timeout):
    rc, out, secs = run([glint, 'node-tests', folder, '--backend', backend, '--rtol', str(meta['rtol']),
                         '--atol', str(meta['atol']), '--timeout', str(timeout)], timeout * 4 + 30)
    lines = [l for l in out.splitlines() if l.strip()]
    fails = [l for l in lines if l.startswith('FAIL') or l.startswith('timeout') or 'error' in l.lower()]
    summary = next((l for l in lines if re.match(r'\d+ passed', l)), '')
    if rc == 0:
        return 'pass', '', secs
    reason = fails[0] if fails else (lines[-1] if lines else f'exit {rc}')
    # drop the leading "FAIL   123.4 ms  name:" columns
    reason = re.sub(r'^\S+\s+[\d.]+ m?s\s+\S+?:\s*', '', reason)
    return 'FAIL', f'{summary}: {reason}' if summary else reason, secs


def info(glint, model):
    """(placement summary, CPU nodes grouped as 'Op xN: reason', heavy ones first and marked '!')."""
    rc, out, _ = run([glint, 'info', model], 300)
    m = re.search(r'(\d+) of (\d+) nodes on the GPU, (\d+) on the CPU', out)
    if not m:
        err = [l for l in out.splitlines() if 'error' in l.lower()]
        return 'info failed: ' + (err[0] if err else out.strip()[-200:]), []
    groups = {}
    for line in out.splitlines():
        cols = line.split(None, 4)
        if len(cols) >= 3 and cols[2] == 'CPU':
            key = (cols[1], cols[4].strip() if len(cols) > 4 else '')
            groups[key] = groups.get(key, 0) + 1
    cpu = sorted(groups.items(), key=lambda kv: (not HEAVY.search(kv[0][0]), -kv[1]))
    return f'{m.group(1)}/{m.group(2)} on GPU', [
        f'{"!" if HEAVY.search(op) else ""}{op} x{n}' + (f': {why}' if why else '') for (op, why), n in cpu]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--glint', default=os.path.join(REPO, 'build', 'native', 'glint'))
    ap.add_argument('--zoo', default=os.path.join(REPO, 'models', 'data', 'zoo'))
    ap.add_argument('--only')
    ap.add_argument('--backends', default='cpu,default')
    ap.add_argument('--timeout', type=int, default=120)
    ap.add_argument('--json', help='also write the results here')
    args = ap.parse_args()
    names = args.only.split(',') if args.only else sorted(
        d for d in os.listdir(args.zoo) if os.path.exists(os.path.join(args.zoo, d, 'zoo.json')))
    backends = args.backends.split(',')
    results = []
    print('| model | family | nodes | ' + ' | '.join(backends) + ' | GPU placement | CPU nodes (! = heavy) |')
    print('|---|---|---|' + '---|' * len(backends) + '---|---|', flush=True)
    for name in names:
        folder = os.path.join(args.zoo, name)
        with open(os.path.join(folder, 'zoo.json')) as f:
            meta = json.load(f)
        row = {'name': name, 'family': meta['family'], 'nodes': meta.get('nodes')}
        cells = []
        for b in backends:
            status, reason, secs = node_tests(args.glint, folder, b, meta, args.timeout)
            row[b] = {'status': status, 'reason': reason, 'seconds': round(secs, 1)}
            cells.append(f'{status} {secs:.1f}s' + (f': {reason}' if reason else ''))
        placement, heavy = info(args.glint, os.path.join(folder, 'model.onnx'))
        row['placement'], row['cpu_nodes'] = placement, heavy
        results.append(row)
        cells = [c.replace('|', '\\|') for c in cells]
        print(f'| {name} | {meta["family"]} | {meta.get("nodes")} | ' + ' | '.join(cells) +
              f' | {placement} | {"; ".join(heavy[:5]) + (f"; +{len(heavy) - 5} more" if len(heavy) > 5 else "")} |',
              flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
