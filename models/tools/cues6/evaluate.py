#!/usr/bin/env python3
"""Pre-registered test (session 9): do people pick rocks that read strongly as faces? Does a
per-rock prior of face-likeness, added to conv128 likeness, pick the rock a person chose better
than likeness alone, under grouped CV?

Why: the matcher ranks rocks only by how alike they are to a face. A person choosing a rock
among a thousand may also favour rocks in which a face is easy to see (pareidolia strength).
The product's anti-hub correction (CSLS) pushes the other way, against rocks close to many
faces. A prior is a property of the rock alone, so it is computed without any pairing.
Priors (one value per rock, z-scored over the 1,025-rock gallery):
  det   BlazeFace front-128 (the product's detector): the highest raw face logit over all
        anchors, on the rock face crop padded to a square as pairs_reference.detect does;
  typ   lean towards human faces in the embedder's appearance space: cosine between the rock's
        conv128 feature centred on the gallery mean and (LFW reference mean - gallery mean);
  ide   lean towards human faces in identity space: cosine between the rock's 128-D identity
        embedding (mean of the 9 baseline views' L2 embeddings) and the mean of the 500 LFW
        reference people's identity embeddings.
Candidates (9), picked inside the CV on the training groups: zrow(conv128 baseline) + w * prior
for each prior and w in {0.25, 0.5, 1} (the direction is the hypothesis: face-like rocks up).
Grouping, splits (5 folds x 5 repeats, seed 1), in-CV pick, bootstrap and paired tests are
../cues/evaluate.py's, unchanged. Decision rule, fixed before the run: adopt only if the CV
pick's median <= 308, R@10 >= 2.94 % and the group sign-flip test p < 0.05 with a gain, AND the
spread holds: the candidate picked most often, given the 600 odd-position LFW people never used
as references (feat_lfw_odd), gives no rock to more than 2 % of them (max_share <= 0.02).
P=models/.work/venv/bin/python3; run from this folder: $P evaluate.py > log_eval.txt
(priors cached in models/.work/cues6/priors.npz)
"""
import os, sys, time
from collections import Counter
import numpy as np
from PIL import Image

H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, "..", "cues")); sys.path.insert(0, os.path.join(H, ".."))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, NG, zrow, baseline, centred_cos, l2
import pairs_reference as P

E = os.path.normpath(os.path.join(H, "..", "..", ".work", "cues6")); os.makedirs(E, exist_ok=True)

def max_logit(img):
    w, h = img.size; side = max(w, h)
    pad = Image.new("RGB", (side, side)); pad.paste(img, (0, 0))
    x = np.asarray(pad.resize((128, 128), Image.BILINEAR), np.float32) / 127.5 - 1
    o = dict(zip([t.name for t in P.DET.get_outputs()], P.DET.run(None, {"input:0": x[None]})))
    return float(max(o["Identity:0"][0, :, 0].max(), o["Identity_1:0"][0, :, 0].max()))

cache = f"{E}/priors.npz"
if not os.path.exists(cache):
    t0 = time.time(); det, ide = [], []
    for f in EV.R["files"]:
        img = Image.open(f).convert("RGB")
        det.append(max_logit(img))
        e, _ = P.embed(P.rock_views(img)); ide.append(P.mean_norm(e))
    np.savez(cache, det=np.array(det), ide=np.stack(ide))
    print(f"priors in {time.time() - t0:.0f} s", file=sys.stderr)
C = np.load(cache)

def z(v): return (v - v.mean()) / v.std()
ra, la = EV.R["app"], EV.L["app"]
priors = {
    "det": z(C["det"]),
    "typ": z(l2(ra - ra.mean(0)) @ l2(la.mean(0) - ra.mean(0))),
    "ide": z(l2(C["ide"]) @ l2(l2(EV.L["ide"]).mean(0))),
}
print("prior correlations over rocks: " + ", ".join(
    f"{a}~{b} {np.corrcoef(priors[a], priors[b])[0, 1]:+.2f}" for a, b in (("det", "typ"), ("det", "ide"), ("typ", "ide"))))

base = baseline(); zb = zrow(base)
cands = {f"{k}|w{w}": zb + w * p[None, :] for k, p in priors.items() for w in (0.25, 0.5, 1.0)}

print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
EV.preregistered_report(base, cands)

# The spread condition, on people never used as references.
_, picks = EV.cv(cands); top = Counter(picks).most_common(1)[0][0]
k, w = top.split("|w"); O = np.load(os.path.join(os.path.dirname(EV.E), "cues", "feat_lfw_odd.npz"))
S = zrow(centred_cos(O["app"], la, ra)) + float(w) * priors[k][None, :]
best = S.argmax(1); share = np.bincount(best, minlength=len(ra)).max() / len(best)
Sb = zrow(centred_cos(O["app"], la, ra)); sb = np.bincount(Sb.argmax(1), minlength=len(ra)).max() / len(best)
print(f"\nspread over {len(best)} unseen LFW people: {top} max_share {share:.4f} ({len(set(best))} rocks) "
      f"[{'pass' if share <= 0.02 else 'fail'}]; conv128 alone {sb:.4f} ({len(set(Sb.argmax(1)))} rocks)")
