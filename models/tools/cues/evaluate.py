#!/usr/bin/env python3
"""Grouped-CV evaluation of zero-shot cues. Usage: evaluate.py  (needs feat_rocks/humans/lfw.npz)"""
import json, os, sys
import numpy as np
E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".work", "cues")
R = np.load(f"{E}/feat_rocks.npz"); H = np.load(f"{E}/feat_humans.npz"); L = np.load(f"{E}/feat_lfw.npz")
ok = H["ok"]; pr = R["pr"][ok]; n = len(pr); G = len(R["files"])
def hget(k): return H[k][ok]
def l2(v): return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-12)
def vmean(x, idx): return l2(l2(x[:, idx]).mean(1))   # (N,V,D) -> mean of L2-normalised views

# ---------------------------------------------------------------- grouping
def groups():
    par = list(range(n))
    def f(a):
        while par[a] != a: par[a] = par[par[a]]; a = par[a]
        return a
    def u(a, b): par[f(a)] = f(b)
    ide = l2(hget("ide")); Ci = ide @ ide.T
    th = R["thumb"][pr].reshape(n, -1)
    Dt = np.abs(th[:, None] - th[None]).mean(-1)
    ra = l2(R["app"] - R["app"].mean(0))[pr]; Cr = ra @ ra.T
    for i in range(n):
        for j in range(i + 1, n):
            if Ci[i, j] > 0.94 or pr[i] == pr[j] or Dt[i, j] < 0.03 or Cr[i, j] > 0.5: u(i, j)
    roots = [f(i) for i in range(n)]; m = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return np.array([m[r] for r in roots])
GRP = groups(); NG = GRP.max() + 1

def splits(folds=5, reps=5, seed=1):
    out = []
    for r in range(reps):
        perm = np.random.default_rng(seed + r).permutation(NG)
        fold_of = np.empty(NG, int); fold_of[perm] = np.arange(NG) % folds
        for k in range(folds):
            te = fold_of[GRP] == k; out.append((~te, te))
    return out
SPLITS = splits()

# ---------------------------------------------------------------- scoring
def ranks(S):
    t = S[np.arange(n), pr]; return 1 + (S > t[:, None]).sum(1)
def zrow(S): return (S - S.mean(1, keepdims=True)) / (S.std(1, keepdims=True) + 1e-12)
def summary(rk):
    rk = np.asarray(rk); return {"median": float(np.median(rk)), **{f"R@{k}": round(100 * float((rk <= k).mean()), 1) for k in (1, 5, 10, 50)}}

def cv(settings):
    """settings: dict name -> (n x G score matrix). Per split, pick the setting with the best training
    median rank, score held-out pairs. Returns per-pair list of held-out ranks, picks."""
    rk = {k: ranks(S) for k, S in settings.items()}
    held = [[] for _ in range(n)]; picks = []
    for tr, te in SPLITS:
        best = min(rk, key=lambda k: (np.median(rk[k][tr]), -np.mean(rk[k][tr] <= 10)))
        picks.append(best)
        for i in np.where(te)[0]: held[i].append(rk[best][i])
    return held, picks

def boot(held, B=1000, seed=0, ref=None):
    rng = np.random.default_rng(seed); meds, diffs = [], []
    for _ in range(B):
        idx = rng.integers(0, n, n)
        m = np.median(np.concatenate([held[i] for i in idx])); meds.append(m)
        if ref is not None: diffs.append(np.median(np.concatenate([ref[i] for i in idx])) - m)
    return float(np.std(meds)), (np.percentile(diffs, [5, 95]).tolist() if ref is not None else None)

def paired_tests(held, bheld, label):
    """Per-pair and per-group comparison of `held` (new) against `bheld` (baseline) held-out ranks:
    pair and group (cluster) bootstrap of the median and mean-rank gain, and a group sign-flip test."""
    hm = np.array([np.mean(h) for h in held]); bm = np.array([np.mean(h) for h in bheld])  # per-pair mean held-out rank
    d = bm - hm
    print(f"per pair: {label} better {np.sum(d>0)}, worse {np.sum(d<0)}, equal {np.sum(d==0)}; mean rank base {bm.mean():.1f} new {hm.mean():.1f}")
    rng = np.random.default_rng(0)
    def stat(idx):
        a = np.concatenate([bheld[i] for i in idx]); b = np.concatenate([held[i] for i in idx])
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
    gd = np.array([d[GRP == g].mean() for g in range(NG)]); obs = gd.mean()
    fl = np.array([(gd * rng.choice([-1, 1], NG)).mean() for _ in range(20000)])
    p = float(np.mean(np.abs(fl) >= abs(obs)))
    print(f"group sign-flip test on mean rank difference: obs {obs:.1f}, p(two-sided) {p:.3f}")
    return obs, p

# ---------------------------------------------------------------- cues
def centred_cos(h, l, r):
    return l2(h - l.mean(0)) @ l2(r - r.mean(0)).T

def baseline():
    return centred_cos(hget("app"), L["app"], R["app"])

RV = {"all8": list(range(8)), "stretch4": [0, 1, 2, 3], "square2": [4, 5], "zoom2": [6, 7]}
def net_cue(net, layer, hv, rv):
    """net lm/ex, layer g3/p3/g2/p2, human chip A (product 112 landmark crop) / B (4-pt aligned chip)."""
    k = f"{hv}_{net}_{layer}"
    return centred_cos(vmean(hget(k), [0, 1, 2, 3]), vmean(L[k], [0, 1, 2, 3]), vmean(R[f"{net}_{layer}"], RV[rv]))

def softmax(x): e = np.exp(x - x.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
def expr_cue(kind, hv, rv):
    hp = softmax(hget(f"{hv}_ex_out")).mean(1); lp = softmax(L[f"{hv}_ex_out"]).mean(1)
    rp = softmax(R["ex_out"][:, RV[rv]]).mean(1)
    if kind == "js":
        m = (hp[:, None] + rp[None]) / 2
        kl = lambda p, q: (p * np.log((p + 1e-9) / (q + 1e-9))).sum(-1)
        return -(0.5 * kl(hp[:, None], m) + 0.5 * kl(rp[None], m))
    if kind == "cos_centred": return centred_cos(hp, lp, rp)
    if kind == "logit_centred":
        return centred_cos(hget(f"{hv}_ex_out").mean(1), L[f"{hv}_ex_out"].mean(1), R["ex_out"][:, RV[rv]].mean(1))

FLIP68 = np.array(list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31] +
                  [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40] + [54, 53, 52, 51, 50, 49, 48] +
                  [59, 58, 57, 56, 55] + [64, 63, 62, 61, 60] + [67, 66, 65])
def pts_of(out, flip=False, aspect=None):
    p = out.reshape(-1, 68, 2).astype(np.float64).copy()
    if flip: p[..., 0] = 1 - p[..., 0]; p = p[:, FLIP68]
    if aspect is not None: p = p * aspect[:, None, :]
    return p
def procrustes_to(P, ref):
    """similarity-align each shape in P (N,k,2) to ref (k,2); return centred unit-norm aligned shapes."""
    P = P - P.mean(1, keepdims=True); P = P / np.linalg.norm(P.reshape(len(P), -1), axis=1)[:, None, None]
    ref = ref - ref.mean(0); ref = ref / np.linalg.norm(ref)
    out = []
    for s in P:
        u, _, vt = np.linalg.svd(s.T @ ref); Rm = u @ vt
        if np.linalg.det(Rm) < 0: u[:, -1] *= -1; Rm = u @ vt
        a = s @ Rm; a = a * (a * ref).sum() / (a * a).sum(); out.append(a)
    return np.array(out)
def geo_shapes(hv, rview, sub):
    idx = np.arange(17, 68) if sub == "inner" else np.arange(68)
    hs = (pts_of(hget(f"{hv}_lm_out")[:, 0]) + pts_of(hget(f"{hv}_lm_out")[:, 1], flip=True)) / 2
    ls = (pts_of(L[f"{hv}_lm_out"][:, 0]) + pts_of(L[f"{hv}_lm_out"][:, 1], flip=True)) / 2
    ro = R["lm_out"]
    if rview == "stretch":   # map back to the crop's own aspect
        asp = R["wh"] / R["wh"].max(1, keepdims=True)
        rs = (pts_of(ro[:, 0], aspect=asp) + pts_of(ro[:, 1], flip=True, aspect=asp)) / 2
    else:
        rs = (pts_of(ro[:, 4]) + pts_of(ro[:, 5], flip=True)) / 2
    hs, ls, rs = hs[:, idx], ls[:, idx], rs[:, idx]
    ref = procrustes_to(ls, ls[0]).mean(0)
    for _ in range(3): ref = procrustes_to(ls, ref).mean(0)
    return [procrustes_to(x, ref).reshape(len(x), -1) for x in (hs, ls, rs)]
def geo_cue(kind, hv, rview, sub):
    hs, ls, rs = geo_shapes(hv, rview, sub)
    if kind == "dist": return -((hs[:, None] - rs[None]) ** 2).sum(-1)
    return centred_cos(hs, ls, rs)

def preregistered_report(base, cands):
    """The pre-registered cue tests' report (cues3, cues4): every candidate and the conv128
    baseline on all pairs, then grouped CV with the candidate picked inside each split, the
    paired tests, and the decision rule fixed in advance (CV median <= 308, R@10 >= 2.94 %,
    group sign-flip p < 0.05 with a gain)."""
    from collections import Counter
    def line(name, rk): r = summary(rk); return f"{name:16s} med {r['median']:6.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}"
    print("\nAll 183 pairs (optimistic: no selection, but reading this table to pick a row is)")
    print(line("conv128 baseline", ranks(base)))
    for k, S in cands.items(): print(line(k, ranks(S)))

    bheld, _ = cv({"base": base})
    held, picks = cv(cands)
    print("\nGrouped CV (5 folds x 5 repeats, seed 1), pooled held-out ranks, ± = pair-bootstrap SE of the median")
    bse, _ = boot(bheld); se, dci = boot(held, ref=bheld)
    for name, h, e in (("conv128 baseline", bheld, bse), (f"CV pick of {len(cands)}", held, se)):
        r = summary(np.concatenate(h))
        print(f"{name:16s} med {r['median']:6.1f} ± {e:4.1f}  R@1 {r['R@1']:4.1f}  R@5 {r['R@5']:4.1f}  R@10 {r['R@10']:4.1f}  R@50 {r['R@50']:4.1f}")
    for k in cands:
        h, _ = cv({k: cands[k]}); e, _ = boot(h); r = summary(np.concatenate(h))
        print(f"  {k:14s} med {r['median']:6.1f} ± {e:4.1f}  R@10 {r['R@10']:4.1f}  (fixed, no selection)")
    print(f"picks over 25 splits: {Counter(picks).most_common()}")
    print(f"median gain vs baseline, pair bootstrap 90% [{dci[0]:.0f}, {dci[1]:.0f}]")
    print()
    obs, p = paired_tests(held, bheld, "CV pick")
    allh = np.concatenate(held); r = summary(allh); r["R@10"] = 100 * float((allh <= 10).mean())
    ok_rule = r["median"] <= 308 and r["R@10"] >= 2.94 and p < 0.05 and obs > 0
    print(f"\nDecision rule (CV median <= 308 AND R@10 >= 2.94% AND sign-flip p < 0.05): median {r['median']:.1f} "
          f"[{'pass' if r['median'] <= 308 else 'fail'}], R@10 {r['R@10']:.2f}% [{'pass' if r['R@10'] >= 2.94 else 'fail'}], "
          f"p {p:.3f} [{'pass' if p < 0.05 and obs > 0 else 'fail'}] -> {'PROVEN GAIN, adopt' if ok_rule else 'NOT a proven gain, not adopted'}")

if __name__ == "__main__":
    print(f"pairs {n}, gallery {G}, groups {NG}, group sizes max {np.bincount(GRP).max()}", flush=True)
    base = baseline(); bheld, _ = cv({"base": base})
    fams = {}
    fams["baseline conv128"] = {"base": base}
    for net in ("lm", "ex"):
        for layer in ("g3", "p3", "g2", "p2"):
            fams[f"{net} backbone {layer}"] = {f"{net}_{layer}_{hv}_{rv}": net_cue(net, layer, hv, rv)
                                                for hv in "AB" for rv in ("all8", "stretch4", "zoom2")}
    fams["expr probs"] = {f"{k}_{hv}_{rv}": expr_cue(k, hv, rv) for k in ("js", "cos_centred", "logit_centred")
                          for hv in "AB" for rv in ("all8", "stretch4")}
    fams["geometry 68pt"] = {f"{k}_{hv}_{rv}_{s}": geo_cue(k, hv, rv, s) for k in ("dist", "cos_centred")
                             for hv in "AB" for rv in ("stretch", "square") for s in ("all", "inner")}
    results = {}
    def report(name, settings, extra=""):
        allp = {k: summary(ranks(S)) for k, S in settings.items()}
        best_all = min(allp, key=lambda k: allp[k]["median"])
        held, picks = cv(settings)
        se, dci = boot(held, ref=bheld)
        cvs = summary(np.concatenate(held))
        from collections import Counter
        results[name] = {"all_pairs_best": [best_all, allp[best_all]], "all_pairs": allp, "cv": cvs, "cv_se": se,
                         "median_gain_vs_baseline_90ci": dci, "picks": Counter(picks).most_common(3)}
        print(f"{name:28s} all-pairs best {best_all:32s} med {allp[best_all]['median']:6.0f} R@10 {allp[best_all]['R@10']:4.1f} | "
              f"CV med {cvs['median']:6.1f} ±{se:4.1f} R@10 {cvs['R@10']:4.1f} R@1/5/50 {cvs['R@1']}/{cvs['R@5']}/{cvs['R@50']} "
              f"gain90 [{dci[0]:.0f},{dci[1]:.0f}] picks {Counter(picks).most_common(2)}", flush=True)
    for name, st in fams.items(): report(name, st)
    # fusions with the baseline: z-scored rows, weight chosen in-CV (plus the cue-family setting jointly)
    zb = zrow(base)
    for name, st in list(fams.items())[1:]:
        fus = {f"{k}|w{w}": zb + w * zrow(S) for k, S in st.items() for w in (0.25, 0.5, 1.0)}
        fus["base"] = zb
        report("fuse " + name, fus)
    default = {"expr probs": "cos_centred_A_all8", "geometry 68pt": "cos_centred_A_stretch_inner"}
    for name, st in list(fams.items())[1:]:
        k = default[name] if name in default else [x for x in st if x.endswith("_A_all8")][0]
        fus = {f"{k}|w{w}": zb + w * zrow(st[k]) for w in (0.25, 0.5, 1.0)}; fus["base"] = zb
        report("fuseA " + name, fus)
    allfus = {"base": zb}
    for name, st in list(fams.items())[1:]:
        k = default[name] if name in default else [x for x in st if x.endswith("_A_all8")][0]
        for w in (0.25, 0.5, 1.0): allfus[f"{k}|w{w}"] = zb + w * zrow(st[k])
    report("fuseA ANY family (CV picks)", allfus)
    json.dump(results, open(f"{E}/results.json", "w"), indent=1, default=str)
