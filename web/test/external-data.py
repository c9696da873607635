"""Writes MODEL with every initializer in one external data file, as
onnx.save_model(..., save_as_external_data=True) does: OUT_DIR/model.onnx and
OUT_DIR/model.onnx_data. For the external data tests (node.test.mjs,
browser.test.mjs); Debian's python3-onnx (make deps installs it).

    /usr/bin/python3 web/test/external-data.py MODEL OUT_DIR
"""
import sys

import onnx
from onnx import numpy_helper

model = onnx.load(sys.argv[1])
for i, t in enumerate(model.graph.initializer):
    # Only raw_data tensors are moved out; MNIST's are in float_data.
    model.graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
onnx.save_model(model, sys.argv[2] + "/model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="model.onnx_data", size_threshold=0)
