#!/usr/bin/python3
"""Reference 16-bit arithmetic for tests/check_fpformat.c.

usage: fpf_oracle.py numpy-float16|torch-bfloat16 CASES RESULTS

CASES has one line per case, two 16-bit patterns in hex (a, b).  RESULTS
gets five hex patterns per case: a+b, a-b, a*b, a/b, sqrt(a), computed by
numpy float16 or torch bfloat16 on the CPU.  Exit 77 when the module is
not installed (the test then says it skipped), 2 on bad usage.
"""
import sys


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("numpy-float16", "torch-bfloat16"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    mode, cases, results = sys.argv[1:]
    pairs = [tuple(int(w, 16) for w in line.split()) for line in open(cases)]
    a_bits = [p[0] for p in pairs]
    b_bits = [p[1] for p in pairs]
    try:
        import numpy as np
    except ImportError:
        print("fpf_oracle: numpy is not installed", file=sys.stderr)
        return 77
    if mode == "numpy-float16":
        a = np.array(a_bits, dtype=np.uint16).view(np.float16)
        b = np.array(b_bits, dtype=np.uint16).view(np.float16)
        with np.errstate(all="ignore"):
            outs = [a + b, a - b, a * b, a / b, np.sqrt(a)]
        outs = [o.astype(np.float16).view(np.uint16) for o in outs]
    else:
        try:
            import torch
        except ImportError:
            print("fpf_oracle: torch is not installed", file=sys.stderr)
            return 77
        def tensor(bits):
            signed = np.array(bits, dtype=np.uint16).view(np.int16)
            return torch.from_numpy(signed.copy()).view(torch.bfloat16)
        a, b = tensor(a_bits), tensor(b_bits)
        outs = [a + b, a - b, a * b, a / b, torch.sqrt(a)]
        outs = [o.view(torch.int16).numpy().view(np.uint16) for o in outs]
    with open(results, "w") as f:
        for k in range(len(pairs)):
            f.write(" ".join("%04x" % int(o[k]) for o in outs) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
