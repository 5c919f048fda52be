"""Real data for notebook 07: handwritten digits, stored inside the package (no download).

:func:`load_digits` returns the UCI "Optical Recognition of Handwritten Digits" test set as
scikit-learn ships it: 1,797 images of 8×8 pixels, each pixel a count 0–16 of the "on"
pixels in a 4×4 block of a 32×32 bitmap, labelled 0–9 (about 180 per digit).

Credit and licence: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
UCI Machine Learning Repository (1998), https://doi.org/10.24432/C50P49, licensed under
Creative Commons Attribution 4.0 (CC BY 4.0). The file ``gdviz/_data/digits.npz`` holds the
pixels and labels of scikit-learn's ``sklearn/datasets/data/digits.csv.gz`` unchanged, as
uint8 arrays (``images`` of shape (1797, 8, 8) and ``labels`` of shape (1797,)).
"""
from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["load_digits", "digit_images", "TEST_EVERY", "N_CLASSES", "PIXEL_MAX"]

#: The split: of each digit's samples, in file order, every ``TEST_EVERY``-th one
#: (positions 4, 9, 14, … within that digit) is a test sample, the rest are training samples.
#: Stratified (20 % of every class), fixed, and the same on every machine: no random numbers.
TEST_EVERY = 5
N_CLASSES = 10
#: The largest pixel value (a count of 16 pixels in a 4×4 block); X is divided by it.
PIXEL_MAX = 16


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """The raw data: ``(images, labels)``, uint8 arrays of shape (1797, 8, 8) and (1797,)."""
    with resources.files("gdviz").joinpath("_data/digits.npz").open("rb") as file:
        with np.load(file) as stored:
            return stored["images"], stored["labels"]


def _test_mask(labels: np.ndarray) -> np.ndarray:
    """True for the test samples: every TEST_EVERY-th sample of each digit, in file order."""
    mask = np.zeros(len(labels), dtype=bool)
    for digit in range(N_CLASSES):
        where = np.flatnonzero(labels == digit)
        mask[where[TEST_EVERY - 1::TEST_EVERY]] = True
    return mask


def load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits, split for training: ``(X_train, y_train, X_test, y_test)``.

    X is float64 of shape (n, 64), one flattened 8×8 image per row, scaled to [0, 1]
    (pixel count / 16); y holds the digit, an int64 in 0–9. 1,442 training and 355 test
    samples; every digit is 20 % test (see :data:`TEST_EVERY`). Loads offline, from the package.
    """
    images, labels = digit_images()
    X = images.reshape(len(images), -1).astype(np.float64) / PIXEL_MAX
    y = labels.astype(np.int64)
    test = _test_mask(y)
    return X[~test], y[~test], X[test], y[test]
