#!/usr/bin/env python3
"""After the pre-registered run (not part of its rule): how much the CV pick's median moves with
the split seed, and the same for the baseline. $P seeds.py > log_seeds.txt"""
import os, sys
import numpy as np
H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, "..", "cues")); sys.path.insert(0, os.path.join(H, ".."))
import evaluate as EV
from evaluate import zrow, baseline, centred_cos, summary
F = np.load(os.path.normpath(os.path.join(H, "..", "..", ".work", "cues8", "blur.npz")))
base = baseline(); zb = zrow(base)
cands = {"rocks3": centred_cos(EV.hget("app"), EV.L["app"], F["rocks3"]),
         "blur3": centred_cos(F["humans3"], F["lfw3"], F["rocks3"]),
         "blur6": centred_cos(F["humans6"], F["lfw6"], F["rocks6"])}
for k in list(cands): cands[f"{k}+conv128"] = zb + zrow(cands[k])
print("seed  baseline med R@10 | CV pick of 6 med R@10 | picks")
for seed in (1, 11, 21, 31, 41, 51, 61, 71):
    EV.SPLITS[:] = EV.splits(seed=seed)
    b, _ = EV.cv({"base": base}); h, picks = EV.cv(cands)
    rb = summary(np.concatenate(b)); rh = summary(np.concatenate(h))
    from collections import Counter
    print(f"{seed:4d}  {rb['median']:6.1f} {rb['R@10']:4.1f} | {rh['median']:6.1f} {rh['R@10']:4.1f} | {Counter(picks).most_common(2)}")
