"""Shared fixtures: the dbt manifest, a sandbox server, hand-written datasets, an isolated warehouse."""

from __future__ import annotations

import gc
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipelines.local import local_environment, prepare_dagster_home, prepare_dbt_manifest
from sandbox.launcher import RunningSandbox, connector_env, running_sandbox

if TYPE_CHECKING:
    from tests.support.two_nights import TwoNights

if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two workers: each parses dbt into a folder of its own
    os.environ.setdefault("DBT_TARGET_PATH", f"target-{os.environ['PYTEST_XDIST_WORKER']}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) each module runs whole on one worker, so its module fixtures start
    once, and the modules reading the shared two nights run on the same worker, so the nights are built once.

    `make test` hands the groups to the workers in the order of `items` (``--no-loadscope-reorder``): the groups
    with an end-to-end test first, then the groups with the most tests, pytest-xdist's own order. The end-to-end
    modules hold few tests but are the longest (a whole night on PostgreSQL takes minutes): started last, as
    pytest-xdist would start them, one of them keeps a worker busy long after the other ran out of work."""
    groups = {}
    for item in items:
        group = "two_nights" if "two_nights" in item.fixturenames else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
        groups[item] = group
    sizes = Counter(groups.values())
    end_to_end = {group for item, group in groups.items() if item.get_closest_marker("e2e")}
    # A stable sort on a key each group's tests share: they keep their order.
    items.sort(key=lambda item: (groups[item] not in end_to_end, -sizes[groups[item]], groups[item]))


@pytest.fixture(scope="session", autouse=True)
def grouped_by_module(request: pytest.FixtureRequest) -> None:
    """Fail every test when ``--dist loadgroup`` does not group: pytest-xdist 3.8 marks a test's group by renaming
    it ``<nodeid>@<group>``, which pytest 9.2 silently ignores (pytest-xdist#1386). The tests would still pass, each
    module's fixtures set up on both workers and CI a third longer, so nothing else would show it."""
    if request.config.getoption("loadgroup", default=False):
        ungrouped = [item.nodeid for item in request.session.items if "@" not in item.nodeid]
        if ungrouped:
            pytest.fail(f"--dist loadgroup did not group {len(ungrouped)} tests (first: {ungrouped[0]}): pytest and "
                        "pytest-xdist must be the versions constraints.txt pins", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """The dbt manifest the Dagster definitions load (parsed once per session)."""
    return prepare_dbt_manifest()


@pytest.fixture(autouse=True)
def unfrozen_garbage_collector():
    """Each test starts with nothing frozen: a nightly job run in process freezes what survives each of its steps
    (pipelines/lib/memory.py), which is right for a run's own process, not for a test session running many."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def sandbox() -> RunningSandbox:
    """A generated scale-S sandbox shared by tests that only read from it."""
    with running_sandbox(scale="S") as running:
        yield running


@pytest.fixture(scope="session")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> TwoNights:
    """Two nights of the scale-S sandbox (CRM and ad platforms) through the whole dbt project, as closed DuckDB
    snapshots shared by the modules that read them (each works on its own copies): see tests/support/two_nights.py.
    Built only when a test asks for it; the environment it sets is undone before it returns."""
    from tests.support.two_nights import build_two_nights

    folder = tmp_path_factory.mktemp("two_nights")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return build_two_nights(folder, isolated_pipeline_env(folder / "work", monkeypatch))


def write_dataset(folder: Path, objects: dict[tuple[str, str], list[dict]]) -> Path:
    """Write hand-written records as a ``--dataset`` folder (``<api>/<object>.jsonl``)."""
    for (api, obj), rows in objects.items():
        path = folder / api / f"{obj}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


def salesforce_account(number: int, **fields) -> dict:
    """A Salesforce Account record in wire format, numbered so ids and stamps are predictable."""
    stamp = f"2026-01-{1 + number % 28:02d}T{number % 24:02d}:00:00.000+0000"
    return {
        "Id": f"001SANDBOX{number:08d}",
        "Name": f"Company {number} Inc",
        "Type": "Prospect",
        "Industry": "Software",
        "AnnualRevenue": 1000000.5 + number,
        "CurrencyIsoCode": "USD",
        "NumberOfEmployees": 10 + number,
        "Website": f"https://www.company{number}.com/about",
        "BillingCity": "Boston",
        "BillingCountry": "United States",
        "OwnerId": "005SANDBOX00000001",
        "ParentId": None,
        "MasterRecordId": None,
        "IsDeleted": False,
        "CreatedDate": "2025-06-01T08:00:00.000+0000",
        "LastModifiedDate": stamp,
        "SystemModstamp": stamp,
        **fields,
    }


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An isolated warehouse and Dagster home; call the result with a sandbox to point connectors at it."""
    return isolated_pipeline_env(tmp_path, monkeypatch)


def isolated_pipeline_env(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[RunningSandbox], dict[str, str]]:
    """:func:`pipeline_env` under `folder`, set through `monkeypatch` (a module's fixture may hold its own)."""
    environment = local_environment(folder / "warehouse")
    environment["DAGSTER_HOME"] = str(folder / "dagster_home")
    prepare_dagster_home(Path(environment["DAGSTER_HOME"]))
    for key, value in environment.items():
        monkeypatch.setenv(key, value)

    def point_at(running: RunningSandbox) -> dict[str, str]:
        for key, value in connector_env(running.url).items():
            monkeypatch.setenv(key, value)
        return environment

    return point_at
