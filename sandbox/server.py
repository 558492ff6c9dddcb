"""The sandbox HTTP server: one Starlette app that serves every emulated API plus admin endpoints."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import format_datetime

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox.auth import TokenStore
from sandbox.dataset import Dataset
from sandbox.faults import FaultPlan, FaultRule


@dataclass
class SandboxState:
    """Everything the emulators share: the data, issued tokens, active faults and request counts."""

    dataset: Dataset
    tokens: TokenStore
    faults: FaultPlan = field(default_factory=FaultPlan)
    page_size: int | None = None
    seed: int = 7
    requests_served: dict[str, int] = field(default_factory=dict)
    #: Requests an emulator answered 429 for passing one of its own enforced rate limits (injected faults aside).
    throttled: dict[str, int] = field(default_factory=dict)
    #: HubSpot's enforced limits: requests per burst window of `hubspot_burst_window_ms`, searches per second (0:
    #: not enforced). The default is the Professional / Enterprise tier.
    hubspot_burst: int = 190
    hubspot_burst_window_ms: int = 10_000
    hubspot_search_per_second: int = 5
    url: str = ""


def build_app(state: SandboxState) -> Starlette:
    """The ASGI app: each emulator's routes behind the fault-injection middleware, and `/_sandbox/*`."""
    from sandbox.apis import emulators

    apis = emulators(state)
    for api in apis:
        api.prepare()
    routes = [route for api in apis for route in api.routes()]
    routes += _admin_routes(state, apis)
    return Starlette(routes=routes, middleware=[Middleware(_SandboxDate, state=state),
                                                Middleware(_FaultMiddleware, state=state, apis=apis)])


#: The request line and headers h11 (uvicorn's parser when httptools is missing) reads before it gives up with a 400:
#: above its 16 KiB default, so a URI too long for an API reaches the emulator, which answers as the API would.
REQUEST_HEAD_BYTES = 1 << 20


def server_config(app: Starlette) -> uvicorn.Config:
    """How uvicorn serves the sandbox: quietly, and without its own ``Date`` header (the app sets the sandbox's)."""
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", date_header=False,
                          h11_max_incomplete_event_size=REQUEST_HEAD_BYTES)


class _SandboxDate:
    """Dates every answer at the sandbox's clock, as a real API's answers carry its own time.

    The data stops at that clock, so a client that counts "today" by the platform's clock (the ad
    platforms' restatement windows) reads the days the sandbox has, whatever the date on this machine.
    """

    def __init__(self, app, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message) -> None:
            if message["type"] == "http.response.start":
                stamp = format_datetime(self.state.dataset.clock.astimezone(UTC), usegmt=True).encode()
                headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        await self.app(scope, receive, send_dated)


class _FaultMiddleware(BaseHTTPMiddleware):
    """Counts each API's requests and answers the injected faults.

    An emulator may also refuse a request at its edge, before any fault or route sees it: its optional
    ``edge_refusal(request)`` returns that answer (HubSpot's 414 for a URI too long), or None to let it through.
    """

    def __init__(self, app, state: SandboxState, apis) -> None:
        super().__init__(app)
        self.state = state
        self.apis = apis

    async def dispatch(self, request: Request, call_next) -> Response:
        path = request.url.path
        api = next((a for a in self.apis if path.startswith(a.path_prefixes)), None)
        if api is None:
            return await call_next(request)
        counts = self.state.requests_served
        counts[api.name] = counts.get(api.name, 0) + 1
        edge_refusal = getattr(api, "edge_refusal", None)
        if edge_refusal is not None and (refused := edge_refusal(request)) is not None:
            return refused
        rule = self.state.faults.next_fault(api.name, path)
        if rule is None:
            return await call_next(request)
        if rule.kind == "slow":
            await asyncio.sleep(rule.seconds)
            return await call_next(request)
        if rule.kind == "expire_token":
            self.state.tokens.expire_all(api.name)
            return await call_next(request)
        if rule.kind == "drop":
            return await _dropped_mid_body(await call_next(request))
        return api.fault_response(rule)


async def _dropped_mid_body(response: Response) -> Response:
    """The response's status and headers, then half its body, then a closed connection."""
    body = b"".join([chunk async for chunk in response.body_iterator])

    async def half_then_fail():
        yield body[: len(body) // 2]
        raise ConnectionAbortedError("sandbox fault: connection dropped mid-body")

    headers = dict(response.headers)
    headers["content-length"] = str(len(body))
    return StreamingResponse(half_then_fail(), status_code=response.status_code, headers=headers)


def _admin_routes(state: SandboxState, apis: list) -> list[Route]:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "clock": state.dataset.clock.isoformat()})

    async def stats(_: Request) -> Response:
        counts = {f"{api}/{obj}": len(rows) for (api, obj), rows in state.dataset.records.items()}
        return JSONResponse(
            {"records": counts, "requests": state.requests_served, "throttled": state.throttled,
             "tokens_issued": state.tokens.issued}
        )

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            try:
                state.faults.add(FaultRule.from_json(await request.json()))
            except (ValueError, TypeError, json.JSONDecodeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.faults.describe())

    async def records(request: Request) -> Response:
        """Upsert hand-written records into one object: ``POST /_sandbox/records/{api}/{object}``."""
        from sandbox.apis import upsert_records

        try:
            rows = await request.json()
            changed = upsert_records(state, request.path_params["api"], request.path_params["obj"], rows)
        except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"upserted": changed})

    async def advance(request: Request) -> Response:
        from sandbox.generate import advance as advance_dataset

        days = int(request.query_params.get("days", "1"))
        change_rate = float(request.query_params.get("change_rate", "0.01"))
        summary = advance_dataset(state.dataset, days=days, change_rate=change_rate)
        for api in apis:
            api.prepare()
        return JSONResponse({"clock": state.dataset.clock.isoformat(), "changes": summary})

    return [
        Route("/_sandbox/health", health),
        Route("/_sandbox/stats", stats),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/records/{api}/{obj}", records, methods=["POST"]),
        Route("/_sandbox/advance", advance, methods=["POST"]),
    ]


def serve(state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> None:
    """Bind `host:port` (0 picks a free port), print the base URL on stdout, then serve until stopped.

    The URL line is the first thing written to stdout, once the data is ready and the socket
    listens, so a parent process can read it and start sending requests at once.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    state.url = f"http://{host}:{sock.getsockname()[1]}"
    app = build_app(state)
    print(f"sandbox listening on {state.url}", flush=True)
    try:
        uvicorn.Server(server_config(app)).run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
