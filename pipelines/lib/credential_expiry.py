"""The asset check that warns ahead of a source's refresh token expiring (LinkedIn's live 365 days from the member's
original consent and refreshing does not extend them): it fails with severity WARN `CREDENTIAL_WARNING_SETTING` days
ahead, so the check-failure alert asks for a re-authorization while a night can still sync."""

from datetime import UTC, datetime

import dagster as dg

from pipelines.lib.check_results import warning_result
from pipelines.lib.settings import whole_days

#: The asset check that warns ahead of a source's refresh token expiring.
CREDENTIAL_CHECK = "refresh_token_lifetime"
#: The setting: how many days ahead of that expiry the check starts failing (with severity WARN).
CREDENTIAL_WARNING_SETTING = "CREDENTIAL_EXPIRY_WARNING_DAYS"
DEFAULT_CREDENTIAL_WARNING_DAYS = 14


def credential_warning_days() -> int:
    """``CREDENTIAL_EXPIRY_WARNING_DAYS``: whole days (0 or more, default 14) ahead of a refresh token's expiry at
    which its check starts failing; a `ValueError` naming the variable otherwise."""
    return whole_days(CREDENTIAL_WARNING_SETTING, DEFAULT_CREDENTIAL_WARNING_DAYS)


def credential_expiry_result(check_key: dg.AssetCheckKey, source: str, expires_at: datetime | None,
                             warning_days: int, setting: str, now: datetime) -> dg.AssetCheckResult:
    """The `CREDENTIAL_CHECK` result: failed (WARN) when `expires_at` is `warning_days` days from `now` or fewer,
    counted in UTC calendar days; passed when it is further, or unknown (no token refresh of the run said).

    `setting` names the environment variable a re-authorization's new refresh token goes into. Only the expiry
    is reported, never the token.
    """
    if expires_at is None:
        return warning_result(check_key, True, f"The {source} refresh token's expiry is unknown: no token refresh "
                                               "of this run said when it expires.",
                              {"expires_at": dg.MetadataValue.text("unknown"), "warning_days": warning_days})
    expiry_day = expires_at.astimezone(UTC).date()
    days_left = (expiry_day - now.astimezone(UTC).date()).days
    passed = days_left > warning_days
    when = f"{_in_days(days_left)} ({expiry_day.isoformat()})"
    if passed:
        description = (f"The {source} refresh token expires {when}, more than the {warning_days} days "
                       f"{CREDENTIAL_WARNING_SETTING} warns ahead.")
    else:
        description = (f"The {source} refresh token expires {when}: re-authorize the app before then and put the "
                       f"new refresh token in {setting} (refreshing does not extend it).")
    return warning_result(check_key, passed, description, {"expires_at": dg.MetadataValue.timestamp(expires_at),
                                                           "days_left": days_left, "warning_days": warning_days})


def _in_days(days: int) -> str:
    """``in 9 days``, ``in 1 day``, ``today``; ``2 days ago`` for a day already past."""
    if days == 0:
        return "today"
    count = f"{abs(days)} day{'s' if abs(days) != 1 else ''}"
    return f"in {count}" if days > 0 else f"{count} ago"


def credential_check_spec(source: str, check_key: dg.AssetCheckKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        check_key.name, asset=check_key.asset_key,
        description=f"Warns while there is time to re-authorize: fails (WARN) once the {source} refresh token "
                    f"expires within {CREDENTIAL_WARNING_SETTING} days (default {DEFAULT_CREDENTIAL_WARNING_DAYS}).")


def credential_not_checked(check_key: dg.AssetCheckKey, source: str, status: str) -> dg.AssetCheckResult:
    """A skipped source's check: passed, as the source is not synced and its credentials not used."""
    return warning_result(check_key, True, f"Not checked: {source} is {status}.")


def expiry_metadata(expires_at: datetime | None) -> dg.MetadataValue:
    return dg.MetadataValue.timestamp(expires_at) if expires_at is not None else dg.MetadataValue.text("unknown")


def refresh_token_setting(resource) -> str:
    """The environment variable of the resource's refresh token (a name, never the value)."""
    return getattr(resource, "ENVIRONMENT", {}).get("refresh_token", "the source's refresh token setting")
