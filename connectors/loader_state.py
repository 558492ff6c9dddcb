"""The state a loader keeps for one stream, handed to the stream's read.

The raw loader gives each stream's read the stream's saved state and commits what the read wrote
there in the same load as the stream's rows: a per-account cursor written there is saved exactly
when the rows it describes are, and a run that dies keeps none of it. The loader may call a
stream's read in another thread than the one loading it, so the state travels with the call
(a context variable), not with the thread that loads.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar

_STATE: ContextVar[MutableMapping | None] = ContextVar("loader_state", default=None)


def loader_state() -> MutableMapping | None:
    """The loader's state of the stream whose read is being asked for, or None outside a load.

    Call this where the read is asked for (in ``read_pages`` itself), not inside pages that are
    produced later: a generator's body runs in whichever context asks it for the next page.
    """
    return _STATE.get()


@contextmanager
def reading_with(state: MutableMapping) -> Iterator[None]:
    """Ask for a stream's read inside this block to hand it `state` (see :func:`loader_state`)."""
    token = _STATE.set(state)
    try:
        yield
    finally:
        _STATE.reset(token)
