#!/usr/bin/env python3
"""LFW verification accuracy of face_recognition.onnx under different alignments.

Measures whether face_landmark_68.onnx (68 points -> dlib's own 150/0.25 chip
template) beats BlazeFace's 4 keypoints. Reads ../shared/data/lfw (folds 1-3,
1,799 pairs); 3-fold cross-validated accuracy, threshold chosen on the other two
folds. Run with the converter's venv:
    models/.work/venv/bin/python models/tools/lfw_alignment_eval.py
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
LFW = os.path.normpath(os.path.join(MODELS, "..", "..", "shared", "data", "lfw"))

# 4-point template of face-models.md (eyes, nose, mouth) for a 150 px chip, padding 0.25
TEMPLATE4 = np.array([[47.6, 46.6], [100.6, 46.6], [74.0, 76.6], [74.0, 105.4]])


def sess(name):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(os.path.join(MODELS, name), so, providers=["CPUExecutionProvider"])


def anchors():
    out = []
    for n, k in ((16, 2), (8, 6)):
        for r in range(n):
            for c in range(n):
                out += [((c + 0.5) / n, (r + 0.5) / n)] * k
    return np.array(out)


ANCHORS = anchors()


def detect(bf, img):
    """BlazeFace-128 per face-models.md; returns the detection nearest the centre:
    (box [cx, cy, w, h] and 6 keypoints) in source pixels."""
    h, w = img.shape[:2]
    side = max(h, w)
    pad = np.zeros((side, side, 3), np.uint8)
    pad[:h, :w] = img
    x = np.asarray(Image.fromarray(pad).resize((128, 128), Image.BILINEAR), np.float32) / 127.5 - 1
    o = bf.run(None, {"input:0": x[None]})
    logits = np.concatenate([o[0][0, :, 0], o[1][0, :, 0]])
    reg = np.concatenate([o[2][0], o[3][0]])
    score = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    ctr = ANCHORS + reg[:, 0:2] / 128
    size = reg[:, 2:4] / 128
    kps = ANCHORS[:, None, :] + reg[:, 4:16].reshape(-1, 6, 2) / 128
    idx = np.argsort(-score)
    idx = idx[score[idx] > 0.5]
    boxes = np.concatenate([ctr - size / 2, ctr + size / 2], 1)

    def iou(a, b):
        lt = np.maximum(a[:2], b[:, :2])
        rb = np.minimum(a[2:], b[:, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), 1)
        return inter / (np.prod(a[2:] - a[:2]) + np.prod(b[:, 2:] - b[:, :2], 1) - inter)

    dets = []
    remaining = list(idx)
    while remaining:
        best = remaining[0]
        ov = iou(boxes[best], boxes[remaining])
        group = [r for r, v in zip(remaining, ov) if v > 0.3]
        wts = score[group] / score[group].sum()
        dets.append((np.sum(wts[:, None] * np.concatenate([ctr[group], size[group]], 1), 0) * side,
                     np.sum(wts[:, None, None] * kps[group], 0) * side, score[best]))
        remaining = [r for r, v in zip(remaining, ov) if v <= 0.3]
    if not dets:
        return None
    c = np.array([w / 2, h / 2])
    return min(dets, key=lambda d: np.linalg.norm(d[0][:2] - c))


def umeyama(src, dst):
    """Least-squares similarity transform src -> dst; returns 2x3 matrix."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    r = u @ e @ vt
    scale = np.trace(np.diag(sig) @ e) / (s ** 2).sum() * len(src)
    t = md - scale * r @ ms
    return np.hstack([scale * r, t[:, None]])


def warp(img, m, size):
    """Bilinear warp: chip pixel (u, v) samples img at inverse(m) @ (u, v, 1); zeros outside."""
    a = np.vstack([m, [0, 0, 1]])
    inv = np.linalg.inv(a)
    v, u = np.mgrid[0:size, 0:size].astype(np.float64)
    sx = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    sy = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    h, w = img.shape[:2]
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    src = img.astype(np.float32)

    def px(yy, xx):
        ok = ((xx >= 0) & (xx < w) & (yy >= 0) & (yy < h))[..., None]
        return np.where(ok, src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], 0)

    return ((1 - fy) * ((1 - fx) * px(y0, x0) + fx * px(y0, x0 + 1)) +
            fy * ((1 - fx) * px(y0 + 1, x0) + fx * px(y0 + 1, x0 + 1))).astype(np.float32)


def square_crop_112(img, cx, cy, side):
    """Square crop (zero outside the image) resized to 112 by a bilinear warp."""
    s = 112.0 / side
    m = np.array([[s, 0, (side / 2 - cx) * s + 0], [0, s, (side / 2 - cy) * s]])
    # map pixel centres: chip u <-> image cx - side/2 + (u + 0.5)/s - 0.5
    m[:, 2] += 0.5 * s - 0.5
    return warp(img, m, 112), m


def landmarks(lm, img, cx, cy, side):
    chip, m = square_crop_112(img, cx, cy, side)
    out = lm.run(None, {"input": chip[None]})[0][0].reshape(68, 2) * 112 - 0.5  # chip pixel coords
    inv = np.linalg.inv(np.vstack([m, [0, 0, 1]]))
    return out @ inv[:2, :2].T + inv[:2, 2]


def main():
    pairs_path = os.path.join(LFW, "pairs.tsv")
    if not os.path.exists(pairs_path):
        print(f"skip: {pairs_path} not found")
        return 0
    with open(os.path.join(MODELS, "manifest.json")) as f:
        man = json.load(f)
    tpl = next(e for e in man["files"] if e["name"] == "face_landmark_68.onnx")["alignment_for_face_recognition"]
    tpl_idx = [t[0] for t in tpl["template_index_x_y"]]
    tpl_pts = np.array([t[1:] for t in tpl["template_index_x_y"]])

    rows = [line.rstrip("\n").split("\t") for line in open(pairs_path)][1:]
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else len(rows)
    rows = rows[:limit] if limit == len(rows) else [r for i, r in enumerate(rows) if i % (len(rows) // limit or 1) == 0]
    images = sorted({r[2] for r in rows} | {r[3] for r in rows})
    bf, rec, lm = sess("blazeface_front_128.onnx"), sess("face_recognition.onnx"), sess("face_landmark_68.onnx")

    emb = {}
    t0 = time.time()
    misses = 0

    def embed(chips):
        e = rec.run(["embedding"], {"input": np.stack(chips)})[0]
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    def put(key, name, vec):
        emb.setdefault(key, {})[name] = vec

    def lm4(pts):  # eye centres, nose tip (30), mouth centre (mean of 48-67): the 4-point template
        return np.array([pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48:68].mean(0)])

    for n, name in enumerate(images):
        img = np.asarray(Image.open(os.path.join(LFW, name)).convert("RGB"))
        d = detect(bf, img)
        if d is None:
            misses += 1
            h, w = img.shape[:2]
            d = (np.array([w / 2, h / 2, w * 0.45, h * 0.45]), None, 0)
        box, kps, _ = d
        chips = {}
        if kps is not None:
            chips["bf4"] = warp(img, umeyama(kps[:4], TEMPLATE4), 150)
        else:
            chips["bf4"] = img[50:200, 50:200].astype(np.float32)
        side0 = max(box[2], box[3])
        for scale in (1.2, 1.4, 1.6):
            pts = landmarks(lm, img, box[0], box[1], side0 * scale)
            chips[f"lm33_s{scale}"] = warp(img, umeyama(pts[tpl_idx], tpl_pts), 150)
            if scale == 1.4:
                chips[f"lm4_s{scale}"] = warp(img, umeyama(lm4(pts), TEMPLATE4), 150)
                lo, hi = pts.min(0), pts.max(0)
                for r in (1.2, 1.4):
                    pts2 = landmarks(lm, img, (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, max(hi - lo) * r)
                    chips[f"lm33_s{scale}_refine{r}"] = warp(img, umeyama(pts2[tpl_idx], tpl_pts), 150)
                    if r == 1.2:
                        chips[f"lm4_s{scale}_refine{r}"] = warp(img, umeyama(lm4(pts2), TEMPLATE4), 150)
        keys = list(chips)
        e = embed([chips[k] for k in keys] + [chips[k][:, ::-1] for k in keys])
        for i, k in enumerate(keys):
            put(k, name, e[i])
            put(k + "+flip", name, e[i] + e[i + len(keys)])
        for k in keys[1:]:
            i = keys.index(k)
            put("bf4&" + k, name, e[0] + e[i])
            put("bf4&" + k + "+flip", name, e[0] + e[i] + e[len(keys)] + e[len(keys) + i])
        if n % 500 == 0:
            print(f"  {n}/{len(images)} images, {time.time() - t0:.0f} s", flush=True)
    variants = list(emb)

    folds = np.array([int(r[0]) for r in rows])
    same = np.array([int(r[1]) for r in rows])
    print(f"{len(rows)} pairs, {len(images)} images, BlazeFace misses {misses}")
    for v in variants:
        e = emb[v]
        cos = np.array([np.dot(e[r[2]], e[r[3]]) / np.linalg.norm(e[r[2]]) / np.linalg.norm(e[r[3]]) for r in rows])
        accs = []
        for f in sorted(set(folds)):
            tr, te = folds != f, folds == f
            cands = np.unique(cos[tr])
            best = max(cands, key=lambda t: np.mean((cos[tr] >= t) == same[tr]))
            accs.append(np.mean((cos[te] >= best) == same[te]))
        print(f"  {v:36s} accuracy {np.mean(accs) * 100:.2f} % (folds {', '.join(f'{a * 100:.2f}' for a in accs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
