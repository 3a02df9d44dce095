#!/usr/bin/env python3
"""Independent check of `attncheck export mlp-layer`: rebuild both outputs
from the exported exact inputs with Python's decimal module (60 digits) and
compare them with the exported ones to 30 significant digits."""
import json
import sys
from decimal import Decimal, getcontext

getcontext().prec = 60


def mat(d):
    return [[Decimal(v) for v in row] for row in d["values"]]


def matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))]
            for i in range(len(A))]


def sigmoid(t):
    return 1 / (1 + (-t).exp())


def main(path):
    doc = json.load(open(path))
    assert doc["claim"] == "mlp-layer", doc["claim"]
    a = Decimal(doc["params"]["a"])
    M = doc["matrices"]
    X, W_in, W_out = mat(M["X"]), mat(M["W_in"]), mat(M["W_out"])
    n, d, l = len(X), len(X[0]), len(W_in[0])

    # the MLP: X + SiLU_a(X W_in) W_out, with the bias token row 0 = e_{d+1}
    H = matmul(X, W_in)
    H = [[z * sigmoid(a * z) for z in row] for row in H]
    Y = matmul(H, W_out)
    ref = [[Decimal(0)] * d + [Decimal(1)]]
    ref += [[X[i][j] + Y[i][j] for j in range(d)] + [Decimal(0)] for i in range(n)]

    # the construction, from the head formula: one head per neuron, mask B
    Xh = [[Decimal(0)] * d + [Decimal(1)]] + [row + [Decimal(0)] for row in X]
    con = [row[:] for row in Xh]
    for k in range(l):
        w = [W_in[j][k] for j in range(d)] + [Decimal(0)]
        u = W_out[k] + [Decimal(0)]
        q = [a * sum(x[j] * w[j] for j in range(d + 1)) for x in Xh]   # x W_Q
        key = [-x[d] for x in Xh]                                      # x W_K, W_K = [0; -1]
        val = [sum(x[j] * w[j] for j in range(d + 1)) for x in Xh]     # x W_V
        for i in range(n + 1):
            allowed = sorted({0, i})
            s = [q[i] * key[j] for j in allowed]
            m = max(s)
            e = [(t - m).exp() for t in s]
            z = sum(e)
            out = sum(e[t] / z * val[j] for t, j in enumerate(allowed))
            for c in range(d + 1):
                con[i][c] += out * u[c]

    worst = Decimal(0)
    for name, mine in (("reference", ref), ("construction", con)):
        theirs = mat(M[name])
        for i in range(n + 1):
            for j in range(d + 1):
                scale = max(Decimal(1), abs(mine[i][j]))
                worst = max(worst, abs(mine[i][j] - theirs[i][j]) / scale)
    # the two outputs agree with each other too (the claim itself)
    for i in range(n + 1):
        for j in range(d + 1):
            worst = max(worst, abs(ref[i][j] - con[i][j]) / max(Decimal(1), abs(ref[i][j])))
    print(f"recompute_export: {n + 1}x{d + 1} outputs, {l} heads, worst relative difference {worst:.3e}")
    return 0 if worst < Decimal("1e-30") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
