"""``python -m emulator``: run the emulator on its own, e.g. for the demo or by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--no-limits", action="store_true", help="start with Telegram's flood limits switched off"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, limits=not args.no_limits))


if __name__ == "__main__":
    main()
