"""gdviz.data: the digits load offline, split as documented, and ship inside the package."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz.data import TEST_EVERY, digit_images, load_digits

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "gdviz" / "_data" / "digits.npz"


def test_the_file_is_small():
    assert DATA_FILE.stat().st_size <= 200_000


def test_the_raw_data_is_the_uci_set():
    images, labels = digit_images()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    # The class counts of the UCI optical-digits test set (scikit-learn's load_digits).
    np.testing.assert_array_equal(np.bincount(labels),
                                  [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # Its first row, as in sklearn/datasets/data/digits.csv.gz: a zero.
    np.testing.assert_array_equal(images[0, 1], [0, 0, 13, 15, 10, 15, 5, 0])
    assert labels[0] == 0


def test_shapes_types_and_ranges():
    X_train, y_train, X_test, y_test = load_digits()
    assert X_train.shape == (1442, 64) and X_test.shape == (355, 64)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype.kind == y_test.dtype.kind == "i"
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))


def test_the_split_is_stratified_fixed_and_disjoint():
    X_train, y_train, X_test, y_test = load_digits()
    images, labels = digit_images()
    counts = np.bincount(labels)
    np.testing.assert_array_equal(np.bincount(y_test), counts // TEST_EVERY)
    np.testing.assert_array_equal(np.bincount(y_train) + np.bincount(y_test), counts)
    assert 0.19 <= len(y_test) / len(labels) <= 0.21
    # Every test image is the 5th, 10th, … image of its digit in file order, by pixels.
    for digit in (0, 7):
        own = images[labels == digit].reshape(-1, 64) / 16
        np.testing.assert_array_equal(X_test[y_test == digit], own[TEST_EVERY - 1::TEST_EVERY])
    # Same on every call; no image in both sets.
    again = load_digits()
    np.testing.assert_array_equal(again[0], X_train)
    train_rows = {row.tobytes() for row in X_train}
    shared = sum(row.tobytes() in train_rows for row in X_test)
    duplicates_in_the_source = len(labels) - len({row.tobytes() for row in images.reshape(-1, 64)})
    assert shared <= duplicates_in_the_source


def test_the_data_file_ships_in_the_built_package(tmp_path):
    """Build the package as a wheel would (setuptools' build_py, from pyproject.toml) and load
    the digits from the built copy alone: without the package-data entry the .npz is left out."""
    pytest.importorskip("setuptools")       # the build backend; Python 3.12's venvs lack it by default
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "gdviz", source / "gdviz", ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-W", "ignore", "-c", "import setuptools; setuptools.setup()",
                    "-q", "build_py", "--build-lib", str(built)],
                   cwd=source, check=True, capture_output=True)
    assert (built / "gdviz" / "_data" / "digits.npz").is_file()
    check = ("import gdviz.data as d, pathlib; X, y, Xt, yt = d.load_digits(); "
             "print(pathlib.Path(d.__file__).parent.parent, X.shape[0] + Xt.shape[0])")
    result = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, check=True,
                            capture_output=True, text=True, env={"PYTHONPATH": str(built)})
    where, total = result.stdout.split()
    assert Path(where) == built and total == "1797"
