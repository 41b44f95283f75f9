#!/usr/bin/env python3
"""Follow-up on the expression-net dense2 (p2) fusion: weight sweep, variants, CV seeds, permutation null."""
import sys
import numpy as np
sys.argv = ["x"]
import evaluate as V
from evaluate import *

base = baseline(); zb = zrow(base)
ex = net_cue("ex", "p2", "A", "all8"); zx = zrow(ex)
print("weight sweep, all pairs (ex p2, human chip A, rock all8):")
for w in (0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 100):
    print(f"  w {w:5}: {summary(ranks(zb + w * zx))}")
print("variants at w 0.5, all pairs:")
for hv in "AB":
    for rv in RV:
        for layer in ("p2", "g2", "p3"):
            s = summary(ranks(zb + 0.5 * zrow(net_cue("ex", layer, hv, rv))))
            print(f"  ex {layer} {hv} {rv:8s}: med {s['median']:.0f} R@10 {s['R@10']}")
# CV seeds
print("fixed ex_p2_A_all8 fusion, weight in CV, different CV seeds:")
fus = {f"w{w}": zb + w * zx for w in (0.25, 0.5, 1.0)}; fus["base"] = zb
for seed in (1, 11, 21, 31, 41):
    V.SPLITS = splits(seed=seed)
    held, picks = cv(fus); bh, _ = cv({"b": base})
    se, ci = boot(held, ref=bh); s = summary(np.concatenate(held))
    print(f"  seed {seed}: CV med {s['median']} ±{se:.1f} R@10 {s['R@10']} gain90 {np.round(ci)}")
V.SPLITS = splits(seed=1)
# permutation null: cues shuffled over humans (same permutation for all families), best-of-families
fam = {}
for net in ("lm", "ex"):
    for layer in ("g3", "p3", "g2", "p2"): fam[f"{net}_{layer}"] = zrow(net_cue(net, layer, "A", "all8"))
fam["expr"] = zrow(expr_cue("cos_centred", "A", "all8")); fam["geo"] = zrow(geo_cue("cos_centred", "A", "stretch", "inner"))
def fam_cv(fam, perm):
    out = {}
    for k, Z in fam.items():
        st = {f"w{w}": zb + w * Z[perm] for w in (0.25, 0.5, 1.0)}; st["base"] = zb
        held, _ = cv(st); out[k] = np.median(np.concatenate(held))
    return out
obs = fam_cv(fam, np.arange(n)); print("observed CV medians per family:", {k: float(v) for k, v in obs.items()})
rng = np.random.default_rng(5); nullmin, nullex = [], []
for b in range(60):
    o = fam_cv(fam, rng.permutation(n)); nullmin.append(min(o.values())); nullex.append(o["ex_p2"])
nullmin, nullex = np.array(nullmin), np.array(nullex)
print(f"null (shuffled cue): best-of-{len(fam)} CV median: mean {nullmin.mean():.1f}, 5th pct {np.percentile(nullmin,5):.1f}, "
      f"P(<= {min(obs.values())}) = {(nullmin <= min(obs.values())).mean():.3f}")
print(f"null ex_p2 alone: mean {nullex.mean():.1f}, min {nullex.min()}, P(<= {obs['ex_p2']}) = {(nullex <= obs['ex_p2']).mean():.3f}")
