"""Errors a connector raises. Every message is redacted before it is built."""


class SourceError(Exception):
    """A source API refused a request in a way retrying cannot fix (bad query, missing permission)."""


class AuthenticationError(SourceError):
    """The credentials were refused: the connector needs new ones, not a retry."""


class SourceLimitReached(SourceError):
    """The source's daily quota is spent: end the stream cleanly, keep what was read, resume next run."""


class SourceUnavailable(SourceError):
    """The source kept failing (5xx, timeouts, dropped connections) after every retry."""
