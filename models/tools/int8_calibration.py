#!/usr/bin/env python3
"""Which int8 calibration reproduces the float32 embedder best on aligned faces?

Candidates: calibration images {LFW centre crops (convert.py's current recipe) | the pairing
human photos of ../shared/data/pairs aligned as the product's fast setting aligns them
(BlazeFace keypoints -> TEMPLATE_4_LEARNED), each with its mirror} x activation ranges
{MinMax, Percentile 99.999, Entropy}. Score: cosine between the flip-averaged int8 and float32
embeddings of 256 LFW faces aligned the same way (no identity labels are used, so the pick does
not look at the verification result). Run with the converter's venv:
    models/.work/venv/bin/python models/tools/int8_calibration.py
"""
import os
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import convert as C  # noqa: E402

def unit(e):
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def flip_embedding(sess, chips):
    a = sess.run(["embedding"], {"input": chips})[0]
    b = sess.run(["embedding"], {"input": chips[:, :, ::-1].copy()})[0]
    return unit(unit(a) + unit(b))


def main():
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.shape_inference import quant_pre_process

    lfw = os.path.join(C.SHARED_DATA, "lfw")
    images, pairs = C.lfw_pair_images(), C.pairing_photos()
    if images is None or not pairs:
        print("skip: ../shared/data/pairs or ../shared/data/lfw is absent")
        return 0
    start = C.INT8_HELD_OUT_FROM
    held = C.aligned_chips([os.path.join(lfw, r) for r in images[start:start + C.INT8_HELD_OUT]])
    pair_chips = C.aligned_chips(pairs)
    sets = {
        "lfw-centre-crops": C.lfw_face_chips(images[:start]),
        "pairs-aligned+mirror": np.concatenate([pair_chips, pair_chips[:, :, ::-1]]),
    }
    work = tempfile.mkdtemp()
    float32 = os.path.join(C.WORK, "face_recognition.float32.onnx")
    folded = os.path.join(work, "folded.onnx")
    onnx.save(C.fold_input_normalisation(onnx.load(float32)), folded)
    pre = os.path.join(work, "pre.onnx")
    quant_pre_process(folded, pre, skip_symbolic_shape=True)
    ref = flip_embedding(C.session(float32), held)
    print(f"held-out: {len(held)} LFW faces aligned (fast setting); calibration sets: "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    results = []
    for set_name, chips in sets.items():
        for method, extra in ((CalibrationMethod.MinMax, {}),
                              (CalibrationMethod.Percentile, {"CalibPercentile": C.INT8_PERCENTILE}),
                              (CalibrationMethod.Entropy, {})):
            out = os.path.join(work, f"{set_name}-{method.name}.onnx")
            C.quantise_int8(pre, out, chips, method, extra)
            cos = (flip_embedding(C.session(out), held) * ref).sum(1)
            results.append((float(cos.mean()), float(cos.min()), set_name, method.name))
            print(f"{set_name:22s} {method.name:10s} cosine to float32: mean {cos.mean():.6f} min {cos.min():.6f}",
                  flush=True)
    best = max(results)
    print(f"pick: {best[2]} {best[3]} (mean cosine {best[0]:.6f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
