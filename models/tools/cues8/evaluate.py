#!/usr/bin/env python3
"""Pre-registered test (session 10): do the *low spatial frequencies* of a face, its coarse pattern
of light and dark, pick the rock a person chose, alone or fused with conv128, under grouped CV?

Why: pareidolia works on blurred images (two dark blobs over one make a face), and the fine scale is
where stone texture and skin differ most. Edge maps (cues4) kept the fine scale and lost; this keeps
the coarse scale. Cue: each view blurred with a separable Gaussian (sigma 3 or 6 px in the 150-px
view, reflected borders, each channel), then the product's conv128 features (2,048), L2 per view,
mean over views. Human views: the baseline's 4 (aligned 4-point chip, mirror, grey, grey matched to
the rocks' histogram), each blurred; LFW reference (the same 500 people as ../cues): the same; rock
views: the 9 views of pairs_reference.rock_views, each blurred. Humans centred on the LFW mean, rocks
on the gallery mean, cosine (../cues centred_cos). Candidates (6):
  rocks3         rocks blurred at sigma 3, humans as in the baseline (only the stone's texture goes)
  blur3, blur6   both sides blurred at sigma 3 / 6
  and each of the three fused with conv128 (z-scored rows, equal weight): <name>+conv128
Grouping, splits (5 folds x 5 repeats, seed 1), in-CV pick, bootstrap and paired tests are
../cues/evaluate.py's, unchanged. Decision rule, fixed before the run: adopt only if the CV pick's
median <= 308, R@10 >= 2.94 % and the group sign-flip test p < 0.05 with a gain; if it passes, the
spread over the 600 unseen LFW people (lfw_odd) must also hold (max share <= 0.02) before adoption.
P=models/.work/venv/bin/python; run from this folder: $P evaluate.py > log_eval.txt
(features cached in models/.work/cues8/blur.npz)
"""
import glob, os, sys, time
import numpy as np
from PIL import Image

H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, "..", "cues")); sys.path.insert(0, os.path.join(H, ".."))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, NG, zrow, baseline, centred_cos
import pairs_reference as P

E = os.path.normpath(os.path.join(H, "..", "..", ".work", "cues8")); os.makedirs(E, exist_ok=True)
SIGMAS = (3, 6)

def kernel(sigma):
    r = int(np.ceil(3 * sigma)); x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-x * x / (2 * sigma * sigma)); return (k / k.sum()).astype(np.float32), r

def blur(view, sigma):
    k, r = kernel(sigma)
    p = np.pad(view.astype(np.float32), ((r, r), (r, r), (0, 0)), mode="reflect")
    h, w = view.shape[:2]
    rows = sum(k[i] * p[i:i + h, :, :] for i in range(2 * r + 1))          # vertical pass
    return sum(k[i] * rows[:, i:i + w, :] for i in range(2 * r + 1)).astype(np.float32)

def features(views):
    return {s: P.mean_norm(P.embed([blur(v, s) for v in views])[1]) for s in SIGMAS}

def human(path, cdf, central=False):
    img = Image.open(path).convert("RGB"); dets = P.detect(img)
    d = P.central_face(img, dets) if central else max(dets, key=lambda t: t[0])
    chip = P.align(img, d[2][:4])
    return features([chip, chip[:, ::-1], P.grey(chip), P.hist_match(chip, cdf)])

def stack(recs): return {s: np.stack([r[s] for r in recs]) for s in SIGMAS}

cache = f"{E}/blur.npz"
if not os.path.exists(cache):
    t0 = time.time(); cdf = EV.R["cdf"]
    hs = stack([human(f"{P.D}/pairs/human_{p}.jpg", cdf) for p in EV.R["pairs"][EV.H["ok"]]])
    ls = stack([human(sorted(glob.glob(f"{P.D}/lfw/{p}/*.jpg"))[0], cdf, central=True) for p in EV.L["names"]])
    rs = stack([features(P.rock_views(Image.open(f).convert("RGB"))) for f in EV.R["files"]])
    np.savez(cache, **{f"{side}{s}": d[s] for side, d in (("humans", hs), ("lfw", ls), ("rocks", rs)) for s in SIGMAS})
    print(f"features in {time.time() - t0:.0f} s", file=sys.stderr)
F = np.load(cache)

base = baseline(); zb = zrow(base)
cands = {
    "rocks3": centred_cos(EV.hget("app"), EV.L["app"], F["rocks3"]),
    "blur3": centred_cos(F["humans3"], F["lfw3"], F["rocks3"]),
    "blur6": centred_cos(F["humans6"], F["lfw6"], F["rocks6"]),
}
for k in list(cands): cands[f"{k}+conv128"] = zb + zrow(cands[k])

print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
EV.preregistered_report(base, cands)
