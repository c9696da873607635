#!/usr/bin/python3
"""Makes the benchmark's workloads in models/data/bench/ (web/bench/README.md).

Run with Debian's python (/usr/bin/python3: onnx, numpy; torch + torchvision
for MobileNetV2, torch for the transformers, installed by
GLINT_DEPS_BENCH=1 bash tools/deps.sh):

    /usr/bin/python3 tools/make-bench-models.py [--force] [--out DIR]

Per workload W it writes
    W.onnx        the model every ONNX engine loads (float32 weights)
    W.input.bin   the input of a one-input workload, float32, NCHW (the same
                  bytes for every engine); a workload with several inputs has
                  one W.input.NAME.bin per input instead, raw little-endian
                  float32 or int64 as the model declares it
    W.tf.json     the same network as a list of TensorFlow.js ops in NHWC, with
    W.tf.bin      its weights (float32, already in TF layouts: conv HWIO,
                  depthwise HW C 1, matmul [K, N]); only for the workloads
                  with a TF.js port (TF_SKIP names the others, and why)
and manifest.json, which lists the workloads (their inputs: name, shape,
dtype, file; their outputs: name, shape) with the sha256 of every file, of
this script and of the source models. When the manifest matches, nothing is
made again (a rerun takes well under a second).

The TF.js op list is translated from the ONNX graph itself, node by node, so
the two are the same math; a node this translator does not know is an error,
never skipped.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, 'models', 'data')
SQUEEZENET_FP16 = os.path.join(DATA, 'squeezenet1.1-fp16.onnx')
MNIST = os.path.join(DATA, 'mnist', 'model.onnx')
SILERO_VAD = os.path.join(DATA, 'vad', 'silero_vad_v5.onnx')
SOURCES = (SQUEEZENET_FP16, MNIST, SILERO_VAD)  # the fetched models the workloads come from

WORKLOADS = ['squeezenet', 'mobilenetv2', 'mnist', 'silero-vad', 'matmul', 'conv3x3', 'depthwise3x3', 'bert',
             'gpt-decode', 'gpt-decode-loop']
DESCRIPTIONS = {
    'squeezenet': 'SqueezeNet 1.1, fp32 (the fp16 model\'s weights widened), 1x3x224x224',
    'mobilenetv2': 'MobileNetV2 1.0 224 (torchvision, random weights seed 0, BatchNorm folded), opset 13',
    'mnist': 'MNIST (ONNX model zoo mnist-8), 1x1x28x28',
    'silero-vad': 'Silero VAD v5 (npm @ricky0123/vad-web 0.0.24; an If over STFT conv, 4 convs, an LSTM): one '
                  '512-sample frame at 16 kHz with its recurrent state',
    'matmul': 'MatMul [256x1024] x [1024x1024] (B a constant)',
    'conv3x3': 'Conv 3x3 pad 1, 1x32x112x112 -> 64 channels, + bias',
    'depthwise3x3': 'Depthwise Conv 3x3 pad 1, 1x96x56x56, group 96, + bias',
    'bert': 'BERT encoder shaped like MiniLM-L6-H384 (6 layers, hidden 384, 12 heads, FFN 1536, '
            'vocab 30522; torch, random weights seed 10), batch 1 x seq 128, opset 13',
    'gpt-decode': 'GPT-2-style decoder, one decode step with a KV cache (6 layers, hidden 384, 6 heads x 64, '
                  'FFN 1536, vocab 8192, tied LM head; torch, random weights seed 20): 1 token + past 127, opset 13',
    'gpt-decode-loop': 'the gpt-decode model (its cache\'s length a symbolic dim) in a decode loop: each step feeds the step before\'s present keys/values '
                       'as its past (the cache grows a token a step, attention_mask with it; back to the 127-token '
                       'cache every 8 steps) and asks for them to stay where the engine wrote them '
                       '(preferredOutputLocation cpu-pinned; texture for glint on webgl); the first step\'s outputs are compared',
}
# Workloads run as a loop (web/bench/page.mjs): which outputs feed which
# inputs of the next run, the mask that grows with them, and after how many
# runs the loop starts again from the input files.
CARRY = {
    'gpt-decode-loop': {
        'outputs': {f'present_{kv}_{i}': f'past_{kv}_{i}' for i in range(6) for kv in ('key', 'value')},
        'mask': 'attention_mask', 'every': 8},
}
# Workloads with no TF.js port, and why: their rows say so instead of a time.
_NO_TF_PORT = ('no fair TF.js port (TF.js loads no ONNX, and the ONNX-to-TF.js op translator here covers '
               'the conv nets only)')
TF_SKIP = {'bert': _NO_TF_PORT, 'gpt-decode': _NO_TF_PORT, 'gpt-decode-loop': _NO_TF_PORT, 'silero-vad': _NO_TF_PORT}


def log(msg):
    print(f'bench-models: {msg}', flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------
# The ONNX models
# ----------------------------------------------------------------------------

def squeezenet_fp32():
    """SqueezeNet 1.1 with its float16 weights widened to float32 (exactly)."""
    m = onnx.load(SQUEEZENET_FP16)
    g = m.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT16:
            a = numpy_helper.to_array(t).astype(np.float32)
            g.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        tt = vi.type.tensor_type
        if tt.elem_type == TensorProto.FLOAT16:
            tt.elem_type = TensorProto.FLOAT
    for n in g.node:
        if n.op_type == 'Cast':
            raise SystemExit('bench-models: squeezenet: unexpected Cast node; update squeezenet_fp32()')
    # Its input is BGR pixels minus the mean: draw values of that range.
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, size=(1, 3, 224, 224)).astype(np.float32)
    x -= np.array([104, 117, 123], np.float32).reshape(1, 3, 1, 1)
    return m, x


def mobilenetv2():
    """torchvision's MobileNetV2 1.0 with seeded random weights. Its BatchNorm
    statistics are calibrated on seeded random batches first (so activations
    stay O(1) through the 17 blocks), then each BatchNorm is folded into the
    conv before it, and the model is exported in eval mode at opset 13."""
    import io
    import torch
    import torchvision
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = torchvision.models.mobilenet_v2(weights=None)
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = None  # cumulative average over the calibration batches
    model.train()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(4):
            model(torch.rand(4, 3, 224, 224, generator=gen) * 2 - 1)
    model.eval()

    def fuse(seq):
        kids = list(seq.named_children())
        for (n1, m1), (n2, m2) in zip(kids, kids[1:]):
            if isinstance(m1, torch.nn.Conv2d) and isinstance(m2, torch.nn.BatchNorm2d):
                setattr(seq, n1, fuse_conv_bn_eval(m1, m2))
                setattr(seq, n2, torch.nn.Identity())
        for _, child in seq.named_children():
            fuse(child)

    fuse(model)
    left = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if left:
        raise SystemExit(f'bench-models: mobilenetv2: {len(left)} BatchNorm layers were not folded')
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(1, 3, 224, 224)).astype(np.float32)
    buf = io.BytesIO()
    torch.onnx.export(model, torch.from_numpy(x), buf, opset_version=13, input_names=['input'],
                      output_names=['output'], do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue()), x


def mnist():
    m = onnx.load(MNIST)
    rng = np.random.default_rng(3)
    return m, rng.uniform(0, 1, size=(1, 1, 28, 28)).astype(np.float32)


def silero_vad():
    """The model as shipped (free dims: batch, samples); the harness feeds one
    frame, its shapes in FRAME_SHAPES."""
    rng = np.random.default_rng(6)
    t = np.arange(512) / 16000.0
    frame = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(512)).astype(np.float32)[None]
    state = (0.1 * rng.standard_normal((2, 1, 128))).astype(np.float32)
    return onnx.load(SILERO_VAD), {'input': frame, 'state': state, 'sr': np.array(16000, dtype=np.int64)}


# The shapes of one run, for workloads whose model leaves dims free (pinning
# them in the model instead made onnxruntime's shape inference refuse
# Silero's If, whose branches declare other ranks).
FRAME_SHAPES = {'silero-vad': {'input': [1, 512], 'state': [2, 1, 128], 'sr': [], 'output': [1, 1],
                               'stateN': [2, 1, 128]},
                # the loop's first step: the 127-token cache of the files
                'gpt-decode-loop': {'attention_mask': [1, 128], 'logits': [1, 1, 8192],
                                    **{f'past_{kv}_{i}': [1, 6, 127, 64] for i in range(6) for kv in ('key', 'value')},
                                    **{f'present_{kv}_{i}': [1, 6, 128, 64] for i in range(6) for kv in ('key', 'value')}}}


def kernel_model(name, node, inputs, initializers, output):
    g = helper.make_graph([node], name, inputs, [output], initializer=initializers)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='glint-bench')
    m.ir_version = 7
    return m


def matmul():
    rng = np.random.default_rng(4)
    b = (rng.standard_normal((1024, 1024)) / 32).astype(np.float32)
    m = kernel_model('matmul', helper.make_node('MatMul', ['A', 'B'], ['Y']),
                     [helper.make_tensor_value_info('A', TensorProto.FLOAT, [256, 1024])],
                     [numpy_helper.from_array(b, 'B')],
                     helper.make_tensor_value_info('Y', TensorProto.FLOAT, [256, 1024]))
    return m, rng.uniform(-1, 1, size=(256, 1024)).astype(np.float32)


def conv3x3():
    rng = np.random.default_rng(5)
    w = (rng.standard_normal((64, 32, 3, 3)) * np.sqrt(2 / (32 * 9))).astype(np.float32)
    b = (rng.standard_normal(64) * 0.1).astype(np.float32)
    m = kernel_model('conv3x3', helper.make_node('Conv', ['X', 'W', 'B'], ['Y'], kernel_shape=[3, 3],
                                                 pads=[1, 1, 1, 1]),
                     [helper.make_tensor_value_info('X', TensorProto.FLOAT, [1, 32, 112, 112])],
                     [numpy_helper.from_array(w, 'W'), numpy_helper.from_array(b, 'B')],
                     helper.make_tensor_value_info('Y', TensorProto.FLOAT, [1, 64, 112, 112]))
    return m, rng.uniform(-1, 1, size=(1, 32, 112, 112)).astype(np.float32)


def depthwise3x3():
    rng = np.random.default_rng(6)
    w = (rng.standard_normal((96, 1, 3, 3)) / 3).astype(np.float32)
    b = (rng.standard_normal(96) * 0.1).astype(np.float32)
    m = kernel_model('depthwise3x3', helper.make_node('Conv', ['X', 'W', 'B'], ['Y'], kernel_shape=[3, 3],
                                                      pads=[1, 1, 1, 1], group=96),
                     [helper.make_tensor_value_info('X', TensorProto.FLOAT, [1, 96, 56, 56])],
                     [numpy_helper.from_array(w, 'W'), numpy_helper.from_array(b, 'B')],
                     helper.make_tensor_value_info('Y', TensorProto.FLOAT, [1, 96, 56, 56]))
    return m, rng.uniform(-1, 1, size=(1, 96, 56, 56)).astype(np.float32)


# ----------------------------------------------------------------------------
# Transformers: small nn.Modules written here (no HF transformers), random
# weights from fixed seeds, exported by torch.onnx at opset 13 as plain ONNX
# ops (MatMul/Gemm, Add, Softmax, LayerNorm decomposed into ReduceMean/Sub/
# Pow/Sqrt/Div, GELU through Erf, Gather, Reshape/Transpose, Split, Concat).
# ----------------------------------------------------------------------------

def seeded_init(model, seed):
    """Every parameter from one seeded generator: matrices and biases N(0, 0.02)
    (BERT's and GPT-2's init), LayerNorm scales 1 + N(0, 0.1)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and not name.endswith('bias'):
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def torch_export(model, args, input_names, output_names, dynamic_axes=None):
    import io
    import warnings
    import torch
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(model, args, buf, opset_version=13, input_names=input_names,
                          output_names=output_names, do_constant_folding=True, dynamic_axes=dynamic_axes)
    return onnx.load_from_string(buf.getvalue())


def attention(q, k, v, mask):
    """softmax(q k^T / sqrt(d) + mask) v, q k v [batch, heads, tokens, d]."""
    import math
    import torch
    a = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + mask
    return torch.matmul(torch.softmax(a, -1), v)


def bert():
    """A BERT encoder shaped like MiniLM-L6-H384 (all-MiniLM-L6-v2's shape):
    embeddings (word + position + token type, LayerNorm), then 6 post-LN
    layers of 12-head self-attention and a GELU FFN. Inputs input_ids,
    attention_mask, token_type_ids (int64 [1, 128]); output the last hidden
    state [1, 128, 384]. The mask pads the tail (seeded length), the token
    types split the sequence into two segments, as for a sentence pair."""
    import torch
    from torch import nn
    import torch.nn.functional as F
    torch.set_num_threads(2)
    vocab, hidden, layers, heads, ffn, positions, seq = 30522, 384, 6, 12, 1536, 512, 128

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(hidden, hidden) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(hidden, eps=1e-12), nn.LayerNorm(hidden, eps=1e-12)
            self.up, self.down = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)

        def split_heads(self, x):
            return x.view(x.shape[0], x.shape[1], heads, hidden // heads).transpose(1, 2)

        def forward(self, x, mask):
            a = attention(self.split_heads(self.q(x)), self.split_heads(self.k(x)), self.split_heads(self.v(x)), mask)
            x = self.ln1(x + self.o(a.transpose(1, 2).reshape(x.shape)))
            return self.ln2(x + self.down(F.gelu(self.up(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word, self.position = nn.Embedding(vocab, hidden), nn.Embedding(positions, hidden)
            self.token_type = nn.Embedding(2, hidden)
            self.ln = nn.LayerNorm(hidden, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))

        def forward(self, input_ids, attention_mask, token_type_ids):
            pos = torch.arange(input_ids.shape[1], dtype=torch.long).unsqueeze(0)
            x = self.ln(self.word(input_ids) + self.position(pos) + self.token_type(token_type_ids))
            mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
            for layer in self.layers:
                x = layer(x, mask)
            return x

    torch.manual_seed(0)
    model = Encoder().eval()
    seeded_init(model, 10)
    rng = np.random.default_rng(11)
    length = int(rng.integers(96, seq))        # real tokens; the rest is padding
    first = int(rng.integers(32, length - 16))  # where the second segment starts
    ids = rng.integers(1000, vocab, size=(1, seq)).astype(np.int64)
    ids[0, 0], ids[0, first - 1], ids[0, length - 1], ids[0, length:] = 101, 102, 102, 0  # [CLS] [SEP] [SEP] [PAD]
    mask = (np.arange(seq) < length).astype(np.int64).reshape(1, seq)
    types = ((np.arange(seq) >= first) & (np.arange(seq) < length)).astype(np.int64).reshape(1, seq)
    feeds = {'input_ids': ids, 'attention_mask': mask, 'token_type_ids': types}
    m = torch_export(model, tuple(torch.from_numpy(a) for a in feeds.values()), list(feeds),
                     ['last_hidden_state'])
    return m, feeds


def gpt_decode(cache_dim=None):
    """A GPT-2-style decoder (pre-LN blocks: fused QKV projection, 6 heads of
    64, GELU FFN, final LayerNorm, LM head tied to the token embedding as a
    Gemm with transB) running ONE decode step: input_ids [1, 1], attention_mask
    [1, 128] and past_key_L / past_value_L [1, 6, 127, 64] per layer L in;
    logits [1, 1, 8192] and present_key_L / present_value_L [1, 6, 128, 64]
    (the past with this token's key/value concatenated) out. The past is
    the model's own cache of a seeded random 127-token prompt, and the step's
    logits are checked against a full 128-token pass here. With `cache_dim`
    (a name) the cache's length is that symbolic dim (attention_mask's and
    the presents' the dim 'total'), as a decode loop needs."""
    import torch
    from torch import nn
    import torch.nn.functional as F
    torch.set_num_threads(2)
    vocab, hidden, layers, heads, ffn, positions, past_len = 8192, 384, 6, 6, 1536, 1024, 127
    head_dim = hidden // heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
            self.qkv, self.proj = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
            self.up, self.down = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)

        def split_heads(self, x):
            return x.view(x.shape[0], x.shape[1], heads, head_dim).transpose(1, 2)

        def forward(self, x, mask, past_k, past_v):
            q, k, v = self.qkv(self.ln1(x)).split(hidden, dim=2)
            k = torch.cat([past_k, self.split_heads(k)], dim=2)
            v = torch.cat([past_v, self.split_heads(v)], dim=2)
            a = attention(self.split_heads(q), k, v, mask)
            x = x + self.proj(a.transpose(1, 2).reshape(x.shape))
            return x + self.down(F.gelu(self.up(self.ln2(x)))), k, v

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, hidden), nn.Embedding(positions, hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(hidden)
            self.lm_bias = nn.Parameter(torch.zeros(vocab))

        def forward(self, input_ids, attention_mask, *past):
            b, t = input_ids.shape
            p = past[0].shape[2]
            x = self.wte(input_ids) + self.wpe(torch.arange(p, p + t, dtype=torch.long).unsqueeze(0))
            mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
            if t > 1:  # a prompt: causal (a decode step's one query sees every key; not in the export)
                mask = mask.masked_fill(torch.ones(t, p + t).tril(p) == 0, -10000.0)
            presents = []
            for i, block in enumerate(self.blocks):
                x, k, v = block(x, mask, past[2 * i], past[2 * i + 1])
                presents += [k, v]
            # Tied LM head: F.linear on 2-D with a bias exports as Gemm(x, wte, bias, transB=1),
            # so the embedding is stored once.
            logits = F.linear(self.ln_f(x).reshape(b * t, hidden), self.wte.weight, self.lm_bias)
            return (logits.reshape(b, t, vocab), *presents)

    torch.manual_seed(0)
    model = Decoder().eval()
    seeded_init(model, 20)
    rng = np.random.default_rng(21)
    prompt = torch.from_numpy(rng.integers(0, vocab, size=(1, past_len + 1)).astype(np.int64))
    ones = lambda n: torch.ones(1, n, dtype=torch.long)
    empty = [torch.zeros(1, heads, 0, head_dim) for _ in range(2 * layers)]
    with torch.no_grad():
        past = model(prompt[:, :past_len], ones(past_len), *empty)[1:]
        step_args = (prompt[:, past_len:], ones(past_len + 1), *past)
        step = model(*step_args)
        full = model(prompt, ones(past_len + 1), *empty)
    err = max(float((step[0][0, 0] - full[0][0, -1]).abs().max()),
              max(float((a - b).abs().max()) for a, b in zip(step[1:], full[1:])))
    if err > 1e-4:
        raise SystemExit(f'bench-models: gpt-decode: the KV-cache step differs from the full pass by {err}')
    names = ['input_ids', 'attention_mask'] + [f'past_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')]
    outs = ['logits'] + [f'present_{kv}_{i}' for i in range(layers) for kv in ('key', 'value')]
    dynamic = None
    if cache_dim:
        dynamic = {'attention_mask': {1: 'total'}}
        dynamic.update({n: {2: cache_dim} for n in names[2:]})
        dynamic.update({n: {2: 'total'} for n in outs[1:]})
    m = torch_export(model, step_args, names, outs, dynamic)
    return m, {n: a.numpy() for n, a in zip(names, step_args)}


MAKERS = {'squeezenet': squeezenet_fp32, 'mobilenetv2': mobilenetv2, 'mnist': mnist, 'silero-vad': silero_vad,
          'matmul': matmul,
          'conv3x3': conv3x3, 'depthwise3x3': depthwise3x3, 'bert': bert, 'gpt-decode': gpt_decode,
          'gpt-decode-loop': lambda: gpt_decode(cache_dim='past')}


# ----------------------------------------------------------------------------
# ONNX graph -> TensorFlow.js op list (NHWC)
# ----------------------------------------------------------------------------

NCHW_TO_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}
NEG_BIG = -3.4e38  # the pad value before a max pool: below any float32 input


class Untranslatable(Exception):
    pass


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def spatial_pads(node, a, in_hw, kernel, strides, dilations):
    """[top, left, bottom, right] as ONNX says, auto_pad included."""
    auto = a.get('auto_pad', b'NOTSET')
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ('NOTSET', ''):
        return list(a.get('pads', [0, 0, 0, 0]))
    if auto == 'VALID':
        return [0, 0, 0, 0]
    if auto in ('SAME_UPPER', 'SAME_LOWER'):
        begin, end = [], []
        for i in range(2):
            out = -(-in_hw[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in_hw[i])
            small, big = total // 2, total - total // 2
            begin.append(small if auto == 'SAME_UPPER' else big)
            end.append(big if auto == 'SAME_UPPER' else small)
        return begin + end
    raise Untranslatable(f'{node.op_type} {node.name}: auto_pad {auto}')


class Translator:
    def __init__(self, model):
        model = shape_inference.infer_shapes(model)
        self.g = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')), 1)
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.g.initializer}
        self.shapes = {}
        for vi in list(self.g.input) + list(self.g.value_info) + list(self.g.output):
            dims = vi.type.tensor_type.shape.dim
            self.shapes[vi.name] = [d.dim_value if d.HasField('dim_value') else None for d in dims]
        self.uses = {}
        for n in self.g.node:
            for i in n.input:
                self.uses[i] = self.uses.get(i, 0) + 1
        self.graph_outputs = {o.name for o in self.g.output}
        self.ops, self.weights = [], []  # weights: (name, float32 array)
        self.tf_name = {}   # ONNX value -> TF value (aliases for Identity/Dropout and fused ops)
        self.producer = {}  # TF value -> the op dict that makes it
        self.counter = 0

    # -- helpers -------------------------------------------------------------
    def shape(self, name):
        s = self.shapes.get(name)
        if s is None or any(d is None for d in s):
            raise Untranslatable(f'value {name}: no static shape from shape inference')
        return s

    def const(self, name):
        return self.consts.get(name) if name else None

    def value(self, name):
        if name in self.consts:
            raise Untranslatable(f'value {name} is a constant where a tensor was expected')
        return self.tf_name.get(name, name)

    def add_weight(self, array, hint):
        self.counter += 1
        wname = f'w{self.counter}_{hint}'
        self.weights.append((wname, np.ascontiguousarray(array, dtype=np.float32)))
        return wname

    def emit(self, op, onnx_out, **fields):
        d = {'op': op, 'output': onnx_out, **fields}
        self.ops.append(d)
        self.tf_name[onnx_out] = onnx_out
        self.producer[onnx_out] = d
        return d

    def fusable(self, onnx_in, kinds):
        """The op producing onnx_in, when this node is its only consumer."""
        tf = self.tf_name.get(onnx_in)
        op = self.producer.get(tf)
        if op is None or op['op'] not in kinds or self.uses.get(onnx_in, 0) != 1 or onnx_in in self.graph_outputs:
            return None
        return op

    def retarget(self, op, onnx_in, onnx_out):
        """op now also computes onnx_out (a fused successor); rename its output."""
        del self.producer[op['output']]
        op['output'] = onnx_out
        self.tf_name[onnx_out] = onnx_out
        self.tf_name.pop(onnx_in, None)
        self.producer[onnx_out] = op

    def to_tf_layout(self, array, rank):
        """A constant operand of a rank-`rank` tensor: broadcast rank, NCHW -> NHWC."""
        a = np.asarray(array, np.float32)
        if rank == 4:
            a = a.reshape((1,) * (4 - a.ndim) + a.shape).transpose(0, 2, 3, 1)
        return a

    # -- nodes -----------------------------------------------------------------
    def translate(self):
        for node in self.g.node:
            try:
                self.node(node)
            except Untranslatable:
                raise
            except Exception as e:  # a malformed assumption: name the node
                raise Untranslatable(f'{node.op_type} {node.name}: {e}') from e
        for o in self.g.output:
            if o.name not in self.tf_name:
                raise Untranslatable(f'graph output {o.name} was not produced')
        return self.ops

    def node(self, n):
        op, a = n.op_type, attrs_of(n)
        ins = list(n.input)
        if op == 'Constant':
            self.consts[n.output[0]] = numpy_helper.to_array(a['value'])
            return
        if ins and all(i in self.consts for i in ins if i):
            return self.fold(n, a)
        if op in ('Identity', 'Dropout'):
            self.tf_name[n.output[0]] = self.value(ins[0])
            return
        handler = getattr(self, 'op_' + op, None)
        if handler is None:
            raise Untranslatable(f'ONNX op {op} (node {n.name}) has no TF.js translation')
        handler(n, a, ins, n.output[0])

    def fold(self, n, a):
        if n.op_type == 'Reshape':
            x, s = self.consts[n.input[0]], self.consts[n.input[1]].astype(np.int64)
            s = [x.shape[i] if d == 0 else d for i, d in enumerate(s)]
            self.consts[n.output[0]] = x.reshape(s)
            return
        if n.op_type == 'Identity':
            self.consts[n.output[0]] = self.consts[n.input[0]]
            return
        raise Untranslatable(f'constant {n.op_type} {n.name}: no constant folding for it')

    def op_Conv(self, n, a, ins, out):
        xs = self.shape(ins[0])
        w = self.const(ins[1])
        if len(xs) != 4 or w is None or w.ndim != 4:
            raise Untranslatable(f'Conv {n.name}: only 2-D convs with constant weights')
        kernel = list(w.shape[2:])
        strides = list(a.get('strides', [1, 1]))
        dil = list(a.get('dilations', [1, 1]))
        pads = spatial_pads(n, a, xs[2:], kernel, strides, dil)
        group = a.get('group', 1)
        c_in, c_out = xs[1], w.shape[0]
        if group == 1:
            op, filt = 'conv2d', w.transpose(2, 3, 1, 0)                       # OIHW -> HWIO
        elif group == c_in and w.shape[1] == 1:
            mult = c_out // group
            op, filt = 'depthwiseConv2d', w.reshape(group, mult, *kernel).transpose(2, 3, 0, 1)  # -> H W C M
        else:
            raise Untranslatable(f'Conv {n.name}: group {group} is neither 1 nor depthwise')
        bias = self.const(ins[2]) if len(ins) > 2 and ins[2] else None
        fields = dict(input=self.value(ins[0]), filter=self.add_weight(filt, 'filter'), strides=strides,
                      dilations=dil, pad=self.tf_pad(pads), activation='linear')
        if bias is not None:
            fields['bias'] = self.add_weight(bias.reshape(-1), 'bias')
        self.emit(op, out, **fields)

    @staticmethod
    def tf_pad(pads):
        t, l, b, r = pads
        if t == l == b == r:
            return t
        return [[0, 0], [t, b], [l, r], [0, 0]]

    def activation(self, n, ins, out, kind, **extra):
        prev = self.fusable(ins[0], ('conv2d', 'depthwiseConv2d', 'matMul'))
        if prev is not None and prev['activation'] == 'linear' and kind in ('relu', 'relu6'):
            prev['activation'] = kind
            self.retarget(prev, ins[0], out)
            return
        self.emit(kind, out, input=self.value(ins[0]), **extra)

    def op_Relu(self, n, a, ins, out):
        self.activation(n, ins, out, 'relu')

    def op_Clip(self, n, a, ins, out):
        if self.opset >= 11:
            lo = self.const(ins[1]) if len(ins) > 1 and ins[1] else None
            hi = self.const(ins[2]) if len(ins) > 2 and ins[2] else None
            if (len(ins) > 1 and ins[1] and lo is None) or (len(ins) > 2 and ins[2] and hi is None):
                raise Untranslatable(f'Clip {n.name}: min/max must be constants')
            lo = float(lo) if lo is not None else -np.inf
            hi = float(hi) if hi is not None else np.inf
        else:
            lo, hi = a.get('min', -np.inf), a.get('max', np.inf)
        if lo == 0 and hi == 6:
            return self.activation(n, ins, out, 'relu6')
        if lo == 0 and hi == np.inf:
            return self.activation(n, ins, out, 'relu')
        self.emit('clip', out, input=self.value(ins[0]), min=max(lo, -3.4e38), max=min(hi, 3.4e38))

    def op_Sigmoid(self, n, a, ins, out):
        self.emit('sigmoid', out, input=self.value(ins[0]))

    def op_Tanh(self, n, a, ins, out):
        self.emit('tanh', out, input=self.value(ins[0]))

    def pool(self, n, a, ins, out, kind):
        xs = self.shape(ins[0])
        if len(xs) != 4 or len(n.output) > 1 and n.output[1]:
            raise Untranslatable(f'{n.op_type} {n.name}: only 2-D pooling without indices')
        k = list(a['kernel_shape'])
        s = list(a.get('strides', [1, 1]))
        if any(d != 1 for d in a.get('dilations', [1, 1])):
            raise Untranslatable(f'{n.op_type} {n.name}: dilations')
        pads = spatial_pads(n, a, xs[2:], k, s, [1, 1])
        ceil = a.get('ceil_mode', 0)
        # ONNX's output size (ceil mode: a last window must start inside the
        # input or its begin pad), then the extra end pad that gives it in TF's floor mode.
        outs, extra = [], []
        for i in range(2):
            span = xs[2 + i] + pads[i] + pads[i + 2] - k[i]
            o = (-(-span // s[i]) if ceil else span // s[i]) + 1
            if ceil and (o - 1) * s[i] >= xs[2 + i] + pads[i]:
                o -= 1
            outs.append(o)
            extra.append(max(0, (o - 1) * s[i] + k[i] - (xs[2 + i] + pads[i] + pads[i + 2])))
        want = self.shape(out)[2:]
        if outs != want:
            raise Untranslatable(f'{n.op_type} {n.name}: output {outs} but shape inference says {want}')
        full = [pads[0], pads[1], pads[2] + extra[0], pads[3] + extra[1]]
        x = self.value(ins[0])
        if kind == 'maxPool':
            if full[0] == full[1] == full[2] == full[3]:
                return self.emit('maxPool', out, input=x, filterSize=k, strides=s, pad=full[0])
            # Asymmetric or ceil mode: pad with a value below any input, then a valid pool.
            padded = out + '__padded'
            self.emit('pad', padded, input=x, paddings=[[0, 0], [full[0], full[2]], [full[1], full[3]], [0, 0]],
                      value=NEG_BIG)
            return self.emit('maxPool', out, input=padded, filterSize=k, strides=s, pad=0)
        if any(full):
            if a.get('count_include_pad', 0) and not any(extra):
                padded = out + '__padded'
                self.emit('pad', padded, input=x,
                          paddings=[[0, 0], [full[0], full[2]], [full[1], full[3]], [0, 0]], value=0)
                return self.emit('avgPool', out, input=padded, filterSize=k, strides=s, pad=0)
            raise Untranslatable(f'AveragePool {n.name}: padding that excludes the pad from the mean')
        self.emit('avgPool', out, input=x, filterSize=k, strides=s, pad=0)

    def op_MaxPool(self, n, a, ins, out):
        self.pool(n, a, ins, out, 'maxPool')

    def op_AveragePool(self, n, a, ins, out):
        self.pool(n, a, ins, out, 'avgPool')

    def op_GlobalAveragePool(self, n, a, ins, out):
        if len(self.shape(ins[0])) != 4:
            raise Untranslatable(f'GlobalAveragePool {n.name}: rank')
        self.emit('mean', out, input=self.value(ins[0]), axes=[1, 2], keepDims=True)

    def op_GlobalMaxPool(self, n, a, ins, out):
        if len(self.shape(ins[0])) != 4:
            raise Untranslatable(f'GlobalMaxPool {n.name}: rank')
        self.emit('max', out, input=self.value(ins[0]), axes=[1, 2], keepDims=True)

    def op_Concat(self, n, a, ins, out):
        rank = len(self.shape(out))
        axis = a['axis'] % rank
        if rank == 4:
            axis = NCHW_TO_NHWC_AXIS[axis]
        self.emit('concat', out, inputs=[self.value(i) for i in ins], axis=axis)

    def binary(self, n, ins, out, kind):
        rank = len(self.shape(out))
        c0, c1 = self.const(ins[0]), self.const(ins[1])
        if c1 is not None and kind == 'add':
            # A bias after a conv / matmul: fold it in, as TF.js's converter does.
            prev = self.fusable(ins[0], ('conv2d', 'depthwiseConv2d', 'matMul'))
            xs = self.shape(ins[0])
            # Per output channel: [N] after a matmul, [C,1,1] (or [1,C,1,1]) after a conv.
            if rank == 2:
                per_channel = c1.shape[-1:] == (xs[1],) and c1.size == xs[1]
            else:
                per_channel = rank == 4 and c1.ndim >= 3 and c1.shape[-3:] == (xs[1], 1, 1) and c1.size == xs[1]
            if prev is not None and prev['activation'] == 'linear' and per_channel:
                b = c1.reshape(-1)
                if 'bias' in prev:
                    old = dict(self.weights)[prev['bias']]
                    b = old + b
                prev['bias'] = self.add_weight(b, 'bias')
                self.retarget(prev, ins[0], out)
                return
        operands = []
        for name, c in ((ins[0], c0), (ins[1], c1)):
            if c is not None:
                operands.append({'weight': self.add_weight(self.to_tf_layout(c, rank), kind)})
            else:
                if (len(self.shape(name)) == 4) != (rank == 4):
                    raise Untranslatable(f'{n.op_type} {n.name}: mixes a 4-D tensor with another rank')
                operands.append({'value': self.value(name)})
        self.emit(kind, out, operands=operands)

    def op_Add(self, n, a, ins, out):
        self.binary(n, ins, out, 'add')

    def op_Sub(self, n, a, ins, out):
        self.binary(n, ins, out, 'sub')

    def op_Mul(self, n, a, ins, out):
        self.binary(n, ins, out, 'mul')

    def op_Div(self, n, a, ins, out):
        self.binary(n, ins, out, 'div')

    def op_MatMul(self, n, a, ins, out):
        xs = self.shape(ins[0])
        b = self.const(ins[1])
        if len(xs) != 2 or b is None or b.ndim != 2:
            raise Untranslatable(f'MatMul {n.name}: only [M,K] x constant [K,N]')
        self.emit('matMul', out, input=self.value(ins[0]), b=self.add_weight(b, 'b'), activation='linear')

    def op_Gemm(self, n, a, ins, out):
        b = self.const(ins[1])
        if len(self.shape(ins[0])) != 2 or b is None or a.get('transA', 0):
            raise Untranslatable(f'Gemm {n.name}: only A [M,K] (not transposed) x constant B')
        b = b.T if a.get('transB', 0) else b
        b = b * a.get('alpha', 1.0)
        fields = dict(input=self.value(ins[0]), b=self.add_weight(b, 'b'), activation='linear')
        if len(ins) > 2 and ins[2]:
            c = self.const(ins[2])
            if c is None or c.size != b.shape[1]:
                raise Untranslatable(f'Gemm {n.name}: C must be a constant of N values')
            fields['bias'] = self.add_weight(c.reshape(-1) * a.get('beta', 1.0), 'bias')
        self.emit('matMul', out, **fields)

    def flatten_to(self, n, ins, out):
        xs, ys = self.shape(ins[0]), self.shape(out)
        if len(ys) == 4:
            raise Untranslatable(f'{n.op_type} {n.name}: a reshape to 4-D')
        x = self.value(ins[0])
        if len(xs) == 4 and xs[2] * xs[3] != 1:
            # NHWC holds the elements in another order than NCHW: put them back first.
            t = out + '__nchw'
            self.emit('transpose', t, input=x, perm=[0, 3, 1, 2])
            x = t
        self.emit('reshape', out, input=x, shape=ys)

    def op_Reshape(self, n, a, ins, out):
        if self.const(ins[1]) is None:
            raise Untranslatable(f'Reshape {n.name}: the shape must be a constant')
        self.flatten_to(n, ins, out)

    def op_Flatten(self, n, a, ins, out):
        self.flatten_to(n, ins, out)

    def op_Softmax(self, n, a, ins, out):
        xs = self.shape(ins[0])
        axis = a.get('axis', -1 if self.opset >= 13 else 1) % len(xs)
        if len(xs) == 4:
            # Softmax over C (opset 13), or over C*H*W flattened (older) with H = W = 1:
            # both are NHWC's last axis.
            if axis != 1 or (self.opset < 13 and xs[2] * xs[3] != 1):
                raise Untranslatable(f'Softmax {n.name}: axis {axis} of a 4-D tensor')
        elif axis != len(xs) - 1:
            raise Untranslatable(f'Softmax {n.name}: axis {axis} is not the last')
        self.emit('softmax', out, input=self.value(ins[0]))


def tf_spec(model, name):
    tr = Translator(model)
    ops = tr.translate()
    # Only the weights the final ops still name (fusion replaces a few).
    named = set()
    for op in ops:
        for key in ('filter', 'bias', 'b'):
            if key in op:
                named.add(op[key])
        for o in op.get('operands', []):
            if 'weight' in o:
                named.add(o['weight'])
    weights, blobs, offset = [], [], 0
    for wname, arr in tr.weights:
        if wname not in named:
            continue
        weights.append({'name': wname, 'shape': list(arr.shape), 'offset': offset, 'length': int(arr.size)})
        blobs.append(arr.astype('<f4').tobytes())
        offset += int(arr.size)
    g = tr.g
    inputs = [i for i in g.input if i.name not in tr.consts]
    if len(inputs) != 1 or len(g.output) != 1:
        raise Untranslatable(f'{name}: the harness feeds one input and reads one output')
    in_shape, out_shape = tr.shape(inputs[0].name), tr.shape(g.output[0].name)
    nhwc = lambda s: [s[0], s[2], s[3], s[1]] if len(s) == 4 else s
    spec = {
        'workload': name,
        'input': {'name': inputs[0].name, 'shape': in_shape, 'tfShape': nhwc(in_shape), 'nhwc': len(in_shape) == 4},
        'output': {'name': g.output[0].name, 'shape': out_shape, 'tfShape': nhwc(out_shape),
                   'tfValue': tr.tf_name[g.output[0].name], 'nhwc': len(out_shape) == 4},
        'weights': weights,
        'ops': ops,
    }
    return spec, b''.join(blobs)


ONNX_DTYPES = {TensorProto.FLOAT: 'float32', TensorProto.INT64: 'int64'}


def graph_io(model, name):
    """The graph's inputs (initializers aside) and outputs as
    [{name, shape, dtype}]: static shapes (FRAME_SHAPES fills free dims), float32 or int64 only."""
    inits = {t.name for t in model.graph.initializer}
    def spec(vi, kind):
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField('dim_value') else None for d in tt.shape.dim]
        fixed = FRAME_SHAPES.get(name, {}).get(vi.name)
        if fixed is not None and len(fixed) == len(shape) and all(d in (None, f) for d, f in zip(shape, fixed)):
            shape = list(fixed)
        if any(d is None for d in shape) or tt.elem_type not in ONNX_DTYPES:
            raise SystemExit(f'bench-models: {name}: {kind} {vi.name} is {TensorProto.DataType.Name(tt.elem_type)} '
                             f'{shape}; the harness feeds static float32 / int64 tensors')
        return {'name': vi.name, 'shape': shape, 'dtype': ONNX_DTYPES[tt.elem_type]}
    return ([spec(i, 'input') for i in model.graph.input if i.name not in inits],
            [spec(o, 'output') for o in model.graph.output])


# ----------------------------------------------------------------------------

def script_sha():
    return sha256_file(os.path.abspath(__file__))


def sources():
    return {os.path.relpath(p, REPO): sha256_file(p) for p in SOURCES}


def up_to_date(out_dir, manifest_path, generator_sha256, source_shas):
    """True when manifest.json was made by this script (generator_sha256) from
    these sources (source_shas) and every workload's files still match it."""
    try:
        with open(manifest_path) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return False
    if m.get('generator_sha256') != generator_sha256 or m.get('sources') != source_shas:
        return False
    have = {w['name']: w for w in m.get('workloads', [])}
    for name in WORKLOADS:
        w = have.get(name)
        if w is None:
            return False
        for fname, digest in w['files'].items():
            p = os.path.join(out_dir, fname)
            if not os.path.isfile(p) or sha256_file(p) != digest:
                return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(DATA, 'bench'))
    ap.add_argument('--force', action='store_true', help='make every workload again')
    args = ap.parse_args()
    out_dir = os.path.abspath(args.out)
    manifest_path = os.path.join(out_dir, 'manifest.json')
    for src in SOURCES:
        if not os.path.isfile(src):
            sys.exit(f'bench-models: {os.path.relpath(src, REPO)} is missing: run make models (tools/fetch-models.sh)')
    generator_sha256, source_shas = script_sha(), sources()
    if not args.force and up_to_date(out_dir, manifest_path, generator_sha256, source_shas):
        log(f'up to date ({os.path.relpath(manifest_path, REPO)})')
        return
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for name in WORKLOADS:
        t0 = time.time()
        model, feeds = MAKERS[name]()
        onnx.checker.check_model(model)
        inputs, outputs = graph_io(model, name)
        if not isinstance(feeds, dict):  # a one-input maker returns the array alone
            feeds = {inputs[0]['name']: feeds}
        if [i['name'] for i in inputs] != list(feeds):
            raise SystemExit(f'bench-models: {name}: inputs {list(feeds)} != model {[i["name"] for i in inputs]}')
        files = {f'{name}.onnx': model.SerializeToString()}
        for i in inputs:
            x = feeds[i['name']]
            if list(x.shape) != i['shape'] or x.dtype != np.dtype(i['dtype']):
                raise SystemExit(f'bench-models: {name}: input {i["name"]} is {x.dtype} {list(x.shape)}, '
                                 f'the model says {i["dtype"]} {i["shape"]}')
            i['file'] = f'{name}.input.bin' if len(inputs) == 1 else f'{name}.input.{i["name"]}.bin'
            files[i['file']] = x.astype(np.dtype(i['dtype']).newbyteorder('<')).tobytes()
        entry = {'name': name, 'description': DESCRIPTIONS[name], 'opset': None, 'onnxOps': None}
        if name in TF_SKIP:
            entry.update(tfOps=None, tfSkip=TF_SKIP[name])
            what = f'no TF.js port, {len(files[f"{name}.onnx"]) / 1e6:.1f} MB model'
        else:
            spec, blob = tf_spec(model, name)
            if inputs[0]['shape'] != spec['input']['shape']:
                raise SystemExit(f'bench-models: {name}: input shape {inputs[0]["shape"]} != {spec["input"]["shape"]}')
            inputs[0].update(tfShape=spec['input']['tfShape'], nhwc=spec['input']['nhwc'])
            outputs[0].update(tfShape=spec['output']['tfShape'], tfValue=spec['output']['tfValue'],
                              nhwc=spec['output']['nhwc'])
            files[f'{name}.tf.json'] = (json.dumps(spec, indent=1) + '\n').encode()
            files[f'{name}.tf.bin'] = blob
            entry['tfOps'] = sorted({op['op'] for op in spec['ops']})
            what = f'{len(spec["ops"])} TF.js ops, {len(blob) / 1e6:.1f} MB weights'
        digests = {}
        for fname, data in files.items():
            with open(os.path.join(out_dir, fname), 'wb') as f:
                f.write(data)
            digests[fname] = hashlib.sha256(data).hexdigest()
        entry['onnxOps'] = sorted({n.op_type for n in model.graph.node})
        entry['opset'] = next((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')), None)
        entry.update(inputs=inputs, outputs=outputs, files=digests)
        if name in CARRY:
            entry['carry'] = CARRY[name]
        entries.append(entry)
        log(f'{name}: {len(model.graph.node)} ONNX nodes, {len(inputs)} input(s), {len(outputs)} output(s) -> '
            f'{what} ({time.time() - t0:.1f} s)')
    manifest = {'generator': os.path.relpath(os.path.abspath(__file__), REPO), 'generator_sha256': generator_sha256,
                'sources': source_shas, 'workloads': entries}
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    log(f'wrote {len(entries)} workloads to {os.path.relpath(out_dir, REPO)}')


if __name__ == '__main__':
    try:
        main()
    except Untranslatable as e:
        sys.exit(f'bench-models: cannot translate to TF.js ops: {e}')
