"""Truth tables of the built-in gates, for any number of inputs and either encoding.

Rows count in binary, first input most significant, low level first; for two bipolar inputs
that is the tutorial's order (-1,-1), (-1,1), (1,-1), (1,1). Plain numpy, no config: runner/config.py's
`validate` builds a built-in gate's table from these, and checks a given table against ENCODINGS.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ENCODINGS = {"bipolar": (-1, 1), "binary": (0, 1)}  # (low, high) levels
MAX_INPUTS = 16

# Each takes the table's bits, shape (rows, n), and says which rows are on.
FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "and": lambda bits: bits.all(axis=1),
    "or": lambda bits: bits.any(axis=1),
    "nand": lambda bits: ~bits.all(axis=1),
    "nor": lambda bits: ~bits.any(axis=1),
    "xor": lambda bits: bits.sum(axis=1) % 2 == 1,  # parity
    "xnor": lambda bits: bits.sum(axis=1) % 2 == 0,
    "majority": lambda bits: 2 * bits.sum(axis=1) > bits.shape[1],
}


def _bits(n_inputs: int) -> np.ndarray:
    if not 1 <= n_inputs <= MAX_INPUTS:
        raise ValueError(f"n_inputs must be from 1 to {MAX_INPUTS}, got {n_inputs}")
    shifts = np.arange(n_inputs - 1, -1, -1)
    return (np.arange(2**n_inputs)[:, None] >> shifts) & 1 == 1


def encode(on: np.ndarray, encoding: str) -> np.ndarray:
    low, high = ENCODINGS[encoding]
    return np.where(on, high, low)


def inputs(n_inputs: int, encoding: str) -> np.ndarray:
    """Every combination of n_inputs levels, in binary counting order."""
    return encode(_bits(n_inputs), encoding)


def targets(function: str, n_inputs: int, encoding: str) -> np.ndarray:
    """The gate's output for each row of `inputs(n_inputs, ...)`."""
    return encode(FUNCTIONS[function](_bits(n_inputs)), encoding)
