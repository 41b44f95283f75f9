#!/usr/bin/env python3
"""Pre-registered test (session 7): does the *structure* of a face, its edges, pick the rock a
person chose, alone or fused with conv128, under grouped CV?

Why: people see faces in stone by shading and outline, not by skin or rock texture. Feeding the
embedder edge maps of both domains removes most of the texture and colour that separate them.
Cue: each view made grey (ITU-R 601), Sobel gradient magnitude, scaled so its 99th percentile is
255 (clipped), as three equal channels; conv128 features (2,048, the product's appearance
output) of these edge views, L2 per view, mean over views. Human views: the 4-point aligned
chip and its mirror; LFW reference (the same 500 people as ../cues): the same; rock views: the
9 views of pairs_reference.rock_views. Humans centred on the LFW mean, rocks on the gallery mean,
cosine (../cues centred_cos). Candidates (2): edges, edges+conv128 (z-scored rows, equal weight).
Grouping, splits (5 folds x 5 repeats, seed 1), in-CV pick, bootstrap and paired tests are
../cues/evaluate.py's, unchanged. Decision rule, fixed before the run: adopt only if the CV
pick's median <= 308, R@10 >= 2.94 % and the group sign-flip test p < 0.05 with a gain.
P=models/.work/venv/bin/python; run from this folder: $P evaluate.py > log_eval.txt
(features cached in models/.work/cues4/edges.npz)
"""
import os, sys, time
import numpy as np
from PIL import Image

H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, "..", "cues")); sys.path.insert(0, os.path.join(H, ".."))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, NG, zrow, baseline, centred_cos
import pairs_reference as P

E = os.path.normpath(os.path.join(H, "..", "..", ".work", "cues4")); os.makedirs(E, exist_ok=True)

def edges(view):
    g = P.grey(view)[..., 0].astype(np.float32)
    p = np.pad(g, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    m = np.sqrt(gx * gx + gy * gy)
    m = np.clip(m * 255 / max(float(np.percentile(m, 99)), 1e-6), 0, 255)
    return np.repeat(m[..., None], 3, -1).astype(np.float32)

def feature(views):
    _, a = P.embed([edges(v) for v in views])
    return P.mean_norm(a)

def human(path, central=False):
    img = Image.open(path).convert("RGB"); dets = P.detect(img)
    d = P.central_face(img, dets) if central else max(dets, key=lambda t: t[0])
    chip = P.align(img, d[2][:4])
    return feature([chip, chip[:, ::-1]])

cache = f"{E}/edges.npz"
if not os.path.exists(cache):
    t0 = time.time()
    hs = np.stack([human(f"{P.D}/pairs/human_{p}.jpg") for p in EV.R["pairs"][EV.H["ok"]]])
    import glob
    ls = np.stack([human(sorted(glob.glob(f"{P.D}/lfw/{p}/*.jpg"))[0], central=True) for p in EV.L["names"]])
    rs = np.stack([feature(P.rock_views(Image.open(f).convert("RGB"))) for f in EV.R["files"]])
    np.savez(cache, humans=hs, lfw=ls, rocks=rs)
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)
F = np.load(cache)

base = baseline(); zb = zrow(base)
cands = {"edges": centred_cos(F["humans"], F["lfw"], F["rocks"])}
cands["edges+conv128"] = zb + zrow(cands["edges"])

print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
EV.preregistered_report(base, cands)
