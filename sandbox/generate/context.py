"""State shared by the record builders of one generation or advance run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..dataset import Dataset
from .fastrand import below, between
from .ids import SalesforceIds, Sequence
from .timefmt import DAY


@dataclass
class Context:
    """The dataset being filled, the seed every random stream derives from, and the time frame.

    ``clock`` and ``start`` are epoch seconds; ``misalignments`` collects the planted
    disagreements that cannot be read off the ground-truth tables alone.
    """

    dataset: Dataset
    seed: int | str
    clock: int
    start: int
    misalignments: list[dict] = field(default_factory=list)
    _sf_ids: dict[str, SalesforceIds] = field(default_factory=dict)
    _sequences: dict[str, Sequence] = field(default_factory=dict)

    @property
    def clock_day(self) -> int:
        """Day number of the clock."""
        return self.clock // DAY

    def rng(self, name: str) -> random.Random:
        """An independent random stream for one concern; the same name always gives the same stream."""
        return random.Random(f"{self.seed}:{name}")

    def table(self, api: str, obj: str) -> list[dict]:
        """The dataset's records of one object."""
        return self.dataset.table(api, obj)

    def sf_ids(self, obj: str, start: int | None = None) -> SalesforceIds:
        """The id factory of a Salesforce object (created on first use, numbering from ``start``)."""
        factory = self._sf_ids.get(obj)
        if factory is None:
            rng = self.rng(f"ids:{obj}")
            if start is None:
                start = 62**5 * between(rng, 2, 30) + below(rng, 62**5 // 2)
            factory = self._sf_ids[obj] = SalesforceIds(rng, obj, start)
        return factory

    def sequence(self, name: str, start: int, max_gap: int = 1) -> Sequence:
        """A named numeric id sequence (created on first use)."""
        sequence = self._sequences.get(name)
        if sequence is None:
            sequence = self._sequences[name] = Sequence(self.rng(f"seq:{name}"), start, max_gap)
        return sequence

    def note(self, kind: str, source_system: str, source_record_id: str | None, detail: str) -> None:
        """Record a planted misalignment."""
        self.misalignments.append({"kind": kind, "source_system": source_system,
                                   "source_record_id": source_record_id, "detail": detail})
