"""Refresh tokens a source rotated, kept on disk so that the next run starts from the newest one.

A source with refresh-token rotation (a Salesforce connected app with rotation enabled) answers every refresh grant
with a new refresh token and revokes the one just used: a run that starts again from the configured token is refused
with ``invalid_grant``. :class:`RefreshTokenStore` keeps the newest token of one source in ``<folder>/<source>.json``
(owner-only: the file 0600 in a folder created 0700), replaced atomically. The file names the configured token the
chain descends from by its SHA-256 only, so a new configured token (a re-authorization) is used as it is, and its
own first rotation replaces the old chain. Plain Python: the caller chooses the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.redact import get_logger, register_secret

log = get_logger("connectors.token_store")

#: The store's file and folder are readable and writable by their owner only.
FILE_MODE, FOLDER_MODE = 0o600, 0o700


def fingerprint(token: str) -> str:
    """The hex SHA-256 of `token`: names the configured token a chain descends from, without keeping it."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RefreshTokenStore:
    """The newest refresh token of one `source`, rotated from a configured one, in a file of `folder`."""

    folder: Path
    source: str

    @property
    def path(self) -> Path:
        """The store's file: ``<folder>/<source>.json``."""
        return Path(self.folder) / f"{self.source}.json"

    def latest(self, configured: str) -> str:
        """The newest token rotated from `configured`; `configured` itself when none is stored, when the stored
        chain descends from another configured token, or when the file cannot be read (logged, the path only)."""
        stored = self._read()
        if stored is None:
            return configured
        if stored.get("descends_from_sha256") != fingerprint(configured) or not stored.get("refresh_token"):
            log.info("%s: the refresh token stored in %s descends from another configured token; using the "
                     "configured one (its first rotation replaces the stored one)", self.source, self.path)
            return configured
        register_secret(stored["refresh_token"])
        log.info("%s: using the refresh token rotated at %s, stored in %s", self.source,
                 stored.get("rotated_at", "an unknown time"), self.path)
        return stored["refresh_token"]

    def save(self, configured: str, rotated: str) -> None:
        """Keep `rotated` as the newest token descending from `configured`, replacing whatever the file held.

        An `OSError` (no room, no permission) reaches the caller: the token it just used is revoked.
        """
        register_secret(rotated)
        record = {"source": self.source, "descends_from_sha256": fingerprint(configured), "refresh_token": rotated,
                  "rotated_at": datetime.now(UTC).isoformat(timespec="seconds")}
        write_private(self.path, json.dumps(record, indent=2) + "\n")

    def _read(self) -> dict | None:
        """The stored record; None when there is none, or it cannot be read or is not a JSON object (logged)."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # the error's type only: a decoding error may quote the file's text
            log.warning("%s: the refresh token store %s cannot be read (%s); using the configured refresh token",
                        self.source, self.path, type(exc).__name__)
            return None
        if not isinstance(record, dict):
            log.warning("%s: the refresh token store %s holds no JSON object; using the configured refresh token",
                        self.source, self.path)
            return None
        return record


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only, through a temporary file in the same folder and a rename:
    a reader (or a crash) sees the old file or the new one, never half of one. The folder is created 0700."""
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), FILE_MODE)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry list, so the rename survives a power loss."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
