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
paired_tests(held, bh, "fused")
