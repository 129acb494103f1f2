"""A synthetic ``inswapper_128.onnx`` with the real I/O contract AND a real-shaped compute load.

The test doubles in ``kit.synthetic_swap`` cost nothing to run, so a benchmark on
them would only time our pre/post-processing. This one keeps the real contract (``target``
[1,3,128,128], ``source`` [1,512], ``output`` [1,3,128,128], ``emap`` the last initializer) and
puts the real file's kind of work in between: a strided conv encoder down to a 32x32 grid, then
``blocks`` residual-free style blocks (3x3 conv + a per-channel bias computed from the source
latent by a Gemm), nearest upsampling and a 3x3 conv back to RGB.

What it stands for: the real file holds 138.5 M float32 weights (554 MB), almost all of them in
twelve 3x3 1024->1024 convolutions (9.4 M weights each) with Gemm-computed styles, which cost
~29 GMAC per face if they run on a 16x16 grid (~116 GMAC on 32x32). Building that here would
need 0.5 GB of disk and RAM per copy and minutes per benchmark run on 2 cores, so the default
keeps the layer structure at ``width`` 128 (~2.1 GMAC per face). The harness reports the MACs
and the measured GMAC/s, so the per-face time of the real file can be projected from them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from kit.synthetic_swap import inswapper_model, save_model

SIZE = 128
LATENT = 512
GRID = 32  # the style blocks' grid (128 / 4)
REAL_PARAMS = 138_563_420  # 554,253,681 bytes / 4, rounded: the real inswapper_128.onnx
REAL_GMAC_LOW = 29.0  # twelve 3x3 1024->1024 convs on a 16x16 grid (our estimate, see docstring)


def sized_macs(width: int, blocks: int) -> int:
    """Multiply-accumulates per face of :func:`build_sized_inswapper`'s graph."""
    enc = 3 * width * 9 * 64 * 64 + width * width * 9 * GRID * GRID
    style = blocks * (width * width * 9 * GRID * GRID + LATENT * width)
    dec = width * 3 * 9 * SIZE * SIZE
    return enc + style + dec


def _conv(name: str, x: str, out: str, w: np.ndarray, stride: int, inits: list) -> onnx.NodeProto:
    inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}_w"))
    inits.append(numpy_helper.from_array(np.zeros(w.shape[0], np.float32), f"{name}_b"))
    return helper.make_node(
        "Conv", [x, f"{name}_w", f"{name}_b"], [out], name=name,
        kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride, stride],
    )


def build_sized_inswapper(path: str | Path, width: int = 128, blocks: int = 12, seed: int = 0) -> Path:
    """Write the sized double to ``path`` (static batch 1, like the real file) and return the path."""
    rng = np.random.default_rng(seed)

    def he(cout: int, cin: int) -> np.ndarray:
        return rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(1.0 / (cin * 9))

    inits: list[onnx.TensorProto] = [
        numpy_helper.from_array(np.array([-1, width, 1, 1], np.int64), "style_shape"),
        numpy_helper.from_array(np.array([1.0, 1.0, 4.0, 4.0], np.float32), "up_scales"),
    ]
    nodes = [
        _conv("enc1", "target", "e1", he(width, 3), 2, inits),
        helper.make_node("Relu", ["e1"], ["e1r"], name="Relu_e1"),
        _conv("enc2", "e1r", "e2", he(width, width), 2, inits),
        helper.make_node("Relu", ["e2"], ["x0"], name="Relu_e2"),
    ]
    x = "x0"
    for k in range(blocks):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal((LATENT, width)) * 0.05).astype(np.float32), f"style{k}_w"))
        inits.append(numpy_helper.from_array(np.zeros(width, np.float32), f"style{k}_b"))
        nodes += [
            helper.make_node("Gemm", ["source", f"style{k}_w", f"style{k}_b"], [f"s{k}"], name=f"Gemm_{k}"),
            helper.make_node("Reshape", [f"s{k}", "style_shape"], [f"s{k}r"], name=f"Reshape_{k}"),
            _conv(f"block{k}", x, f"c{k}", he(width, width), 1, inits),
            helper.make_node("Add", [f"c{k}", f"s{k}r"], [f"a{k}"], name=f"Add_{k}"),
            helper.make_node("Relu", [f"a{k}"], [f"x{k + 1}"], name=f"Relu_{k}"),
        ]
        x = f"x{k + 1}"
    nodes += [
        helper.make_node("Resize", [x, "", "up_scales"], ["up"], name="Resize_up", mode="nearest"),
        _conv("dec", "up", "d", he(3, width), 1, inits),
        helper.make_node("Sigmoid", ["d"], ["output"], name="Sigmoid_out"),
    ]
    model = inswapper_model(nodes, inits, f"inswapper_128_sized_w{width}_b{blocks}", rng)
    return save_model(model, path)
