#!/usr/bin/env python3
"""Feature extraction for the new cues. Usage: extract.py rocks|humans|lfw  (caches in models/.work/cues/feat_*.npz)"""
import glob, os, sys, time
import numpy as np, onnxruntime as ort
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pairs_reference as P   # BlazeFace, 4-pt alignment, conv128 views (single-threaded sessions)

E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".work", "cues"); D = P.D
os.makedirs(E, exist_ok=True)
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
LM = ort.InferenceSession(f"{E}/lm_feat.onnx", so)
EX = ort.InferenceSession(f"{E}/expr_feat.onnx", so)

def apool(x, n):
    """adaptive average pool (N,C,S,S) -> (N,C*n*n), bins like torch AdaptiveAvgPool2d."""
    S = x.shape[-1]; out = []
    for i in range(n):
        a, b = (i * S) // n, -(-((i + 1) * S) // n)
        for j in range(n):
            c, d = (j * S) // n, -(-((j + 1) * S) // n)
            out.append(x[:, :, a:b, c:d].mean((2, 3)))
    return np.stack(out, -1).reshape(len(x), -1)

def net_feats(chips):
    """chips: list of 112x112x3 float 0..255. Returns dict of per-view features."""
    x = np.ascontiguousarray(np.stack(chips).astype(np.float32))
    r = {}
    for tag, s in (("lm", LM), ("ex", EX)):
        out, d2, d3 = s.run(["landmarks", "dense2", "dense3"], {"input": x})
        r[tag + "_out"] = out
        r[tag + "_g3"] = d3.mean((2, 3))          # 256
        r[tag + "_p3"] = apool(d3, 2)             # 1024
        r[tag + "_g2"] = d2.mean((2, 3))          # 128
        r[tag + "_p2"] = apool(d2, 4)             # 2048
    return r

def crop112(arr, x0, y0, side, pad="zero"):
    """square region -> 112 px, face-api style sampling (src = x0 + k*side/112), zero or edge padding."""
    h, w = arr.shape[:2]
    k = np.arange(112) * side / 112.0
    X, Y = np.meshgrid(x0 + k, y0 + k)
    v = P.bilinear(arr, X, Y)
    if pad == "zero":
        m = (X >= -0.5) & (X <= w - 0.5) & (Y >= -0.5) & (Y <= h - 0.5)
        v = v * m[..., None]
    return v.astype(np.float32)

def stretch112(arr):
    h, w = arr.shape[:2]
    if max(h, w) > 168:
        return np.asarray(Image.fromarray(arr.astype(np.uint8)).resize((112, 112), Image.BILINEAR), np.float32)
    xs = (np.arange(112) + .5) * w / 112 - .5; ys = (np.arange(112) + .5) * h / 112 - .5
    X, Y = np.meshgrid(xs, ys); return P.bilinear(arr, X, Y).astype(np.float32)

def lm_points(out, x0, y0, side):
    return np.stack([x0 + out[0::2] * side, y0 + out[1::2] * side], 1)

def human112(img, det):
    """product landmark crop: 1.4x detection box, then 1.3x landmark extent (2nd pass)."""
    arr = np.asarray(img, np.float32)
    bb = det[1]; cx, cy = (bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2
    side = 1.4 * max(bb[2] - bb[0], bb[3] - bb[1])
    c = crop112(arr, cx - side / 2, cy - side / 2, side)
    out = LM.run(["landmarks"], {"input": c[None]})[0][0]
    pts = lm_points(out, cx - side / 2, cy - side / 2, side)
    lo, hi = pts.min(0), pts.max(0); cx, cy = (lo + hi) / 2; side = 1.3 * max(hi - lo)
    x0, y0 = cx - side / 2, cy - side / 2
    return crop112(arr, x0, y0, side), (x0, y0, side)

def human_views(c112, cdf):
    return [c112, c112[:, ::-1], P.grey(c112), P.hist_match(c112, cdf)]

def rock_views112(img):
    arr = np.asarray(img, np.float32); h, w = arr.shape[:2]
    st = stretch112(arr); L = max(w, h)
    views = [st, st[:, ::-1], P.grey(st), P.grey(st)[:, ::-1]]
    sq = crop112(arr, (w - L) / 2, (h - L) / 2, L, "edge"); views += [sq, sq[:, ::-1]]
    z = 1.3 * L; zo = crop112(arr, (w - z) / 2, (h - z) / 2, z, "edge"); views += [zo, zo[:, ::-1]]
    return views  # 0 stretch,1 mirror,2 grey,3 grey mirror,4 square,5 square mirror,6 zoom1.3,7 zoom1.3 mirror

def stack(dicts):
    return {k: np.stack([d[k] for d in dicts]) for k in dicts[0]}

def human_record(img, det, cdf):
    chip150 = P.align(img, det[2][:4])
    ide, app, _ = P.human_feats(chip150, cdf)
    c112, geo = human112(img, det)
    a = net_feats(human_views(c112, cdf))
    small = np.asarray(Image.fromarray(np.clip(chip150, 0, 255).astype(np.uint8)).resize((112, 112), Image.BILINEAR), np.float32)
    b = net_feats(human_views(small, cdf))
    rec = {"ide": ide, "app": app, "geo": np.array(geo)}
    rec.update({"A_" + k: v for k, v in a.items()}); rec.update({"B_" + k: v for k, v in b.items()})
    return rec

if __name__ == "__main__":
    what = sys.argv[1]; t0 = time.time()
    if what == "rocks":
        files, pairs, pr = P.gallery()
        recs, plains, thumbs = [], [], []
        for i, f in enumerate(files):
            img = Image.open(f).convert("RGB")
            v = P.rock_views(img); plains.append(v[2][..., 0])
            _, a = P.embed(v)
            r = net_feats(rock_views112(img)); r["app"] = P.mean_norm(a); r["wh"] = np.array(img.size, np.float32)
            recs.append(r)
            g = np.asarray(img.convert("L").resize((24, 24), Image.BILINEAR), np.float32) / 255; thumbs.append(g)
            if i % 100 == 0: print(i, round(time.time() - t0), flush=True)
        lv = np.clip(np.round(np.stack(plains)), 0, 255).astype(int)
        cdf = np.cumsum(np.bincount(lv.ravel(), minlength=256)) / lv.size
        np.savez(f"{E}/feat_rocks.npz", files=np.array(files), pr=pr, pairs=np.array(pairs), cdf=cdf,
                 thumb=np.array(thumbs), **stack(recs))
    elif what == "humans":
        r = np.load(f"{E}/feat_rocks.npz"); cdf = r["cdf"]; recs, ok = [], []
        for n in r["pairs"]:
            img = Image.open(f"{D}/pairs/human_{n}.jpg").convert("RGB"); dets = P.detect(img)
            if not dets: ok.append(False); recs.append(None); continue
            d = max(dets, key=lambda t: t[0]); recs.append(human_record(img, d, cdf)); ok.append(True)
        tmpl = next(x for x in recs if x is not None)
        recs = [x if x is not None else {k: np.zeros_like(v) for k, v in tmpl.items()} for x in recs]
        np.savez(f"{E}/feat_humans.npz", ok=np.array(ok), **stack(recs))
    elif what in ("lfw", "lfw_odd"):
        r = np.load(f"{E}/feat_rocks.npz"); cdf = r["cdf"]; recs, names = [], []
        people = sorted(p for p in os.listdir(f"{D}/lfw") if os.path.isdir(f"{D}/lfw/{p}"))
        for k, p in enumerate(people[::2][:500] if what == "lfw" else people[1::2][:600]):
            f = sorted(glob.glob(f"{D}/lfw/{p}/*.jpg"))[0]
            img = Image.open(f).convert("RGB"); dets = P.detect(img)
            if not dets: continue
            d = P.central_face(img, dets)
            recs.append(human_record(img, d, cdf)); names.append(p)
            if k % 100 == 0: print(k, round(time.time() - t0), flush=True)
        np.savez(f"{E}/feat_{what}.npz", names=np.array(names), **stack(recs))
    print("done", what, round(time.time() - t0), "s")
