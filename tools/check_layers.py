#!/usr/bin/env python3
"""Fails when an engine file includes a folder that is not a layer below its own.

The rules file (written by CMakeLists.txt's glint_layer calls) has one line per
layer: `NAME FOLDER DEPS...`, FOLDER relative to engine/. A file in FOLDER may
include headers of FOLDER itself and of the layers DEPS reach (transitively);
anything else is an upward or sideways include, reported with the file, the
line and the layer it would reach into. Since every include points down a
declared graph, no two engine folders include each other. Also prints the
folder dependency graph with --graph.
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"engine/([^"]+)"')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rules', required=True)
    ap.add_argument('--root', required=True)
    ap.add_argument('--graph', action='store_true', help='print the folder include graph')
    args = ap.parse_args()

    layers = {}  # name -> (folder, deps)
    for line in open(args.rules):
        parts = line.split()
        if parts:
            layers[parts[0]] = (parts[1], parts[2:])
    folder_of = {folder: name for name, (folder, _) in layers.items()}

    def below(name, seen=None):
        seen = set() if seen is None else seen
        for dep in layers[name][1]:
            if dep not in seen:
                seen.add(dep)
                below(dep, seen)
        return seen

    allowed = {name: below(name) | {name} for name in layers}
    engine = os.path.join(args.root, 'engine')
    errors, edges = [], set()
    for dirpath, _, files in os.walk(engine):
        folder = os.path.relpath(dirpath, engine)
        for f in sorted(files):
            if not f.endswith(('.h', '.cc', '.inc')):
                continue
            path = os.path.join(dirpath, f)
            owner = folder_of.get(folder)
            if owner is None:
                errors.append(f'{os.path.relpath(path, args.root)}: folder engine/{folder} is no layer '
                              '(add it with glint_layer in CMakeLists.txt)')
                continue
            for lineno, line in enumerate(open(path, encoding='utf-8'), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = os.path.dirname(m.group(1))
                layer = folder_of.get(target)
                if layer is None:
                    errors.append(f'{os.path.relpath(path, args.root)}:{lineno}: includes engine/{m.group(1)}, '
                                  f'in engine/{target}, which is no layer')
                    continue
                if layer != owner:
                    edges.add((folder, target))
                if layer not in allowed[owner]:
                    errors.append(f'{os.path.relpath(path, args.root)}:{lineno}: layer {owner} (engine/{folder}) '
                                  f'includes engine/{m.group(1)} of layer {layer}, which is not below it')
    if args.graph:
        for a, b in sorted(edges):
            print(f'engine/{a} -> engine/{b}')
    if errors:
        print('layer check failed:', file=sys.stderr)
        for e in errors:
            print('  ' + e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
