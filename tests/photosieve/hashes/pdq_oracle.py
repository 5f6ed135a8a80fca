"""Meta's C++ PDQ (the ``pdqhash`` package) as a hex-producing oracle for tests."""

from __future__ import annotations

import numpy as np
import pdqhash


def bits_to_hex(bits) -> str:
    # pdqhash returns bits MSB-first: bit 255 (DCT row 15, column 15) first.
    return "%064x" % int("".join(map(str, bits)), 2)


def oracle(image: np.ndarray) -> tuple[str, int]:
    bits, quality = pdqhash.compute(image)
    return bits_to_hex(bits), int(quality)


def oracle_dihedral(image: np.ndarray) -> tuple[list[str], int]:
    hashes, quality = pdqhash.compute_dihedral(image)
    return [bits_to_hex(bits) for bits in hashes], int(quality)
