"""Results of the raw assets' own asset checks (credential expiry, sync progress)."""

import dagster as dg


def warning_result(check_key: dg.AssetCheckKey, passed: bool, description: str,
                   metadata: dict | None = None) -> dg.AssetCheckResult:
    """A result of the check `check_key`, whose severity is always WARN: what it watches (a credential's expiry
    ahead, a stream behind) is for the alerts, and never blocks a night."""
    return dg.AssetCheckResult(asset_key=check_key.asset_key, check_name=check_key.name, passed=passed,
                               severity=dg.AssetCheckSeverity.WARN, description=description, metadata=metadata)
