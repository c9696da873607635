#!/usr/bin/env python3
"""The model zoo's figures as people compare them: a Markdown table and an SVG
chart, from the JSON `glint zoo --json FILE` writes.

  python3 tools/zoo_report.py RESULTS.json [--markdown OUT.md] [--svg OUT.svg]

The table has a row per model: family, nodes, the verdict on each backend, the
largest difference from the reference, the share of the work (estimated
FLOPs) the GPU did on `default` (and of the steps run, bodies' included), create / first run / median run times on
`default` and the median on `cpu`, the first run at each further input size
(and the programs it compiled), and for a CNN or transformer under 90% GPU
work the heaviest CPU nodes with their reasons. The chart shows each model's
median run on both backends (log scale) and its GPU share.
"""
import argparse
import html
import json
import math
import sys


def load(path):
    with open(path) as f:
        rows = json.load(f)
    by_model = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["backend"]] = r
    return by_model


def gpu_share(r):
    if not r or r.get("verdict") != "pass":
        return None
    g, c = r.get("gpu_flops", 0.0), r.get("cpu_flops", 0.0)
    return None if g + c <= 0 else g / (g + c)


def ms(v):
    if v is None:
        return "—"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def verdict(r):
    if not r:
        return "—"
    v = r.get("verdict", "fail")
    return "pass" if v == "pass" else f"**{v.upper()}**"


def markdown(by_model):
    head = ("| model | family | nodes | default | cpu | max \\|diff\\| | GPU work | create ms | first run ms | "
            "median ms (default) | median ms (cpu) | first run at other sizes (new programs) |")
    out = [head, "|" + "---|" * 12]
    notes = []
    totals = {"pass": 0, "models": 0}
    for name in sorted(by_model):
        runs = by_model[name]
        d, c = runs.get("default"), runs.get("cpu")
        meta = (d or c or {}).get("meta", {})
        totals["models"] += 1
        if all(r.get("verdict") == "pass" for r in runs.values()):
            totals["pass"] += 1
        share = gpu_share(d)
        diffs = [r.get("max_abs_diff") for r in runs.values() if r.get("max_abs_diff") is not None]
        later = ", ".join(f"{ms(s['first_ms'])} ({s['new_programs']})" for s in (d or {}).get("sets", [])[1:])
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            name, meta.get("family", ""), (d or c or {}).get("nodes", "—"), verdict(d), verdict(c),
            f"{max(diffs):.1e}" if diffs else "—",
            "—" if share is None else f"{100 * share:.1f}% ({d['gpu_steps']}/{d['gpu_steps'] + d['cpu_steps']} steps)",
            ms((d or {}).get("create_ms")), ms((d or {}).get("first_ms")), ms((d or {}).get("median_ms")),
            ms((c or {}).get("median_ms")), later or "—"))
        for backend, r in sorted(runs.items()):
            if r.get("verdict") != "pass":
                notes.append(f"- `{name}` on `{backend}`: {r.get('reason', '')}")
        if share is not None and share < 0.9 and meta.get("kind") in ("cnn", "transformer"):
            heavy = "; ".join(f"{n['node']} ({n['op']}, {n['flops']:.3g} FLOPs): {n['reason'] or 'no reason recorded'}"
                              for n in d.get("cpu_nodes", [])[:3])
            notes.append(f"- `{name}`: {100 * share:.1f}% of the work on the GPU; on the CPU: {heavy}")
    out.append("")
    out.append(f"{totals['pass']} of {totals['models']} models match their references on every backend run.")
    if notes:
        out += ["", *notes]
    return "\n".join(out) + "\n"


def svg(by_model):
    names = sorted(n for n in by_model if any(r.get("median_ms") for r in by_model[n].values()))
    row_h, left, width = 18, 230, 900
    plot_w = width - left - 90
    height = 60 + row_h * len(names) + 30
    values = [r["median_ms"] for n in names for r in by_model[n].values() if r.get("median_ms")]
    lo = 10 ** math.floor(math.log10(max(min(values), 1e-3))) if values else 0.1
    hi = 10 ** math.ceil(math.log10(max(values))) if values else 1000
    x = lambda v: left + plot_w * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">Median run per model (ms, log scale): '
           f'<tspan fill="#2a6fdb">default (GPU + CPU fallback)</tspan>, <tspan fill="#999">cpu</tspan>; '
           f'right: share of the work on the GPU</text>']
    decade = lo
    while decade <= hi:
        out.append(f'<line x1="{x(decade):.1f}" y1="30" x2="{x(decade):.1f}" y2="{height - 25}" stroke="#eee"/>')
        out.append(f'<text x="{x(decade):.1f}" y="{height - 10}" text-anchor="middle" fill="#666">{decade:g}</text>')
        decade *= 10
    for i, name in enumerate(names):
        y = 40 + i * row_h
        out.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{html.escape(name)}</text>')
        for k, (backend, colour) in enumerate((("default", "#2a6fdb"), ("cpu", "#999"))):
            r = by_model[name].get(backend)
            if r and r.get("median_ms"):
                out.append(f'<rect x="{left}" y="{y + 1 + 7 * k}" width="{x(r["median_ms"]) - left:.1f}" height="6" '
                           f'fill="{colour}"><title>{backend}: {ms(r["median_ms"])} ms</title></rect>')
        share = gpu_share(by_model[name].get("default"))
        if share is not None:
            out.append(f'<text x="{width - 80}" y="{y + 11}">{100 * share:.0f}% GPU</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--markdown")
    ap.add_argument("--svg")
    a = ap.parse_args()
    by_model = load(a.results)
    table = markdown(by_model)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table)
    else:
        sys.stdout.write(table)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(by_model))


if __name__ == "__main__":
    main()
