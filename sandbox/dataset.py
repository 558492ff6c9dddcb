"""The sandbox's data: every record of every emulated API, held in the API's own wire format.

A :class:`Dataset` is what the emulators serve. It is produced by the generator
(``sandbox.generate``) or read from a folder given with ``--dataset DIR`` (one JSON-lines
file per object, ``DIR/<api>/<object>.jsonl``), and it can be written back to such a folder.

Records are kept exactly as the API would put them on the wire, in the API's own field
names (Salesforce ``SystemModstamp`` strings with ``+0000`` offsets, HubSpot string
properties, Google Ads GAQL field paths, ...). Every timestamp format used here is
fixed-width UTC, so string comparison orders records in time, which the emulators rely on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

#: The APIs the sandbox emulates, and the objects each one serves.
APIS: dict[str, tuple[str, ...]] = {
    "salesforce": (
        "User", "Account", "Contact", "Lead", "Opportunity", "OpportunityHistory",
        "Campaign", "CampaignMember",
    ),
    "hubspot": (
        "owners", "companies", "contacts", "deals", "pipelines", "associations",
        "marketing_emails", "email_events", "forms", "form_submissions",
    ),
    "google_ads": ("customer", "campaign", "ad_group", "campaign_metrics", "ad_group_metrics"),
    "meta_ads": ("ad_accounts", "campaigns", "adsets", "adset_insights"),
    "linkedin_ads": ("ad_accounts", "campaign_groups", "campaigns", "ad_analytics"),
}

SALESFORCE_DATETIME = "%Y-%m-%dT%H:%M:%S.000+0000"
HUBSPOT_DATETIME = "%Y-%m-%dT%H:%M:%S.%f"  # trimmed to milliseconds and suffixed "Z" by hubspot_datetime()


def salesforce_datetime(moment: datetime) -> str:
    """Format a UTC moment the way Salesforce REST does: ``2024-05-01T09:12:55.000+0000``."""
    return moment.astimezone(UTC).strftime(SALESFORCE_DATETIME)


def hubspot_datetime(moment: datetime) -> str:
    """Format a UTC moment the way HubSpot does: ``2024-05-02T17:45:03.112Z``."""
    return moment.astimezone(UTC).strftime(HUBSPOT_DATETIME)[:-3] + "Z"


@dataclass
class Dataset:
    """All records the sandbox serves, keyed by ``(api, object)``, plus the generator's ground truth.

    ``clock`` is the sandbox's idea of "now" (UTC); time travel moves it forward.
    ``ground_truth`` maps a name (``companies``, ``people``, ``campaigns``) to rows that say
    which source records stand for the same real-world entity.
    """

    clock: datetime
    records: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    ground_truth: dict[str, list[dict]] = field(default_factory=dict)

    def table(self, api: str, obj: str) -> list[dict]:
        """The records of one object, created empty when the dataset has none."""
        return self.records.setdefault((api, obj), [])

    def write(self, folder: Path) -> None:
        """Write the dataset as ``<api>/<object>.jsonl`` files plus ``ground_truth/`` and ``clock.txt``."""
        folder = Path(folder)
        for (api, obj), rows in self.records.items():
            _write_jsonl(folder / api / f"{obj}.jsonl", rows)
        for name, rows in self.ground_truth.items():
            _write_jsonl(folder / "ground_truth" / f"{name}.jsonl", rows)
        (folder / "clock.txt").write_text(self.clock.isoformat() + "\n")

    @classmethod
    def read(cls, folder: Path) -> Dataset:
        """Read a dataset folder written by :meth:`write` or by hand.

        Only files of known APIs are read; unknown objects of a known API are kept, so a
        hand-written dataset can carry extra objects. Without ``clock.txt`` the clock is
        the newest modification stamp found, or now.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"dataset folder {folder} does not exist")
        dataset = cls(clock=datetime.now(UTC))
        for api in APIS:
            for path in sorted((folder / api).glob("*.jsonl")):
                dataset.records[(api, path.stem)] = _read_jsonl(path)
        for path in sorted((folder / "ground_truth").glob("*.jsonl")):
            dataset.ground_truth[path.stem] = _read_jsonl(path)
        clock_file = folder / "clock.txt"
        if clock_file.exists():
            dataset.clock = datetime.fromisoformat(clock_file.read_text().strip()).astimezone(UTC)
        return dataset


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON object: {exc.msg}") from None
    return rows
