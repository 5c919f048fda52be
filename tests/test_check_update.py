"""check_update refuses what a student's class must not do (issue 10 #5): rebinding
``params[k] = params[k] - …`` gets its own hint even when the numbers are right, and the number
of steps must be a positive whole number."""
import pytest

from gdviz.exercises import check_update


class InPlaceSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class RebindingSGD(InPlaceSGD):
    """Right numbers, wrong object: the dict gets new arrays, the caller's arrays never change."""

    def update(self, params, grads):
        for key in params:
            params[key] = params[key] - self.lr * grads[key]


class RebindingLater(InPlaceSGD):
    """In place at first, rebinding from the third step on."""

    def __init__(self, lr=0.01):
        super().__init__(lr)
        self.t = 0

    def update(self, params, grads):
        self.t += 1
        if self.t < 3:
            return super().update(params, grads)
        for key in params:
            params[key] = params[key] - self.lr * grads[key]


class DoesNothing(InPlaceSGD):
    def update(self, params, grads):
        pass


def test_in_place_sgd_passes():
    assert check_update(InPlaceSGD, "SGD").status == "passed"


@pytest.mark.parametrize("cls, step", [(RebindingSGD, 1), (RebindingLater, 3)])
def test_rebinding_params_fails_with_its_own_hint(cls, step):
    feedback = check_update(cls, "SGD")
    assert not feedback and feedback.status == "different"
    message = feedback.message
    assert f"step {step}" in message.lower()
    assert "params[key] = params[key] -" in message and "in place" in message and "-=" in message
    assert "never" in message          # says why it matters: the caller's arrays never change


@pytest.mark.parametrize("steps, error", [(0, ValueError), (-3, ValueError), ("10", TypeError),
                                          (2.5, TypeError), (True, TypeError), (None, TypeError)])
def test_steps_must_be_a_positive_whole_number(steps, error):
    with pytest.raises(error) as info:
        check_update(DoesNothing, "SGD", steps=steps)
    assert type(info.value) is error and "steps" in str(info.value) and repr(steps) in str(info.value)


def test_a_class_that_does_nothing_fails_even_for_one_step():
    assert not check_update(DoesNothing, "SGD", steps=1)
    assert check_update(InPlaceSGD, "SGD", steps=1)
