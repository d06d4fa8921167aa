"""``python -m tools.local_aws serve [--host 127.0.0.1] [--port 0] [--port-file FILE]
[--iam-template PATH]`` runs the emulator; ``python -m tools.local_aws deployment (--suffix S |
--template PATH) [--out DIR]`` synthesizes or reads the stack and writes what the emulator needs to
host it (``deployment.py``)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading

from .hosts import check_loopback


def _write_port_file(path: str, port: int) -> None:
    """Write the port so a reader never sees a partial file: temp file beside it, then rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".port-", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local_aws", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator until SIGTERM or SIGINT")
    serve.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)"
    )
    serve.add_argument(
        "--port-file", help="write the bound port to this file (atomically) once listening"
    )
    serve.add_argument(
        "--iam-template",
        help="enforce IAM as this synthesized template's policies say (default: no enforcement)",
    )
    hosted = sub.add_parser(
        "deployment", help="synthesize (--suffix) or read (--template) the stack; print its names"
    )
    hosted.add_argument("--suffix", help="environment suffix to synthesize the app with")
    hosted.add_argument("--template", help="an already synthesized template to read instead")
    hosted.add_argument("--out", help="folder for the cloud assembly and deployment.json")
    args = parser.parse_args(argv)
    if args.command == "deployment":
        from .deployment import main as deployment_main

        return deployment_main(args.suffix, args.template, args.out)

    try:
        check_loopback(args.host)
    except ValueError as e:
        print(f"local_aws: {e}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"local_aws: --port {args.port}: must be from 0 to 65535", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    from .clock import ControlError
    from .server import LocalAws

    try:
        aws = LocalAws(host=args.host, port=args.port, iam_template=args.iam_template).start()
    except ControlError as e:
        print(f"local_aws: --iam-template {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(
            f"local_aws: cannot listen on {args.host}:{args.port}: {e.strerror or e}",
            file=sys.stderr,
        )
        return 2
    try:
        if args.port_file:
            _write_port_file(args.port_file, aws.port)
        print(f"local_aws listening on {aws.endpoint_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
