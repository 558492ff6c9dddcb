"""A sandbox served from a thread of the test's own process, so a test can reach into its state while it serves."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from sandbox.server import SandboxState, build_app, server_config


@contextmanager
def served_in_thread(state: SandboxState) -> Iterator[SandboxState]:
    """Serve `state` on a free loopback port (its `url` set) until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    state.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(server_config(build_app(state)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
