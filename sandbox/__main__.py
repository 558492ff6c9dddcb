"""``python -m sandbox serve [--port] [--scale] [--seed] [--dataset DIR] [--hubspot-burst N ...]`` — start the API
sandbox.

``python -m sandbox generate --scale S --out DIR`` writes a generated dataset to a folder instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    from sandbox.server import SandboxState

    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the emulated APIs on loopback")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    serve_cmd.add_argument("--token-ttl", type=float, default=7200.0, help="access-token lifetime in seconds")
    serve_cmd.add_argument("--page-size", type=int, default=None, help="force every API's page size")
    # Unset, the HubSpot limits are SandboxState's defaults: the Professional / Enterprise tier.
    serve_cmd.add_argument("--hubspot-burst", type=_at_least(0),
                           help=f"HubSpot requests per burst window before a 429 (0: not enforced; default: "
                                f"{SandboxState.hubspot_burst})")
    serve_cmd.add_argument("--hubspot-burst-window-ms", type=_at_least(1),
                           help=f"HubSpot's rolling burst window in milliseconds (default: "
                                f"{SandboxState.hubspot_burst_window_ms})")
    serve_cmd.add_argument("--hubspot-search-per-second", type=_at_least(0),
                           help=f"HubSpot CRM searches per second before a 429 (0: not enforced; default: "
                                f"{SandboxState.hubspot_search_per_second})")
    _data_options(serve_cmd)
    generate_cmd = commands.add_parser("generate", help="write a generated dataset to a folder")
    generate_cmd.add_argument("--out", type=Path, required=True)
    _data_options(generate_cmd)
    args = parser.parse_args(argv)

    dataset = _load_dataset(args)
    if args.command == "generate":
        dataset.write(args.out)
        print(f"wrote dataset to {args.out}")
        return 0

    from sandbox.auth import TokenStore
    from sandbox.server import serve

    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("the sandbox only listens on loopback")
    limits = {name: value for name in ("hubspot_burst", "hubspot_burst_window_ms", "hubspot_search_per_second")
              if (value := getattr(args, name)) is not None}
    state = SandboxState(dataset=dataset, tokens=TokenStore(args.token_ttl), page_size=args.page_size, seed=args.seed,
                         **limits)
    serve(state, host=args.host, port=args.port)
    return 0


def _at_least(lowest: int):
    """An argparse type: a whole number no lower than `lowest`."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {lowest}, not {value}")
        return value

    return whole_number


def _data_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--scale", default="S", choices=["S", "M", "L"])
    command.add_argument("--seed", type=int, default=7)
    command.add_argument("--dataset", type=Path, default=None, help="serve this folder of JSON-lines files")


def _load_dataset(args):
    from sandbox.dataset import Dataset

    if args.dataset is not None:
        return Dataset.read(args.dataset)
    from sandbox.generate import generate

    return generate(scale=args.scale, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
