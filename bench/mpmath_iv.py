#!/usr/bin/env python3
"""make bench: the neuron-head or mlp-layer check in mpmath's interval
context (mpmath.iv, with gmpy2), on an instance written by
`attncheck export ID --seed N --format json`.  The same algorithm as
attncheck: each head over its query's allowed keys (mask B), the softmax
shifted by the row's largest logit, E the largest row distance.

usage: mpmath_iv.py FILE.json PREC [MIN_SECONDS]
prints: seconds-per-check  lo(E)  hi(E)    (or one line "skip: why")
Run it with Debian's /usr/bin/python3 (python3-mpmath, python3-gmpy2)."""
import json
import sys
import time

try:
    import mpmath
    from mpmath import iv
except ImportError:
    print("skip: python3-mpmath is not installed (apt-get install python3-mpmath python3-gmpy2)")
    sys.exit(0)
if mpmath.libmp.BACKEND != "gmpy":
    print("skip: mpmath runs without gmpy2 (apt-get install python3-gmpy2)")
    sys.exit(0)


def mat(m):
    return [[iv.mpf(v) for v in row] for row in m["values"]]


def imax(xs):
    """The enclosure of max over intervals."""
    return iv.mpf([max(x.a for x in xs), max(x.b for x in xs)])


def silu(z, a):
    return z / (1 + iv.exp(-a * z))


def heads_b(Xh, W_in, W_out, a):
    """sum over neurons k of the head h_k(X^) with mask B (keys 0 and i)."""
    N, D = len(Xh), len(Xh[0])
    d, l = D - 1, len(W_in[0])
    out = [[iv.mpf(0)] * D for _ in range(N)]
    for k in range(l):
        z = [sum((Xh[i][j] * W_in[j][k] for j in range(d)), iv.mpf(0)) for i in range(N)]
        key = [-Xh[j][d] for j in range(N)]  # x W_K, W_K = [0; -1]
        for i in range(N):
            keys = [0] if i == 0 else [0, i]
            s = [a * z[i] * key[j] for j in keys]
            m = max(t.b for t in s)  # the shift: the largest upper end
            e = [iv.exp(t - m) for t in s]
            tot = sum(e, iv.mpf(0))
            av = sum((e[t] / tot * z[j] for t, j in enumerate(keys)), iv.mpf(0))
            for c in range(d):
                out[i][c] += av * W_out[k][c]
    return out


def row_error(A, B):
    return imax([iv.sqrt(sum(((x - y) ** 2 for x, y in zip(ra, rb)), iv.mpf(0)))
                 for ra, rb in zip(A, B)])


def check(doc):
    M, p = doc["matrices"], doc["params"]
    a = iv.mpf(p.get("a", "1"))
    X = mat(M["X"])
    n, d = len(X), len(X[0])
    if doc["claim"] == "neuron-head":
        W_in = mat(M["w"])
        W_out = mat(M["u"])
    else:
        W_in, W_out = mat(M["W_in"]), mat(M["W_out"])
    l = len(W_in[0])
    Xh = [[iv.mpf(0)] * d + [iv.mpf(1)]] + [row + [iv.mpf(0)] for row in X]
    h = heads_b(Xh, W_in, W_out, a)
    if doc["claim"] == "neuron-head":  # h(X^) alone against SiLU_a(x w) [u, 0]
        con = h
        ref = [[iv.mpf(0)] * (d + 1)]
        for i in range(n):
            z = sum((X[i][j] * W_in[j][0] for j in range(d)), iv.mpf(0))
            g = silu(z, a)
            ref.append([g * W_out[0][c] for c in range(d)] + [iv.mpf(0)])
    else:  # X^ + sum_k h_k(X^) against [[0, 1], [X + SiLU_a(X W_in) W_out, 0]]
        con = [[Xh[i][c] + h[i][c] for c in range(d + 1)] for i in range(n + 1)]
        H = [[silu(sum((X[i][j] * W_in[j][k] for j in range(d)), iv.mpf(0)), a)
              for k in range(l)] for i in range(n)]
        ref = [[iv.mpf(0)] * d + [iv.mpf(1)]]
        for i in range(n):
            ref.append([X[i][c] + sum((H[i][k] * W_out[k][c] for k in range(l)), iv.mpf(0))
                        for c in range(d)] + [iv.mpf(0)])
    return row_error(con, ref)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    doc = json.load(open(sys.argv[1]))
    iv.prec = int(sys.argv[2])
    least = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
    reps, t0 = 0, time.perf_counter()
    while True:
        E = check(doc)
        reps += 1
        t = time.perf_counter() - t0
        if t >= least:
            break
    lo, hi = E._mpi_  # the ends, as mpmath's raw floats
    print("%.6e %s %s" % (t / reps, mpmath.libmp.to_str(lo, 8), mpmath.libmp.to_str(hi, 8)))


if __name__ == "__main__":
    main()
