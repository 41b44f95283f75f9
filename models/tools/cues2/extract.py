#!/usr/bin/env python3
"""CenterNet (MobileNetV3, COCO) backbone features with the conv128 baseline's exact views.
Usage: extract.py rocks|humans|lfw|all   -> models/.work/cues2/c2_<what>.npz

Views: human = the 4-point aligned 150-px chip (pairs_reference.align) and its 4 views (as is, mirror, grey, grey
histogram-matched to the rocks' pooled CDF from ../cues feat_rocks.npz); rock = pairs_reference.rock_views (9 views
at 150 px); LFW = the harness's 500 reference people (every other person, first photo, face nearest the centre).
Each view is resized 150 -> 256 (bilinear, pixel centres, pairs_reference.resize) and fed as 0..255 RGB.
Per stage (s8, s16, s32): adaptive average pool to 4x4, flatten -> (views, C*16), stored per view (float16).
"""
import glob, os, sys, time
import numpy as np, onnxruntime as ort
from PIL import Image
H = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(H, ".."))
import pairs_reference as P   # BlazeFace, 4-pt alignment, conv128 views (single-threaded sessions)

E = os.path.join(H, "..", "..", ".work", "cues2"); C1 = os.path.join(H, "..", "..", ".work", "cues"); D = P.D
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
NET = ort.InferenceSession(f"{E}/centernet_backbone.onnx", so)
STAGES = ("s8", "s16", "s32")
T = {"n": 0, "s": 0.0}

def pool4(x):
    N, C, S, _ = x.shape; b = S // 4
    return x.reshape(N, C, 4, b, 4, b).mean((3, 5)).reshape(N, C * 16)

def feats(views150):
    x = np.ascontiguousarray(np.stack([P.resize(v, None, 256) for v in views150]).astype(np.float32))
    t = time.perf_counter(); o = NET.run(list(STAGES), {"images": x}); T["s"] += time.perf_counter() - t; T["n"] += len(x)
    return {k: pool4(v).astype(np.float16) for k, v in zip(STAGES, o)}

def human_views(chip, cdf):
    return [chip, chip[:, ::-1], P.grey(chip), P.hist_match(chip, cdf)]

def stack(dicts): return {k: np.stack([d[k] for d in dicts]) for k in dicts[0]}

def run(what):
    t0 = time.time(); T.update(n=0, s=0.0)
    R1 = np.load(f"{C1}/feat_rocks.npz"); cdf = R1["cdf"]
    if what == "rocks":
        files = list(R1["files"]); recs = []
        for i, f in enumerate(files):
            recs.append(feats(P.rock_views(Image.open(f).convert("RGB"))))
            if i % 200 == 0: print(i, round(time.time() - t0), flush=True)
        np.savez(f"{E}/c2_rocks.npz", files=np.array(files), **stack(recs))
    elif what == "humans":
        recs, ok, chips = [], [], []
        for n in R1["pairs"]:
            img = Image.open(f"{D}/pairs/human_{n}.jpg").convert("RGB"); dets = P.detect(img)
            if not dets: ok.append(False); recs.append(None); chips.append(None); continue
            d = max(dets, key=lambda t: t[0]); chip = P.align(img, d[2][:4])
            recs.append(feats(human_views(chip, cdf))); ok.append(True); chips.append(chip)
        tmpl = next(x for x in recs if x is not None)
        recs = [x if x is not None else {k: np.zeros_like(v) for k, v in tmpl.items()} for x in recs]
        # check: these chips reproduce the cached conv128 features of the baseline harness
        H1 = np.load(f"{C1}/feat_humans.npz"); assert (np.array(ok) == H1["ok"]).all()
        idx = [i for i in range(len(ok)) if ok[i]][:5]
        cs = [float(np.dot(P.human_feats(chips[i], cdf)[1], H1["app"][i])) for i in idx]
        print("conv128 re-check cos vs cached (5 humans):", np.round(cs, 6))
        np.savez(f"{E}/c2_humans.npz", ok=np.array(ok), **stack(recs))
    elif what == "lfw":
        L1 = np.load(f"{C1}/feat_lfw.npz"); recs, names = [], []
        people = sorted(p for p in os.listdir(f"{D}/lfw") if os.path.isdir(f"{D}/lfw/{p}"))
        for k, p in enumerate(people[::2][:500]):
            f = sorted(glob.glob(f"{D}/lfw/{p}/*.jpg"))[0]
            img = Image.open(f).convert("RGB"); dets = P.detect(img)
            if not dets: continue
            d = P.central_face(img, dets)
            recs.append(feats(human_views(P.align(img, d[2][:4]), cdf))); names.append(p)
            if k % 100 == 0: print(k, round(time.time() - t0), flush=True)
        assert names == list(L1["names"]), "LFW reference people differ from the harness"
        np.savez(f"{E}/c2_lfw.npz", names=np.array(names), **stack(recs))
    print(f"done {what}: {round(time.time() - t0)} s; backbone {1000 * T['s'] / max(T['n'], 1):.1f} ms per 256-px view "
          f"(1 thread, batches of 4-9 views, {T['n']} views)", flush=True)

if __name__ == "__main__":
    for w in (("rocks", "humans", "lfw") if sys.argv[1] == "all" else sys.argv[1:]): run(w)
