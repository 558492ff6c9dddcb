"""The dbt resource knows dbt's version without running `dbt --version` (1.5 s) before every build."""

import re
import subprocess

import dagster_dbt.core.resource as dagster_dbt_resource
import pytest
from packaging import version

from pipelines.defs.transform.project import DBT_EXECUTABLE, dbt_cli, dbt_project


@pytest.fixture
def no_version_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """dagster-dbt's `dbt --version` call fails the test."""
    def refuse(command, *args, **kwargs):
        raise AssertionError(f"ran {command}")
    monkeypatch.setattr(dagster_dbt_resource, "check_output", refuse)


def test_the_version_is_the_one_dbt_prints(no_version_command) -> None:
    printed = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", printed).group(1)

    assert dbt_cli()._cli_version == version.parse(installed)


def test_a_command_runs_without_asking_dbt_its_version(no_version_command, tmp_path) -> None:
    invocation = dbt_cli().cli(["parse", "--quiet"], target_path=tmp_path / "target")

    assert invocation.wait().is_successful()
    assert (tmp_path / "target" / "manifest.json").exists()


def test_another_dbt_executable_is_still_asked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Only the dbt beside this Python is the installed dbt-core package; another one may be any version."""
    asked = []
    def answer(command, *args, **kwargs):
        asked.append(command)
        return b"Core:\n  - installed: 2.0.0-beta.1\n"
    monkeypatch.setattr(dagster_dbt_resource, "check_output", answer)
    other = tmp_path / "bin" / "dbt"  # the resource requires an executable file there
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)

    resource = type(dbt_cli())(project_dir=dbt_project, dbt_executable=str(other))

    assert resource._cli_version.major == 2
    assert asked == [[str(other), "--version"]]
