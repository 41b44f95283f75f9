#!/usr/bin/env python3
"""The zero-shot human-to-rock reference recipe (face-models.md, "Human-to-rock
matching, reference") in numpy + onnxruntime, as an independent check of the Rust
path (`rockstar eval pairs`).

Human side: BlazeFace front-128 keypoints -> 4-point similarity to dlib's template ->
4 views (as is, mirrored, grey, grey matched to the rocks' pooled histogram). Rock
side: 9 views of the face crop. Humans are centred on 500 LFW faces (every other
person, first photo), rocks on the gallery mean; plain cosine, no settings, no pairs
used. Prints the rank figures over all usable pairs.

    P=models/.work/venv/bin/python   # or any venv with models/requirements.txt
    $P models/tools/pairs_reference.py rocks    # gallery features (~1 min)
    $P models/tools/pairs_reference.py humans   # pair humans
    $P models/tools/pairs_reference.py lfw      # human reference mean
    $P models/tools/pairs_reference.py eval
Features are cached in models/.work/pairs_*.npz (git-ignored).
"""
import glob, hashlib, os, sys
import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
M = os.path.dirname(HERE)
D = os.path.join(M, "..", "..", "shared", "data")
W = os.path.join(M, ".work")
so = ort.SessionOptions(); so.intra_op_num_threads = 1
DET = ort.InferenceSession(f"{M}/blazeface_front_128.onnx", so)
REC = ort.InferenceSession(f"{M}/face_recognition.onnx", so)
TEMPLATE = np.array([[47.6, 46.6], [100.6, 46.6], [74.0, 76.6], [74.0, 105.4]], np.float64)

def anchors():
    a = []
    for n, per in ((16, 2), (8, 6)):
        for r in range(n):
            for c in range(n):
                for _ in range(per):
                    a.append(((c + .5) / n, (r + .5) / n))
    return np.array(a, np.float32)
ANCH = anchors()

def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0])); iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    i = ix * iy; u = (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - i
    return i / u if u > 0 else 0

def detect(img):
    """img: PIL RGB. Returns list of (score, bbox[4], kps[6,2]) in source pixels."""
    w, h = img.size; side = max(w, h)
    pad = Image.new("RGB", (side, side)); pad.paste(img, (0, 0))
    x = np.asarray(pad.resize((128, 128), Image.BILINEAR), np.float32) / 127.5 - 1
    outs = DET.run(None, {"input:0": x[None]})
    names = [o.name for o in DET.get_outputs()]
    o = dict(zip(names, outs))
    logits = np.concatenate([o["Identity:0"][0, :, 0], o["Identity_1:0"][0, :, 0]])
    reg = np.concatenate([o["Identity_2:0"][0], o["Identity_3:0"][0]])
    score = 1 / (1 + np.exp(-np.clip(logits, -80, 80)))
    dets = []
    for i in np.where(score >= 0.5)[0]:
        d = reg[i] / 128; a = ANCH[i]
        cx, cy = a + d[0:2]; bw, bh = d[2:4]
        kps = a + d[4:16].reshape(6, 2)
        dets.append((float(score[i]), np.array([cx-bw/2, cy-bh/2, cx+bw/2, cy+bh/2]), kps))
    dets.sort(key=lambda t: -t[0])
    kept = []
    while dets:
        top = dets[0]
        ov = [d for d in dets if iou(top[1], d[1]) > 0.3]
        dets = [d for d in dets if iou(top[1], d[1]) <= 0.3]
        tot = sum(d[0] for d in ov)
        bb = sum(d[1] * d[0] for d in ov) / tot; kp = sum(d[2] * d[0] for d in ov) / tot
        kept.append((top[0], bb * side, kp * side))
    return kept

def central_face(img, dets):
    """The face nearest the image centre among those at least a quarter of the largest's area."""
    iw, ih = img.size
    area = lambda d: (d[1][2]-d[1][0])*(d[1][3]-d[1][1])
    big = max(area(d) for d in dets)
    cand = [d for d in dets if area(d) >= .25*big]
    return min(cand, key=lambda d: ((d[1][0]+d[1][2])/2-iw/2)**2 + ((d[1][1]+d[1][3])/2-ih/2)**2)

def umeyama(src, dst):
    ms, md = src.mean(0), dst.mean(0); s, d = src - ms, dst - md
    var = (s ** 2).sum()
    a = (s * d).sum() / var; b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var
    R = np.array([[a, -b], [b, a]]); t = md - R @ ms
    return R, t

def bilinear(arr, xs, ys):
    """arr HxWx3 float; xs, ys pixel-centre coords (pixel k centre = k). Replicate border."""
    h, w = arr.shape[:2]
    x0 = np.floor(xs).astype(int); y0 = np.floor(ys).astype(int)
    ax = (xs - x0)[..., None]; ay = (ys - y0)[..., None]
    def g(x, y): return arr[np.clip(y, 0, h-1), np.clip(x, 0, w-1)]
    top = g(x0, y0) * (1-ax) + g(x0+1, y0) * ax
    bot = g(x0, y0+1) * (1-ax) + g(x0+1, y0+1) * ax
    return top * (1-ay) + bot * ay

def align(img, kps4, template=TEMPLATE, centre_offset=0.5):
    arr = np.asarray(img, np.float32)
    # keypoints are continuous coords (pixel k spans [k,k+1)); template in dlib pixel-centre coords
    src = kps4.astype(np.float64) - 0.5   # -> pixel-centre coords
    R, t = umeyama(src, template)
    Ri = np.linalg.inv(R)
    yy, xx = np.mgrid[0:150, 0:150].astype(np.float64)
    pts = np.stack([xx.ravel(), yy.ravel()], 1) - t
    s = pts @ Ri.T
    out = bilinear(arr, s[:, 0].reshape(150, 150), s[:, 1].reshape(150, 150))
    return out.astype(np.float32)

def grey(c):
    y = 0.299 * c[..., 0] + 0.587 * c[..., 1] + 0.114 * c[..., 2]
    return np.repeat(y[..., None], 3, -1)

def hist_match(c, cdf):
    g = grey(c)[..., 0]
    lv = np.clip(np.round(g), 0, 255).astype(int)
    hist = np.bincount(lv.ravel(), minlength=256)
    q = np.cumsum(hist) / lv.size
    m = np.searchsorted(cdf, q).clip(0, 255).astype(np.float32)  # first t with cdf[t] >= q
    v = m[lv]
    return np.repeat(v[..., None], 3, -1)

def resize(img, box=None, size=150):
    """PIL bilinear resize of img (optionally a box, may extend outside: replicate) to size."""
    arr = np.asarray(img, np.float32); h, w = arr.shape[:2]
    if box is None: box = (0, 0, w, h)
    x0, y0, bw, bh = box
    # exact area-free bilinear via sample positions (for upscaling identical to most libs)
    xs = x0 + (np.arange(size) + .5) * bw / size - .5
    ys = y0 + (np.arange(size) + .5) * bh / size - .5
    X, Y = np.meshgrid(xs, ys)
    if bw / size > 1.5 or bh / size > 1.5:  # downscale: use PIL with antialias on a padded crop
        l, t = int(np.floor(x0)), int(np.floor(y0)); r, b = int(np.ceil(x0 + bw)), int(np.ceil(y0 + bh))
        padded = np.pad(arr, ((max(0, -t), max(0, b - h)), (max(0, -l), max(0, r - w)), (0, 0)), mode="edge")
        sub = padded[t + max(0, -t): b + max(0, -t), l + max(0, -l): r + max(0, -l)]
        return np.asarray(Image.fromarray(sub.astype(np.uint8)).resize((size, size), Image.BILINEAR), np.float32)
    return bilinear(arr, X, Y).astype(np.float32)

def rock_views(img):
    w, h = img.size
    plain = resize(img)
    views = [plain, plain[:, ::-1], grey(plain), grey(plain)[:, ::-1]]
    for f in (0.9, 0.8, 1.15, 1.3):
        views.append(resize(img, (w*(1-f)/2, h*(1-f)/2, w*f, h*f)))
    L = max(w, h)
    views.append(resize(img, ((w-L)/2, (h-L)/2, L, L)))
    return views

def embed(chips):
    x = np.ascontiguousarray(np.stack(chips).astype(np.float32))
    e, a = REC.run(["embedding", "appearance"], {"input": x})
    return e, a

def l2(v): return v / np.linalg.norm(v, axis=-1, keepdims=True)

def mean_norm(rows): return l2(l2(rows).mean(0))

def human_chip(path, pick="best"):
    img = Image.open(path).convert("RGB")
    dets = detect(img)
    if not dets: return None
    d = max(dets, key=lambda t: t[0])
    return align(img, d[2][:4])

def human_feats(chip, cdf):
    views = [chip, chip[:, ::-1], grey(chip), hist_match(chip, cdf)]
    e, a = embed(views)
    return mean_norm(e[:2]), mean_norm(a), a

def gallery():
    files, seen = [], {}
    for f in sorted(glob.glob(f"{D}/rocks/faces/*.jpg")):
        h = hashlib.sha256(open(f, "rb").read()).digest()
        if h not in seen: seen[h] = len(files); files.append(f)
    pairs = sorted(os.path.basename(f)[6:-4] for f in glob.glob(f"{D}/pairs/human_*.jpg"))
    pr = []
    for n in pairs:
        f = f"{D}/pairs/rock_{n}.jpg"
        h = hashlib.sha256(open(f, "rb").read()).digest()
        if h not in seen: seen[h] = len(files); files.append(f)
        pr.append(seen[h])
    return files, pairs, np.array(pr)

if __name__ == "__main__":
    what = sys.argv[1]
    os.makedirs(W, exist_ok=True)
    if what == "rocks":
        files, pairs, pr = gallery()
        feats, plains = [], []
        for i, f in enumerate(files):
            img = Image.open(f).convert("RGB")
            v = rock_views(img)
            plains.append(v[2][..., 0])
            e, a = embed(v)
            feats.append(mean_norm(a))
            if i % 100 == 0: print(i, flush=True)
        # pooled grey CDF of the plain views
        lv = np.clip(np.round(np.stack(plains)), 0, 255).astype(int)
        cdf = np.cumsum(np.bincount(lv.ravel(), minlength=256)) / lv.size
        np.savez(f"{W}/pairs_rocks.npz", feats=np.array(feats), files=np.array(files), pr=pr, pairs=np.array(pairs), cdf=cdf)
    elif what == "humans":
        r = np.load(f"{W}/pairs_rocks.npz")
        cdf = r["cdf"]
        app, ide, views, ok = [], [], [], []
        for n in r["pairs"]:
            c = human_chip(f"{D}/pairs/human_{n}.jpg")
            if c is None: ok.append(False); app.append(np.zeros(2048)); ide.append(np.zeros(128)); views.append(np.zeros((4, 2048))); continue
            i_, a_, av = human_feats(c, cdf)
            ok.append(True); app.append(a_); ide.append(i_); views.append(av)
        np.savez(f"{W}/pairs_humans.npz", app=np.array(app), ide=np.array(ide), views=np.array(views), ok=np.array(ok))
    elif what == "lfw":
        r = np.load(f"{W}/pairs_rocks.npz"); cdf = r["cdf"]
        people = sorted(p for p in os.listdir(f"{D}/lfw") if os.path.isdir(f"{D}/lfw/{p}"))
        app, names = [], []
        for k, p in enumerate(people[::2][:500]):
            f = sorted(glob.glob(f"{D}/lfw/{p}/*.jpg"))[0]
            img = Image.open(f).convert("RGB")
            dets = detect(img)
            if not dets: continue
            d = central_face(img, dets)
            c = align(img, d[2][:4])
            _, a_, _ = human_feats(c, cdf)
            app.append(a_); names.append(p)
            if k % 100 == 0: print(k, flush=True)
        np.savez(f"{W}/pairs_lfw.npz", app=np.array(app), names=np.array(names))
    elif what == "eval":
        r = np.load(f"{W}/pairs_rocks.npz"); h = np.load(f"{W}/pairs_humans.npz"); l = np.load(f"{W}/pairs_lfw.npz")
        ok = h["ok"]; pr = r["pr"][ok]; R = r["feats"]
        hs = l2(h["app"][ok] - l["app"].mean(0)); rs = l2(R - R.mean(0))
        S = hs @ rs.T; t = S[np.arange(len(pr)), pr]
        rk = 1 + (S > t[:, None]).sum(1)
        g = len(R)
        print({"pairs": int(ok.sum()), "gallery": g, "median_rank": float(np.median(rk)),
               "chance_median_rank": (g + 1) / 2,
               **{f"recall_at_{k}": float((rk <= k).mean()) for k in (1, 5, 10, 50)}})
