#!/usr/bin/env python3
"""Where BlazeFace-128's keypoints (eyes, nose tip, mouth centre) fall in dlib's 150-px chip.

Each human photo of ../shared/data/pairs (not LFW, which measures the result) is aligned to
dlib's 33-point chip template with two passes of face_landmark_68.onnx (as the product's
default); its BlazeFace keypoints are mapped through the same similarity into the chip and
averaged. The product uses the average made left-right symmetric about dlib's centre line
(x 74.0127), so a mirrored face aligns as the mirror image (src/face/align.rs,
TEMPLATE_4_LEARNED). Run with the converter's venv:
    models/.work/venv/bin/python models/tools/keypoint_template.py
"""
import glob
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lfw_alignment_eval as E  # noqa: E402  (detector, landmarks, Umeyama)

PAIRS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "pairs"))
CENTRE_X = 74.0127


def main():
    photos = sorted(glob.glob(os.path.join(PAIRS, "human_*.jpg")))
    if not photos:
        print(f"skip: no human_*.jpg in {PAIRS}")
        return 0
    man = json.load(open(os.path.join(E.MODELS, "manifest.json")))
    tpl = next(e for e in man["files"] if e["name"] == "face_landmark_68.onnx")["alignment_for_face_recognition"]
    idx = [t[0] for t in tpl["template_index_x_y"]]
    t68 = np.array([t[1:] for t in tpl["template_index_x_y"]])
    bf, lm = E.sess("blazeface_front_128.onnx"), E.sess("face_landmark_68.onnx")
    mapped = []
    for path in photos:
        img = np.asarray(Image.open(path).convert("RGB"))
        found = E.detect(bf, img)
        if found is None:
            continue
        box, kps, _ = found
        pts = E.landmarks(lm, img, box[0], box[1], max(box[2], box[3]) * 1.4)
        lo, hi = pts.min(0), pts.max(0)
        pts = E.landmarks(lm, img, (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, max(hi - lo) * 1.2)
        m = E.umeyama(pts[idx], t68)
        mapped.append(kps[:4] @ m[:, :2].T + m[:, 2])
    mean = np.mean(mapped, axis=0)
    half = (mean[1, 0] - mean[0, 0]) / 2
    eye_y = (mean[0, 1] + mean[1, 1]) / 2
    symmetric = np.array([[CENTRE_X - half, eye_y], [CENTRE_X + half, eye_y],
                          [CENTRE_X, mean[2, 1]], [CENTRE_X, mean[3, 1]]])
    print(f"{len(mapped)} photos; mean keypoints in the chip:\n{np.round(mean, 3)}")
    print(f"symmetric template (src/face/align.rs TEMPLATE_4_LEARNED):\n{np.round(symmetric, 3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
