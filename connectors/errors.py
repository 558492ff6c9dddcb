"""Errors a connector raises. Every message is redacted before it is built."""


class SourceError(Exception):
    """A source API refused a request in a way retrying cannot fix (bad query, missing permission).

    `kind` names the cause as the source's classifier saw it (see ``connectors.http.Verdict``), for code that
    decides by the cause rather than by the wording of the message; empty when the classifier named none.
    """

    def __init__(self, *args: object, kind: str = "") -> None:
        super().__init__(*args)
        self.kind = kind


class AuthenticationError(SourceError):
    """The credentials were refused: the connector needs new ones, not a retry."""


class SourceLimitReached(SourceError):
    """The source's daily quota is spent, or it throttles longer than a run waits: end the stream cleanly, keep
    what was read, resume next run.

    `source_wide` says the limit is the whole source's (the app's, account's, org's or token's quota), not the
    one stream's or endpoint's: the source's other streams would meet it too, so a loader does not start them
    this run.
    """

    def __init__(self, *args: object, kind: str = "", source_wide: bool = False) -> None:
        super().__init__(*args, kind=kind)
        self.source_wide = source_wide


class SourceUnavailable(SourceError):
    """The source kept failing (5xx, timeouts, dropped connections) after every retry."""
