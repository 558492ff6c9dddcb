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
    what was read, resume next run."""


class SourceUnavailable(SourceError):
    """The source kept failing (5xx, timeouts, dropped connections) after every retry."""
