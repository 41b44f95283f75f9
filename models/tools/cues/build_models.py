#!/usr/bin/env python3
"""Build ONNX models with backbone outputs exposed (written into models/.work/cues, git-ignored).
lm_feat.onnx  : face_landmark_68.onnx + outputs dense2 (N,128,14,14), dense3 (N,256,7,7)
expr_feat.onnx: face-api face_expression_model (same FaceFeatureExtractor + fc 256->7), same extra outputs
"""
import os, sys, onnx
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.abspath(os.path.join(HERE, "..", ".."))
OUTDIR = os.path.join(MODELS, ".work", "cues")
os.makedirs(OUTDIR, exist_ok=True)
from onnx import helper, TensorProto
sys.path.insert(0, MODELS)
import convert

PKG = os.path.join(MODELS, ".work", "pkg", "vladmandic-face-api-1.7.15", "package", "model")

def expose(m, out_path):
    names = {}
    for n in m.graph.node:
        o = n.output[0]
        if n.op_type == "Relu" and o.startswith("dense2.out_"): names["dense2"] = o
        if n.op_type == "Relu" and o.startswith("dense3.out_"): names["dense3"] = o
    for k in ("dense2", "dense3"):
        idn = helper.make_node("Identity", [names[k]], [k], name=k + "_Identity")
        m.graph.node.append(idn)
        m.graph.output.append(helper.make_tensor_value_info(k, TensorProto.FLOAT, None))
    onnx.save(m, out_path)
    print(out_path, names)

if __name__ == "__main__":
    expose(onnx.load(os.path.join(MODELS, "face_landmark_68.onnx")), os.path.join(OUTDIR, "lm_feat.onnx"))
    w, _ = convert.load_tfjs_weights(PKG, "face_expression_model-weights_manifest.json")
    orig = convert.helper.make_tensor_value_info
    convert.helper.make_tensor_value_info = lambda n, t, shp: orig(n, t, ["N", 7] if shp == ["N", 136] else shp)
    m = convert.build_landmarks(w, False)   # same graph; final output (named 'landmarks') = 7 expression logits
    convert.helper.make_tensor_value_info = orig
    expose(m, os.path.join(OUTDIR, "expr_feat.onnx"))
