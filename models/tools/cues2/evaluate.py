#!/usr/bin/env python3
"""Pre-registered evaluation of the CenterNet (MobileNetV3, COCO) backbone stages for human-to-rock matching.
Reuses ../cues/evaluate.py unchanged (grouping, 5 folds x 5 repeats seed 1, in-CV pick by training median,
bootstrap SE, conv128 baseline) and ../cues/check3.py's paired tests. Usage: evaluate.py  (needs c2_*.npz)"""
import os, sys
from collections import Counter
import numpy as np
H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, "..", "cues"))
import evaluate as EV   # module-level: loads ../cues caches, builds GRP / SPLITS
from evaluate import n, pr, GRP, NG, ranks, zrow, summary, cv, boot, centred_cos, baseline, l2
E = os.path.join(H, "..", "..", ".work", "cues2")
R2 = np.load(f"{E}/c2_rocks.npz"); H2 = np.load(f"{E}/c2_humans.npz"); L2 = np.load(f"{E}/c2_lfw.npz")
assert (H2["ok"] == EV.H["ok"]).all() and (R2["files"] == EV.R["files"]).all() and (L2["names"] == EV.L["names"]).all()
ok = H2["ok"]

def vmean(x): return l2(l2(x.astype(np.float32)).mean(1))   # (N,V,D): L2 per view, average over views, L2

def stage_cue(s):
    return centred_cos(vmean(H2[s][ok]), vmean(L2[s]), vmean(R2[s]))

base = baseline(); zb = zrow(base)
cands = {}
for s in ("s8", "s16", "s32"): cands[s] = stage_cue(s)
for s in ("s8", "s16", "s32"): cands[f"{s}+conv128"] = zb + zrow(cands[s])

def line(name, rk): r = summary(rk); return f"{name:16s} med {r['median']:6.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}"
print(f"pairs {n}, gallery {len(R2['files'])}, groups {NG}; dims " + ", ".join(f"{s} {R2[s].shape[-1]}" for s in ("s8", "s16", "s32")))
print("\nAll 183 pairs (optimistic: no selection, but reading this table to pick a row is)")
print(line("conv128 baseline", ranks(base)))
for k, S in cands.items(): print(line(k, ranks(S)))

bheld, _ = cv({"base": base})
held, picks = cv(cands)
print("\nGrouped CV (5 folds x 5 repeats, seed 1), pooled held-out ranks, ± = pair-bootstrap SE of the median")
bse, _ = boot(bheld); se, dci = boot(held, ref=bheld)
for name, h, e in (("conv128 baseline", bheld, bse), ("CV pick of 6", held, se)):
    r = summary(np.concatenate(h))
    print(f"{name:16s} med {r['median']:6.1f} ± {e:4.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}")
for k in cands:   # each candidate alone through the same CV code (no selection) for reference
    h, _ = cv({k: cands[k]}); e, _ = boot(h); r = summary(np.concatenate(h))
    print(f"  {k:14s} med {r['median']:6.1f} ± {e:4.1f}  R@10 {r['R@10']:4.1f}  (fixed, no selection)")
print(f"picks over 25 splits: {Counter(picks).most_common()}")
print(f"median gain vs baseline, pair bootstrap 90% [{dci[0]:.0f}, {dci[1]:.0f}]")

# paired tests, exactly as ../cues/check3.py
print()
obs, p = EV.paired_tests(held, bheld, "CV pick")

allh = np.concatenate(held); r = summary(allh); r["R@10"] = 100 * float((allh <= 10).mean())   # unrounded for the rule
ok_rule = r["median"] <= 308 and r["R@10"] >= 2.94 and p < 0.05 and obs > 0
print(f"\nDecision rule (CV median <= 308 AND R@10 >= 2.94% AND sign-flip p < 0.05): median {r['median']:.1f} "
      f"[{'pass' if r['median'] <= 308 else 'fail'}], R@10 {r['R@10']:.2f}% [{'pass' if r['R@10'] >= 2.94 else 'fail'}], "
      f"p {p:.3f} [{'pass' if p < 0.05 and obs > 0 else 'fail'}] -> {'PROVEN GAIN, adopt' if ok_rule else 'NOT a proven gain, not adopted'}")
