"""The command line every trusted prepare.py shares: where to write, and the data secret.

    out, seed = lab_secret.arguments()   # python prepare.py OUT --secret-file FILE

The scorer copies this file beside the task's prepare.py for its one trusted run. `seed` is a numpy
SeedSequence of the 256-bit secret: draw everything from it (np.random.default_rng(seed), or
seed.spawn(n) for independent streams), never from a constant that a method could search.
"""
import argparse

import numpy as np


def arguments():
    parser = argparse.ArgumentParser(description="Trusted data preparation: writes OUT/public/{train,dev}.csv and OUT/hidden/test.csv.")
    parser.add_argument("out")
    parser.add_argument("--secret-file", required=True)
    args = parser.parse_args()
    with open(args.secret_file) as handle:
        return args.out, np.random.SeedSequence(int(handle.read().strip(), 16))
