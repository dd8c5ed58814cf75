"""The validated casebook: what every later stage (derive, render, downloads, the session) works from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from .loader import LoadedFile
from .models import Alliance, Cluster, Indicator, Lesson, Source


@dataclass
class Casebook:
    """A validated casebook: what every later stage (derive, render, site) works from."""

    root: Path
    clusters: dict[str, Cluster] = field(default_factory=dict)
    lessons: dict[str, Lesson] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    alliance: Alliance | None = None
    files: dict[str, LoadedFile] = field(default_factory=dict)  # display path → file
    invalid_ids: set[str] = field(default_factory=set)  # ids of files that failed validation
    unreadable: bool = False  # some file could not be parsed at all
    failed_kinds: set[str] = field(default_factory=set)  # kinds with a file that failed to load

    def counts(self) -> dict[str, int]:
        observations = sum(len(c.observations) for c in self.clusters.values())
        if self.alliance:
            observations += len(self.alliance.observations)
        return {
            "clusters": len(self.clusters),
            "lessons": len(self.lessons),
            "indicators": len(self.indicators),
            "observations": observations,
            "files": len(self.files),
        }


T = TypeVar("T")


class ByModel(Generic[T]):
    """Values made from models, kept by the models' identity from one build to the next.

    A resident preview's loads hand out the same model objects for the files that did not change
    (validate._CHECKED) and never change them once loaded; what is made from such an object alone
    can be made once. Each round (``next_round``) keeps only what it used: never more than one
    casebook's worth, and a model no longer loaded is let go. An object is held while its value
    is, so its identity cannot pass to another."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[object, T]] = {}
        self._now: dict[int, tuple[object, T]] = {}

    def next_round(self) -> None:
        """Start a round: what the last round used is kept for this one, the rest let go."""
        self._last, self._now = self._now, {}

    def clear(self) -> None:
        self._last, self._now = {}, {}

    def get(self, model: object, make: Callable[[], T]) -> T:
        hit = self._now.get(id(model)) or self._last.get(id(model))
        if hit is None or hit[0] is not model:
            hit = (model, make())
        self._now[id(model)] = hit
        return hit[1]
