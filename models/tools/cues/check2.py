#!/usr/bin/env python3
"""ex_p2 alone, complementarity, spread on unseen LFW people, 128-D PCA variant."""
import sys
import numpy as np
sys.argv = ["x"]
from evaluate import *
O = np.load(f"{E}/feat_lfw_odd.npz")
base = baseline(); ex = net_cue("ex", "p2", "A", "all8"); zb, zx = zrow(base), zrow(ex)
print("ex_p2_A_all8 alone, all pairs:", summary(ranks(ex)))
print("corr of row-z scores base vs ex_p2:", round(float(np.corrcoef(zb.ravel(), zx.ravel())[0, 1]), 3))
rb, rx = ranks(base), ranks(ex); print("rank corr per pair (spearman):", round(float(np.corrcoef(np.argsort(np.argsort(rb)), np.argsort(np.argsort(rx)))[0, 1]), 3))
# spread on 600 unseen LFW people
def hfeat(src, k): return src[k] if k == "A_app" else None
rb_c = l2(R["app"] - R["app"].mean(0)); ob = l2(O["app"] - L["app"].mean(0)) @ rb_c.T
rx_c = l2(vmean(R["ex_p2"], RV["all8"]) - vmean(R["ex_p2"], RV["all8"]).mean(0))
lx = vmean(L["A_ex_p2"], [0, 1, 2, 3]); ox = l2(vmean(O["A_ex_p2"], [0, 1, 2, 3]) - lx.mean(0)) @ rx_c.T
for name, S in (("base", ob), ("fuse w0.5", zrow(ob) + 0.5 * zrow(ox)), ("fuse w1", zrow(ob) + zrow(ox)), ("ex alone", ox)):
    top = S.argmax(1); c = np.bincount(top, minlength=G)
    print(f"spread {name:10s}: people {len(top)} distinct {len(np.unique(top))} max_share {c.max()/len(top):.4f}")
# PCA-128 variant of both cues (pooled LFW-ref + rock centred vectors, like the product)
def pca_cue(h, l, r, d=128):
    lc, rc = l2(l - l.mean(0)), l2(r - r.mean(0)); X = np.concatenate([lc, rc])
    _, _, vt = np.linalg.svd(X - 0, full_matrices=False); B = vt[:d]
    return l2(l2(h - l.mean(0)) @ B.T) @ l2(rc @ B.T).T
pb = pca_cue(hget("app"), L["app"], R["app"])
px = pca_cue(vmean(hget("A_ex_p2"), [0,1,2,3]), vmean(L["A_ex_p2"], [0,1,2,3]), vmean(R["ex_p2"], RV["all8"]))
print("PCA128 base:", summary(ranks(pb)), " PCA128 ex:", summary(ranks(px)))
for w in (0.25, 0.5, 1.0): print(f"PCA128 fuse w{w}:", summary(ranks(zrow(pb) + w * zrow(px))))
held, picks = cv({**{f"w{w}": zrow(pb) + w * zrow(px) for w in (0.25, 0.5, 1.0)}, "base": zrow(pb)})
bh, _ = cv({"b": pb}); se, ci = boot(held, ref=bh)
print("PCA128 fused, weight in CV:", summary(np.concatenate(held)), f"±{se:.1f} gain90 {np.round(ci)}")
