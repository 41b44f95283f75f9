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
from collections import Counter
import numpy as np
from PIL import Image, ImageCms

H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, "..", "cues"))
import evaluate as EV   # loads ../cues caches, builds GRP / SPLITS
from evaluate import n, GRP, NG, ranks, zrow, summary, cv, boot, baseline

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

def line(name, rk): r = summary(rk); return f"{name:16s} med {r['median']:6.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}"
print(f"pairs {n}, gallery {len(EV.R['files'])}, groups {NG}")
print(f"human Lab mean {np.round(humans.mean(0), 1)} sd {np.round(humans.std(0), 1)}; rock Lab mean {np.round(rocks.mean(0), 1)} sd {np.round(rocks.std(0), 1)}")
print("\nAll 183 pairs (optimistic: no selection, but reading this table to pick a row is)")
print(line("conv128 baseline", ranks(base)))
for k, S in cands.items(): print(line(k, ranks(S)))

bheld, _ = cv({"base": base})
held, picks = cv(cands)
print("\nGrouped CV (5 folds x 5 repeats, seed 1), pooled held-out ranks, ± = pair-bootstrap SE of the median")
bse, _ = boot(bheld); se, dci = boot(held, ref=bheld)
for name, h, e in (("conv128 baseline", bheld, bse), ("CV pick of 4", held, se)):
    r = summary(np.concatenate(h))
    print(f"{name:16s} med {r['median']:6.1f} ± {e:4.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}")
for k in cands:
    h, _ = cv({k: cands[k]}); e, _ = boot(h); r = summary(np.concatenate(h))
    print(f"  {k:14s} med {r['median']:6.1f} ± {e:4.1f}  R@10 {r['R@10']:4.1f}  (fixed, no selection)")
print(f"picks over 25 splits: {Counter(picks).most_common()}")
print(f"median gain vs baseline, pair bootstrap 90% [{dci[0]:.0f}, {dci[1]:.0f}]")
print()
obs, p = EV.paired_tests(held, bheld, "CV pick")
allh = np.concatenate(held); r = summary(allh); r["R@10"] = 100 * float((allh <= 10).mean())
ok_rule = r["median"] <= 308 and r["R@10"] >= 2.94 and p < 0.05 and obs > 0
print(f"\nDecision rule (CV median <= 308 AND R@10 >= 2.94% AND sign-flip p < 0.05): median {r['median']:.1f} "
      f"[{'pass' if r['median'] <= 308 else 'fail'}], R@10 {r['R@10']:.2f}% [{'pass' if r['R@10'] >= 2.94 else 'fail'}], "
      f"p {p:.3f} [{'pass' if p < 0.05 and obs > 0 else 'fail'}] -> {'PROVEN GAIN, adopt' if ok_rule else 'NOT a proven gain, not adopted'}")
