#!/usr/bin/env python3
"""Compare the ONNX backbone (onnxruntime, 1 thread) with the original tfjs graph model (node, pure-JS CPU backend)
on one real image (a rock face crop resized to 256). Prints max abs diff per stage. Also times onnxruntime."""
import os, subprocess, sys, time
import numpy as np, onnxruntime as ort
from PIL import Image
H = os.path.dirname(os.path.abspath(__file__)); E = os.path.join(H, "..", "..", ".work", "cues2")
D = os.path.join(H, "..", "..", "..", "..", "shared", "data")
f = sorted(os.listdir(f"{D}/rocks/faces"))[0]
x = np.asarray(Image.open(f"{D}/rocks/faces/{f}").convert("RGB").resize((256, 256), Image.BILINEAR), np.float32)[None]
x.tofile(f"{E}/check_in.f32")
env = dict(os.environ, NODE_PATH=f"{E}/node/node_modules")
r = subprocess.run(["node", f"{H}/check_tfjs.js", f"{E}/package", f"{E}/check_in.f32", "256", f"{E}/check_out"],
                   env=env, capture_output=True, text=True); print(r.stdout.strip(), r.stderr.strip()[-500:])
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
S = ort.InferenceSession(f"{E}/centernet_backbone.onnx", so)
o = dict(zip([q.name for q in S.get_outputs()], S.run(None, {"images": x})))
print("image", f)
for k in ("s8", "s16", "s32"):
    a = o[k][0].transpose(1, 2, 0); b = np.fromfile(f"{E}/check_out_{k}.f32", np.float32).reshape(a.shape)
    print(f"{k}: shape {a.shape} max|onnx-tfjs| {np.abs(a-b).max():.3g}  max|tfjs| {np.abs(b).max():.3g}  "
          f"rel {np.abs(a-b).max()/np.abs(b).max():.2g}  cos(full map) {np.dot(a.ravel(), b.ravel())/np.linalg.norm(a)/np.linalg.norm(b):.7f}")
# input-convention sanity check: the full detector at its native 512 px on a pair's human photo (0..255 RGB)
y = np.asarray(Image.open(f"{D}/pairs/human_001.jpg").convert("RGB").resize((512, 512), Image.BILINEAR), np.float32)[None]
y.tofile(f"{E}/check_in512.f32")
r = subprocess.run(["node", f"{H}/check_tfjs.js", f"{E}/package", f"{E}/check_in512.f32", "512", f"{E}/check_out512"],
                   env=env, capture_output=True, text=True); print("human_001 @512:", r.stdout.strip().splitlines()[-1])
S.run(None, {"images": x}); t = time.perf_counter(); N = 20
for _ in range(N): S.run(None, {"images": x})
print(f"onnxruntime 1 thread: {1000*(time.perf_counter()-t)/N:.1f} ms per 256-px image (batch 1, mean of {N})")
