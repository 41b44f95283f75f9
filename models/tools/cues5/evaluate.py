#!/usr/bin/env python3
"""Pre-registered test (session 8): does aligning each rock face the way a human face is aligned
(its own eyes, nose and mouth on the same template) pick the rock a person chose better than
conv128 of the unaligned crop, under grouped CV?

Why: the human chip puts the eyes, nose tip and mouth centre on dlib's 4-point template, so each
cell of the 4x4-pooled conv128 grid covers the same part of every face. Rock crops are only
resized (plus zooms and crops averaged), so a rock's "eyes" fall in different cells from rock to
rock. If people judge likeness by the layout of eyes and mouth, comparing like cells should help.
Cue: the 68-point landmark net (the product's, face-api) run on each rock face crop in the
product's two passes (pass 1 on the edge-padded square crop, pass 2 on a square 1.3x the landmark
extent); eye centres = mean of points 36-41 and 42-47, nose tip = point 30, mouth centre = mean of
points 48-67; the crop warped onto pairs_reference.TEMPLATE with the same similarity fit and
sampler as the human chip; 4 views (chip, mirror, grey, grey mirror); conv128 features, L2 per
view, mean over views. Human and LFW features are the baseline's, unchanged; each domain centred
as before (../cues centred_cos). Candidates (3), picked inside the CV on the training groups:
  aligned            the 4 aligned views alone;
  aligned+views      the 4 aligned views added to the 9 baseline views (13 views, one mean);
  aligned+conv128    z-scored score rows of `aligned` plus the baseline's, equal weight.
Grouping, splits (5 folds x 5 repeats, seed 1), in-CV pick, bootstrap and paired tests are
../cues/evaluate.py's, unchanged. Decision rule, fixed before the run: adopt only if the CV
pick's median <= 308, R@10 >= 2.94 % and the group sign-flip test p < 0.05 with a gain.
Sanity check that uses no pairing: on the 183 human photos, chips aligned by the landmark route
against chips aligned by BlazeFace's keypoints (mean keypoint distance in chip pixels).
P=models/.work/venv/bin/python; run from this folder: $P evaluate.py > log_eval.txt
(features cached in models/.work/cues5/aligned.npz)
"""
import os, sys, time
import numpy as np
from PIL import Image

H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, "..", "cues")); sys.path.insert(0, os.path.join(H, ".."))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, NG, zrow, baseline, centred_cos, l2
import pairs_reference as P
import extract as X     # the landmark net session and face-api's 112-px sampler

E = os.path.normpath(os.path.join(H, "..", "..", ".work", "cues5")); os.makedirs(E, exist_ok=True)

def landmarks(arr, x0, y0, side):
    c = X.crop112(arr, x0, y0, side, "edge")
    out = X.LM.run(["landmarks"], {"input": c[None]})[0][0]
    return X.lm_points(out, x0, y0, side)

def keypoints4(arr, box=None):
    """Two landmark passes; box = (x0, y0, side) of pass 1, default the padded square crop."""
    h, w = arr.shape[:2]; L = max(w, h)
    pts = landmarks(arr, *(box or ((w - L) / 2, (h - L) / 2, L)))
    lo, hi = pts.min(0), pts.max(0); (cx, cy), side = (lo + hi) / 2, 1.3 * max(hi - lo)
    pts = landmarks(arr, cx - side / 2, cy - side / 2, side)
    return np.stack([pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48:68].mean(0)])

def aligned_views(img):
    arr = np.asarray(img, np.float32)
    chip = P.align(img, keypoints4(arr))
    return [chip, chip[:, ::-1], P.grey(chip), P.grey(chip)[:, ::-1]]

cache = f"{E}/aligned.npz"
if not os.path.exists(cache):
    t0 = time.time(); al, both = [], []
    for f in EV.R["files"]:
        img = Image.open(f).convert("RGB")
        _, a = P.embed(aligned_views(img) + P.rock_views(img))
        al.append(P.mean_norm(a[:4])); both.append(P.mean_norm(a))
    np.savez(cache, aligned=np.stack(al), both=np.stack(both))
    print(f"rock features in {time.time() - t0:.0f} s", file=sys.stderr)
F = np.load(cache)

# sanity check (no pairing used): the landmark route on human photos against BlazeFace keypoints
d = []
for p in EV.R["pairs"][EV.H["ok"]]:
    img = Image.open(f"{P.D}/pairs/human_{p}.jpg").convert("RGB"); arr = np.asarray(img, np.float32)
    det = max(P.detect(img), key=lambda t: t[0]); bb = det[1]
    s = 1.4 * max(bb[2] - bb[0], bb[3] - bb[1]); cx, cy = (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2
    k68 = keypoints4(arr, (cx - s / 2, cy - s / 2, s)) - 0.5; kbf = det[2][:4].astype(np.float64) - 0.5
    R_, t_ = P.umeyama(kbf, P.TEMPLATE)   # both in the BlazeFace chip's frame
    d.append(np.linalg.norm((k68 @ R_.T + t_) - P.TEMPLATE, axis=1).mean())
print(f"sanity: landmark-route keypoints in the BlazeFace chip, mean distance from the template "
      f"{np.mean(d):.1f} px (median {np.median(d):.1f}, 150-px chip)")

base = baseline(); hs, ls = EV.hget("app"), EV.L["app"]
cands = {"aligned": centred_cos(hs, ls, F["aligned"]), "aligned+views": centred_cos(hs, ls, F["both"])}
cands["aligned+conv128"] = zrow(base) + zrow(cands["aligned"])

print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
EV.preregistered_report(base, cands)
