"""Freshness policies (the 1.12+ API): a raw table or mart that missed its night shows in the UI.

Everything is rebuilt by the 02:00 nightly run, so an asset is fresh when it was materialized within
a day plus the run's length. One missed night warns (``FRESHNESS_WARN_HOURS``, default 26) and turns
into a failure later that day (``FRESHNESS_FAIL_HOURS``, default 36). Dagster's freshness daemon
evaluates the policies (on by default since 1.12).
"""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg

FRESHNESS_LAYERS = ("raw", "marts")


def nightly_policy() -> dg.FreshnessPolicy:
    """The policy of an asset the nightly job materializes."""
    warn = timedelta(hours=float(os.environ.get("FRESHNESS_WARN_HOURS") or 26))
    fail = timedelta(hours=float(os.environ.get("FRESHNESS_FAIL_HOURS") or 36))
    return dg.FreshnessPolicy.time_window(fail_window=max(fail, warn + timedelta(minutes=1)), warn_window=warn)


def with_freshness_policies(definitions: dg.Definitions) -> dg.Definitions:
    """`definitions` with the nightly policy on every raw and mart asset (a policy set in code wins)."""
    policy = nightly_policy()
    return definitions.permissive_map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, policy, overwrite_existing=False),
        selection=dg.AssetSelection.key_prefixes(*[[layer] for layer in FRESHNESS_LAYERS]),
    )
