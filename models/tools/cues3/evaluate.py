#!/usr/bin/env python3
"""Pre-registered test (session 6): does colour and lightness (which a person sees at once)
pick the rock a person chose, alone or fused with conv128, under grouped CV?

Cue: mean CIELAB (L*, a*, b*) of the central 60 % square of the human photo and of the rock's
face crop; each domain z-scored on its own images (no pair labels), similarity = minus the
Euclidean distance. "light" uses L* alone. Candidates (4): colour, light, and each fused with
conv128 (z-scored rows, equal weight). Grouping, splits (5 folds x 5 repeats, seed 1), in-CV
pick, bootstrap and paired tests are ../cues/evaluate.py's, unchanged. Decision rule, fixed
before the run: adopt only if the CV pick's median <= 308, R@10 >= 2.94 % and the group
sign-flip test p < 0.05 with a gain.
P=models/.work/venv/bin/python; run from this folder: $P evaluate.py > log_eval.txt
"""
import os, sys
import numpy as np
from PIL import Image, ImageCms

H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, "..", "cues"))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, NG, zrow, baseline

PAIRS = os.path.normpath(os.path.join(H, "..", "..", "..", "..", "shared", "data", "pairs"))
SRGB = ImageCms.createProfile("sRGB"); LAB = ImageCms.createProfile("LAB")
TO_LAB = ImageCms.buildTransformFromOpenProfiles(SRGB, LAB, "RGB", "LAB")

def lab_mean(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size; s = 0.6 * min(w, h)
    img = img.crop((int((w - s) / 2), int((h - s) / 2), int((w + s) / 2), int((h + s) / 2)))
    lab = np.asarray(ImageCms.applyTransform(img, TO_LAB))
    # PIL's 8-bit Lab: L* scaled to 0-255, a* and b* as signed bytes (two's complement).
    L = lab[..., 0].astype(np.float32) * 100 / 255
    a = lab[..., 1].view(np.int8).astype(np.float32); b = lab[..., 2].view(np.int8).astype(np.float32)
    return np.array([L.mean(), a.mean(), b.mean()], np.float32)

ok = EV.H["ok"]
humans = np.stack([lab_mean(os.path.join(PAIRS, f"human_{p}.jpg")) for p in EV.R["pairs"][ok]])
rocks = np.stack([lab_mean(os.path.normpath(f)) for f in EV.R["files"]])
def z(x): return (x - x.mean(0)) / (x.std(0) + 1e-6)
hz, rz = z(humans), z(rocks)
def neg_dist(a, b): return -np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

base = baseline(); zb = zrow(base)
cands = {"colour": neg_dist(hz, rz), "light": neg_dist(hz[:, :1], rz[:, :1])}
for k in ("colour", "light"): cands[f"{k}+conv128"] = zb + zrow(cands[k])

print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
print(f"human Lab mean {np.round(humans.mean(0), 1)} sd {np.round(humans.std(0), 1)}; rock Lab mean {np.round(rocks.mean(0), 1)} sd {np.round(rocks.std(0), 1)}")
EV.preregistered_report(base, cands)
