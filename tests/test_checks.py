"""Student-facing claims: ``check`` prints ✓ and the sentence, or stops the run with ✗ and the sentence."""
import numpy as np
import pytest

from gdviz.checks import ClaimFailed, check, check_close


def test_true_claim_prints_one_line(capsys):
    assert check(True, "every η below 1 converged (40 runs)") is None
    assert capsys.readouterr().out == "✓ every η below 1 converged (40 runs)\n"


@pytest.mark.parametrize("condition", [False, np.False_, np.array(False), np.array([False]), 0])
def test_false_claim_raises_an_assertion_with_the_sentence(condition, capsys):
    with pytest.raises(ClaimFailed) as info:
        check(condition, "SGD ends 3× lower")
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == "✗ SGD ends 3× lower"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("condition", [np.True_, np.array(True), np.array([[True]]), np.float64(1.0) > 0.5])
def test_numpy_booleans_count(condition, capsys):
    check(condition, "ok")
    assert capsys.readouterr().out == "✓ ok\n"


def test_an_array_of_conditions_must_say_all_or_any():
    with pytest.raises(TypeError, match=r"array of 2 values.*\.all\(\) or \.any\(\)"):
        check(np.array([True, True]), "both")


@pytest.mark.parametrize("sentence", ["", "   ", None, 3])
def test_the_sentence_is_required(sentence):
    with pytest.raises(TypeError, match="sentence"):
        check(True, sentence)


def test_check_close_accepts_within_tolerance_and_reports_the_gap(capsys):
    check_close(0.9048, 0.90476, "rate 0.9048 against 0.9048", rtol=1e-4)
    assert capsys.readouterr().out == "✓ rate 0.9048 against 0.9048\n"
    with pytest.raises(ClaimFailed, match=r"✗ rate .* \(they differ by 0\.01; allowed: rtol=0\.001, atol=0\)"):
        check_close(1.01, 1.0, "rate 1.01 against 1", rtol=1e-3)
    check_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-12]), "both", rtol=0, atol=1e-9)
    with pytest.raises(ClaimFailed):
        check_close(np.nan, 1.0, "a NaN is never close", rtol=1.0)
    with pytest.raises(ValueError, match="shape"):
        check_close([1.0, 2.0], 1.0 + np.zeros(3), "shapes")
    with pytest.raises(ValueError, match="rtol"):
        check_close(1.0, 1.0, "bad", rtol=-1)
