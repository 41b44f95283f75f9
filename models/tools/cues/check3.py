#!/usr/bin/env python3
"""Paired tests of the ex_p2 fusion vs the baseline: per-pair rank differences, pair and GROUP (cluster) bootstrap,
median and mean rank; plus the in-CV 'any family' selection for comparison."""
import sys
import numpy as np
sys.argv = ["x"]
from evaluate import *
base = baseline(); zb = zrow(base); zx = zrow(net_cue("ex", "p2", "A", "all8"))
fus = {f"w{w}": zb + w * zx for w in (0.25, 0.5, 1.0)}; fus["base"] = zb
held, picks = cv(fus); bh, _ = cv({"b": base})
hm = np.array([np.mean(h) for h in held]); bm = np.array([np.mean(h) for h in bh])  # per-pair mean held-out rank
d = bm - hm
print(f"per pair: fused better {np.sum(d>0)}, worse {np.sum(d<0)}, equal {np.sum(d==0)}; mean rank base {bm.mean():.1f} fused {hm.mean():.1f}")
rng = np.random.default_rng(0)
def stat(idx):
    a = np.concatenate([bh[i] for i in idx]); b = np.concatenate([held[i] for i in idx])
    return np.median(a) - np.median(b), a.mean() - b.mean()
for how in ("pairs", "groups"):
    out = []
    for _ in range(2000):
        if how == "pairs": idx = rng.integers(0, n, n)
        else:
            gs = rng.integers(0, NG, NG); idx = np.concatenate([np.where(GRP == g)[0] for g in gs])
        out.append(stat(idx))
    out = np.array(out)
    print(f"{how:6s} bootstrap: median gain 90% [{np.percentile(out[:,0],5):.0f},{np.percentile(out[:,0],95):.0f}] P(gain<=0) {np.mean(out[:,0]<=0):.3f}; "
          f"mean-rank gain {stat(np.arange(n))[1]:.1f} 90% [{np.percentile(out[:,1],5):.0f},{np.percentile(out[:,1],95):.0f}] P(<=0) {np.mean(out[:,1]<=0):.3f}")
# sign-flip test at group level on per-group mean difference
gd = np.array([d[GRP == g].mean() for g in range(NG)]); obs = gd.mean()
fl = np.array([(gd * rng.choice([-1, 1], NG)).mean() for _ in range(20000)])
print(f"group sign-flip test on mean rank difference: obs {obs:.1f}, p(two-sided) {np.mean(np.abs(fl) >= abs(obs)):.3f}")
