"""``python -m pipelines.ui``: the Dagster UI on 127.0.0.1 against a running sandbox, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from pipelines.local import PROJECT_ROOT, local_environment, prepare_dagster_home


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, then ``dagster dev`` bound to loopback with a project-local DAGSTER_HOME."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.ui", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAGSTER_UI_PORT", "3000")))
    parser.add_argument("--scale", default="S", choices=["S", "M", "L"])
    args = parser.parse_args(argv)

    from sandbox.launcher import connector_env, running_sandbox

    env = {**os.environ, **local_environment()}
    prepare_dagster_home(Path(env["DAGSTER_HOME"]))
    with running_sandbox(scale=args.scale) as sandbox:
        env.update(connector_env(sandbox.url))
        print(f"Sandbox at {sandbox.url}; Dagster UI at http://127.0.0.1:{args.port}", flush=True)
        command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml",
                   "-h", "127.0.0.1", "-p", str(args.port)]
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        try:
            return subprocess.call(command, env=env, cwd=PROJECT_ROOT)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
