"""What the explorer keeps: the :class:`Settings` a picture depends on (the value of every
control) and the pictures already sent, by those settings (:class:`PictureCache`), so that a
setting seen before is sent again without running or drawing anything."""
from __future__ import annotations

import dataclasses
from collections import OrderedDict

__all__ = ["Settings", "Picture", "PictureCache"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything one picture and its readout depend on: the value of every control (the
    surface and schedule by their menu keys). The key of the explorer's picture cache; the
    runs and the drawing read the controls only through it."""
    surface: str
    start: tuple[float, float]
    steps: int
    noise: float
    schedule: str
    hyperparameters: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    shown_step: int

    def values(self, optimizer: str) -> dict[str, float]:
        return dict(dict(self.hyperparameters)[optimizer])

    def runs(self) -> "Settings":
        """What the runs depend on (all but the step shown)."""
        return dataclasses.replace(self, shown_step=-1)

    def with_value(self, optimizer: str, name: str, value: float) -> "Settings":
        """These settings with one hyperparameter slider at ``value``."""
        return dataclasses.replace(self, hyperparameters=tuple(
            (opt, tuple((n, value if (opt, n) == (optimizer, name) else v) for n, v in hps))
            for opt, hps in self.hyperparameters))


@dataclasses.dataclass(frozen=True)
class Picture:
    png: bytes
    readout: str
    palette: tuple          # (background key, palette) it was encoded with (figure.palette)

    @property
    def nbytes(self) -> int:
        return len(self.png) + len(self.readout)


class PictureCache:
    """Pictures by settings, least recently used first, at most ``max_bytes`` of them."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._pictures: OrderedDict[Settings, Picture] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pictures)

    def get(self, settings: Settings) -> Picture | None:
        picture = self._pictures.get(settings)
        if picture is not None:
            self._pictures.move_to_end(settings)
        return picture

    def has_room(self) -> bool:
        """Room for one more picture of the average size, without letting one go."""
        return self.nbytes + self.nbytes / max(len(self._pictures), 1) <= self.max_bytes

    def put(self, settings: Settings, picture: Picture) -> None:
        self.discard(settings)
        self._pictures[settings] = picture
        self.nbytes += picture.nbytes
        while self.nbytes > self.max_bytes and len(self._pictures) > 1:
            self.nbytes -= self._pictures.popitem(last=False)[1].nbytes

    def discard(self, settings: Settings) -> None:
        old = self._pictures.pop(settings, None)
        if old is not None:
            self.nbytes -= old.nbytes

    def clear(self) -> None:
        self._pictures.clear()
        self.nbytes = 0
