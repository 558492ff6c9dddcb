"""The benchmark harness's correctness gates on small hand-made warehouses (nothing is timed here).

A gate that let a wrong run through would make every reported time meaningless, so each test
feeds the gate a broken case and expects it to be caught, next to the clean case it must pass.
"""

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from benchmarks import checks, harness, report
from benchmarks.checks import AT_LEAST, AT_MOST, EXACT, Expected
from benchmarks.measure import Sampler
from connectors.salesforce.streams import STREAMS as SALESFORCE_STREAMS

MARTS_YML = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts" / "_marts__models.yml"
STATS = {"salesforce/Account": 3, "salesforce/User": 2, "hubspot/contacts": 2, "google_ads/campaign_metrics": 10}


def _warehouse(path: Path, statements: list[str]) -> Path:
    with duckdb.connect(str(path)) as connection:
        for statement in statements:
            connection.execute(statement)
    return path


@pytest.fixture
def raw_warehouse(tmp_path: Path):
    """A warehouse with raw_salesforce.account and raw_hubspot.contacts; rows given per test."""

    def build(accounts: list[str], contacts: list[str]) -> Path:
        values = lambda ids: ", ".join(f"({i})" for i in ids)  # noqa: E731
        statements = ["create schema raw_salesforce", "create schema raw_hubspot",
                      "create schema raw_salesforce_staging",
                      "create table raw_salesforce.account (id varchar)",
                      "create table raw_salesforce._dlt_loads (load_id varchar)",
                      "create table raw_salesforce_staging.account (id varchar)",
                      "insert into raw_salesforce_staging.account values ('x'), ('x')",
                      "create table raw_hubspot.contacts (id varchar)"]
        if accounts:
            statements.append(f"insert into raw_salesforce.account values {values(accounts)}")
        if contacts:
            statements.append(f"insert into raw_hubspot.contacts values {values(contacts)}")
        return _warehouse(tmp_path / "warehouse.duckdb", statements)

    return build


KEYS = {"raw_salesforce.account": ["id"], "raw_hubspot.contacts": ["id"]}


def test_a_correct_warehouse_passes(raw_warehouse):
    warehouse = raw_warehouse(["'a'", "'b'", "'c'"], ["'1'", "'2'"])
    problems, counts = checks.warehouse_problems(warehouse, STATS, KEYS)
    assert problems == []
    # dlt's own tables and the staging schema are not data
    assert counts == {"raw_salesforce.account": 3, "raw_hubspot.contacts": 2}


def test_a_duplicate_key_fails_even_when_the_count_is_right(raw_warehouse):
    warehouse = raw_warehouse(["'a'", "'b'", "'b'"], ["'1'", "'2'"])
    problems, _ = checks.warehouse_problems(warehouse, STATS, KEYS)
    assert problems == ["raw_salesforce.account: 1 duplicated values of (id), 1 extra rows"]


def test_a_null_key_fails(raw_warehouse):
    warehouse = raw_warehouse(["'a'", "'b'", "null"], ["'1'", "'2'"])
    problems, _ = checks.warehouse_problems(warehouse, STATS, KEYS)
    assert problems == ["raw_salesforce.account: 1 rows with a null (id)"]


def test_missing_rows_fail(raw_warehouse):
    warehouse = raw_warehouse(["'a'", "'b'"], ["'1'", "'2'"])
    problems, _ = checks.warehouse_problems(warehouse, STATS, KEYS)
    assert problems == ["raw_salesforce.account: 2 rows, the source has 3"]


def test_extra_rows_fail_on_a_first_load_but_not_after_merges_in_hubspot(raw_warehouse):
    warehouse = raw_warehouse(["'a'", "'b'", "'c'"], ["'1'", "'2'", "'3'"])
    first_load, _ = checks.warehouse_problems(warehouse, STATS, KEYS)
    assert first_load == ["raw_hubspot.contacts: 3 rows, the source has 2"]
    later, _ = checks.warehouse_problems(warehouse, STATS, KEYS, after_first_load=True)
    assert later == []


def test_a_missing_table_fails(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb", ["create schema raw_salesforce",
                                                   "create table raw_salesforce.account (id varchar)",
                                                   "insert into raw_salesforce.account values ('a'), ('b'), ('c')"])
    keys = {**KEYS, "raw_salesforce.user": ["id"]}
    problems, _ = checks.warehouse_problems(warehouse, STATS, keys)
    assert "raw_salesforce.user: missing" in problems
    assert "raw_salesforce.user: 0 rows, the source has 2" in problems


def test_count_rules():
    expected = checks.expected_rows(["raw_salesforce.account", "raw_hubspot.contacts",
                                     "raw_google_ads.campaign_daily_metrics", "raw_somewhere.unknown"], STATS)
    assert expected == {"raw_salesforce.account": Expected(3, EXACT), "raw_hubspot.contacts": Expected(2, EXACT),
                        "raw_google_ads.campaign_daily_metrics": Expected(10, AT_MOST)}
    assert checks.expected_rows(["raw_hubspot.contacts"], STATS, after_first_load=True) == {
        "raw_hubspot.contacts": Expected(2, AT_LEAST)}
    # a table read whole keeps, flagged, a record the source no longer returns
    assert checks.expected_rows(["raw_google_ads.campaigns"], {"google_ads/campaign": 4}) == {
        "raw_google_ads.campaigns": Expected(4, EXACT)}
    assert checks.expected_rows(["raw_google_ads.campaigns"], {"google_ads/campaign": 4}, after_first_load=True) == {
        "raw_google_ads.campaigns": Expected(4, AT_LEAST)}
    assert "raw_google_ads.campaign_daily_metrics: 0 rows, expected between 1 and the source's 10" in (
        checks.count_problems({"raw_google_ads.campaign_daily_metrics": 0}, expected))
    assert checks.count_problems({"raw_google_ads.campaign_daily_metrics": 11},
                                 {"raw_google_ads.campaign_daily_metrics": Expected(10, AT_MOST)})
    assert not checks.count_problems({"raw_google_ads.campaign_daily_metrics": 7},
                                     {"raw_google_ads.campaign_daily_metrics": Expected(10, AT_MOST)})


def test_raw_keys_come_from_the_declared_streams():
    keys = checks.raw_keys_from_streams({"salesforce": SALESFORCE_STREAMS})
    assert keys["raw_salesforce.account"] == ["id"]
    assert keys["raw_salesforce.opportunity_history"] == ["id"]


def test_mart_grains_are_read_from_the_dbt_project():
    grains = checks.mart_grains(MARTS_YML)
    assert (["account_id"], False) in grains["accounts"]
    assert (["source_system", "source_record_id"], False) in grains["account_source_records"]
    assert (["date_day", "opportunity_id"], False) in grains["pipeline_daily"]


def test_a_duplicate_grain_in_a_mart_fails(tmp_path):
    grains = {"pipeline_daily": [(["date_day", "opportunity_id"], False)], "accounts": [(["account_id"], False)]}
    clean = _warehouse(tmp_path / "clean.duckdb", [
        "create schema marts", "create table marts.accounts (account_id int)",
        "insert into marts.accounts values (1), (2)",
        "create table marts.pipeline_daily (date_day date, opportunity_id int)",
        "insert into marts.pipeline_daily values ('2026-01-01', 1), ('2026-01-02', 1), ('2026-01-01', 2)"])
    with duckdb.connect(str(clean), read_only=True) as connection:
        assert checks.mart_problems(connection, grains) == []
    broken = _warehouse(tmp_path / "broken.duckdb", [
        "create schema marts", "create table marts.accounts (account_id int)",
        "create table marts.pipeline_daily (date_day date, opportunity_id int)",
        "insert into marts.pipeline_daily values ('2026-01-01', 1), ('2026-01-01', 1)"])
    with duckdb.connect(str(broken), read_only=True) as connection:
        assert checks.mart_problems(connection, grains) == [
            "marts.pipeline_daily: 1 duplicated values of (date_day, opportunity_id), 1 extra rows"]


def test_a_snapshot_that_differs_from_the_marts_in_rows_fails(raw_warehouse, tmp_path):
    grains = {"accounts": [(["account_id"], False)]}
    warehouse = raw_warehouse(["'a'", "'b'", "'c'"], ["'1'", "'2'"])
    _warehouse(warehouse, ["create schema marts", "create table marts.accounts as select range as account_id "
                                                  "from range(3)"])
    snapshot = _warehouse(tmp_path / "analytics.duckdb", [
        "create schema marts", "create table marts.accounts as select range as account_id from range(2)"])
    problems, _ = checks.warehouse_problems(warehouse, STATS, KEYS, grains=grains, analytics=snapshot)
    assert problems == ["published marts.accounts: 2 rows, the warehouse has 3"]


def test_a_floor_sample_that_missed_pages_is_not_valid():
    tables = ["raw_hubspot.contacts", "raw_salesforce.account"]
    expected = checks.expected_rows(tables, STATS)
    good = {"rows": {"account": 3, "contacts": 2}, "seconds": {"salesforce": 1.0, "hubspot": 1.0}}
    harness._gate_extract(good, "floor", expected, {}, tables)
    assert good["valid"] and good["rows_per_second"] == 2.5
    short = {"rows": {"account": 3, "contacts": 1}, "seconds": {"salesforce": 0.5, "hubspot": 0.5}}
    harness._gate_extract(short, "floor", expected, {}, tables)
    assert not short["valid"]
    crashed = {"error": "worker exited with 1"}
    harness._gate_extract(crashed, "ours", expected, {}, tables)
    assert not crashed["valid"]


def test_failed_samples_stay_out_of_the_medians():
    samples = [{"valid": True, "seconds": 10.0}, {"valid": False, "seconds": 1.0}, {"valid": True, "seconds": 12.0}]
    assert harness.median_of(samples, ("seconds",)) == 11.0
    assert harness.median_of([{"valid": False, "seconds": 1.0}], ("seconds",)) is None


def test_step_timings_group_into_stages():
    stages = harness.stage_times({"salesforce_raw": 2.0, "hubspot_raw": 3.0, "dbt_models": 10.0, "gx_marts": 1.5,
                                  "gx_raw_hubspot": 0.5, "analytics__published_snapshot": 0.7})
    assert stages == {"sync:salesforce": 2.0, "sync:hubspot": 3.0, "dbt_build": 10.0, "checks": 2.0,
                      "publish": 0.7, "sync:all": 5.0}


def test_targets_are_judged_only_at_the_target_scale():
    results = {"scales": {
        "S": {"extract": {"ours_vs_floor": 0.9, "ours_vs_peer": 3.0, "rows_expected": 100,
                          "tools": {"ours": {"median": {"peak_rss_mb": 300, "seconds": 2.0}}}}},
        "M": {"extract": {"ours_vs_floor": 0.5, "ours_vs_peer": 2.5, "rows_expected": 10_000,
                          "tools": {"ours": {"median": {"peak_rss_mb": 2000, "seconds": 100.0}}}}},
    }}
    verdicts = {(t["scale"], t["target"]): t["verdict"] for t in report.evaluate_targets(results)}
    assert verdicts[("M", "extraction + load >= 80% of the bare fetch loop's rate")] == "missed"
    assert verdicts[("M", "extraction + load >= 2x the peer's throughput")] == "met"
    assert verdicts[("M", "extraction + load peak RSS < 1.5 GB")] == "missed"
    assert verdicts[("S", "extraction + load >= 80% of the bare fetch loop's rate")].startswith("(would be met)")
    slope = next(row for row in report.scaling(results) if row["measure"] == "extract+load ours")
    assert slope["slope"] == pytest.approx(0.849, abs=0.001)  # 50x the time for 100x the rows


def test_only_our_own_costs_are_held_to_the_linear_scaling_target():
    def extract(rows: int, seconds: float) -> dict:
        return {"rows_expected": rows, "tools": {tool: {"median": {"seconds": seconds}}
                                                 for tool in ("floor", "ours", "peer")}}

    results = {"scales": {"S": {"extract": extract(100, 1.0)}, "M": {"extract": extract(10_000, 1000.0)}}}
    measures = {row["measure"] for row in report.scaling(results)}
    assert measures == {"extract+load floor", "extract+load ours", "extract+load peer"}
    judged = {t["target"]: t["verdict"] for t in report.evaluate_targets(results) if t["scale"] == "S->M"}
    assert judged == {"linear or better from S to M: extract+load ours": "missed"}


def test_a_compound_grain_with_a_nullable_column_counts_a_null_as_a_value(tmp_path):
    grain = ["date_day", "platform", "ad_account_id", "platform_campaign_id", "ad_group_id"]
    assert (grain, True) in checks.mart_grains(MARTS_YML)["ad_performance_daily"]
    warehouse = _warehouse(tmp_path / "ads.duckdb", [
        "create schema marts",
        "create table marts.ad_performance_daily (date_day date, platform text, ad_account_id text, "
        "platform_campaign_id text, ad_group_id text)",
        # an ad-group row and the campaign's remainder row (no ad group) of the same day: distinct
        "insert into marts.ad_performance_daily values ('2026-01-01', 'google_ads', '1', 'c1', 'g1'), "
        "('2026-01-01', 'google_ads', '1', 'c1', null)"])
    with duckdb.connect(str(warehouse)) as connection:
        assert checks.mart_problems(connection, {"ad_performance_daily": [(grain, True)]}) == []
        connection.execute("insert into marts.ad_performance_daily values ('2026-01-01', 'google_ads', '1', 'c1', "
                           "null)")
        assert checks.mart_problems(connection, {"ad_performance_daily": [(grain, True)]}) == [
            f"marts.ad_performance_daily: 1 duplicated values of ({', '.join(grain)}), 1 extra rows"]


def test_a_worker_reports_its_own_peak_memory_not_its_parents(tmp_path):
    # The parent holds 400 MB when it starts the worker; Linux keeps that in the child's ru_maxrss across exec.
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys\n"
        "held = bytearray(400 * 2**20)\n"
        "for i in range(0, len(held), 4096): held[i] = 1\n"
        "child = 'from benchmarks.worker import _rss_mb; print(_rss_mb()[\"peak_rss_mb\"])'\n"
        "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, check=True).stdout)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert 0 < float(result.stdout) < 200


def test_a_subprocess_peak_is_its_own_not_the_worker_memory_it_was_forked_from(tmp_path):
    # The worker holds 400 MB when it starts a child that touches 100 MB: the child's ru_maxrss would say 500.
    worker = tmp_path / "worker.py"
    worker.write_text(
        "import subprocess, sys\n"
        "held = bytearray(400 * 2**20)\n"
        "for i in range(0, len(held), 4096): held[i] = 1\n"
        "child = 'import time; used = bytearray(100 * 2**20)\\n"
        "for i in range(0, len(used), 4096): used[i] = 1\\n"
        "time.sleep(1.5)'\n"
        "subprocess.run([sys.executable, '-c', child], check=True)\n"
    )
    process = subprocess.Popen([sys.executable, str(worker)])
    sampler = Sampler(process.pid, sandbox_pid=None, interval=0.1)
    sampler.start()
    try:
        assert process.wait(timeout=60) == 0
    finally:
        sampler.stop()
    assert 100 < sampler.child_peak_mb < 300
    assert sampler.tree_peak_mb > 500


def test_the_range_of_repeated_samples_is_reported_beside_the_median():
    samples = [{"valid": True, "wall_seconds": 10.0, "stages": {"dbt_build": 4.0}},
               {"valid": True, "wall_seconds": 14.0, "stages": {"dbt_build": 6.0}},
               {"valid": False, "wall_seconds": 99.0, "stages": {"dbt_build": 90.0}},
               {"valid": True, "wall_seconds": 11.0, "stages": {"dbt_build": 5.0}}]
    summary = harness._night_summary(samples)
    assert summary["range"] == {"end_to_end_seconds": [10.0, 14.0], "stages": {"dbt_build": [4.0, 6.0]}}
    assert harness.range_of(samples[:1], ("wall_seconds",)) is None
    table = report.markdown({"scales": {"S": {"night": summary}}})
    assert "**11.0 (10.0-14.0)**" in table and "| 5.0 (4.0-6.0) |" in table
    single = report.markdown({"scales": {"S": {"night": harness._night_summary(samples[:1])}}})
    assert "**10.0** |" in single


def test_a_night_names_the_step_in_which_its_memory_peaked():
    import dagster as dg

    from benchmarks.worker import RssTimeline, step_peaks

    @dg.asset
    def small() -> None:
        time.sleep(0.5)

    @dg.asset(deps=[small])
    def large() -> None:
        held = bytearray(300 * 1024 * 1024)
        for i in range(0, len(held), 4096):
            held[i] = 1
        time.sleep(0.5)

    timeline = RssTimeline(interval=0.05)
    timeline.start()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([small, large], instance=instance)
        timeline.stop()
        peaks = step_peaks(timeline, instance.all_logs(result.run_id))
    assert set(peaks) == {"small", "large"}
    assert peaks["large"] - peaks["small"] > 250


def test_the_extraction_is_measured_only_with_hubspots_limits_lifted():
    assert harness.parse_args(["--only", "night,incremental", "--hubspot-limits", "real"]).hubspot_limits == "real"
    assert harness.parse_args([]).hubspot_limits == "lifted"
    with pytest.raises(SystemExit):
        harness.parse_args(["--hubspot-limits", "real"])  # every part, the extraction included


def test_a_sandbox_with_hubspots_limits_lifted_advertises_and_keeps_the_lifted_burst(tmp_path):
    from benchmarks.sandbox_limits import LIFTED
    from sandbox.launcher import running_sandbox
    from tests.conftest import write_dataset
    from tests.connectors.test_crm_acceptance import hubspot_contact
    from tests.support.hubspot import portal_session

    folder = write_dataset(tmp_path, {("hubspot", "contacts"): [hubspot_contact(1, "2026-01-01T00:00:00.000Z")]})
    with running_sandbox(dataset=folder, **LIFTED) as sandbox:
        session = portal_session(sandbox.url)
        answers = [session.get(f"{sandbox.url}/crm/v3/objects/contacts", timeout=10) for _ in range(12)]
        searches = [session.post(f"{sandbox.url}/crm/v3/objects/contacts/search", json={}, timeout=10)
                    for _ in range(12)]
        throttled = sandbox.stats()["throttled"].get("hubspot", 0)
    assert {answer.headers["X-HubSpot-RateLimit-Max"] for answer in answers} == {str(LIFTED["hubspot_burst"])}
    assert [answer.status_code for answer in answers + searches] == [200] * 24
    assert throttled == 0


def test_the_code_digest_reads_the_source_files_and_nothing_dbt_or_a_test_worker_generated(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    source = tmp_path / "connectors" / "client.py"
    source.parent.mkdir()
    source.write_text("PAGE_SIZE = 100\n")
    compiled = tmp_path / "dbt_project" / "target-gw0" / "compiled" / "common_ground"
    (compiled / "dbt_project.yml" / "seeds").mkdir(parents=True)  # dbt compiles folders named like files
    (compiled / "model.sql").write_text("select 1")
    first = harness.tree_digest()

    (compiled / "model.sql").write_text("select 2")
    (tmp_path / "dbt_project" / "target").mkdir()
    (tmp_path / "dbt_project" / "target" / "run.sql").write_text("select 3")
    assert harness.tree_digest() == first
    source.write_text("PAGE_SIZE = 200\n")
    assert harness.tree_digest() != first


def test_the_runs_list_shortens_a_commit_sha_and_keeps_a_described_commit_whole():
    def run(date: str, commit: str) -> dict:
        return {"run": {"date": date, "command": "python -m benchmarks", "git": {"commit": commit, "tree_digest": "d"}}}

    archived = "56aedc6's code (run from a `git archive`)"
    table = report.markdown({"scales": {"S": {"sandbox": run("2026-12-01", archived)},
                                        "M": {"sandbox": run("2026-12-02", "0123456789abcdef" * 2 + "01234567")}}})
    assert f"commit {archived}, code digest d" in table
    assert "commit 0123456789, code digest d" in table
