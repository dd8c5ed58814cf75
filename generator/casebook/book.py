"""The validated casebook: what every later stage (derive, render, downloads, the session) works from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
