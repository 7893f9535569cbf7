"""`python -m commerce_emulator`: serve the emulated Commerce API until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from .apps import emulated_apps, registry_toml
from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REFILLS, EmulatorConfig
from .server import EmulatorServer

CLIENT_ID_ENV = "NAVER_COMMERCE_CLIENT_ID"
CLIENT_SECRET_ENV = "NAVER_COMMERCE_CLIENT_SECRET"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m commerce_emulator", description=__doc__)
    parser.add_argument("--products", type=int, default=1000, help="catalog size (default 1000)")
    parser.add_argument("--seed", type=int, default=42, help="catalog seed (default 42)")
    parser.add_argument(
        "--rate", type=float, default=2.0, help="replenish rate per API in requests/s; burst is twice this (default 2)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (default 8080)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="mean latency added to API responses")
    parser.add_argument("--latency-jitter-ms", type=float, default=0.0, help="standard deviation of that latency")
    parser.add_argument(
        "--token-ttl", type=float, default=10_800, help="access token lifetime in seconds (default 10800)"
    )
    parser.add_argument("--slow-seconds", type=float, default=30.0, help="how long a 'slow' fault holds a request")
    parser.add_argument("--hostile", type=int, default=0,
                        help="add N hostile records after the catalog (commerce_emulator/hostile.py)")
    parser.add_argument("--ready-file", type=Path, help="write the base URL here once listening")
    parser.add_argument("--self-apps", type=int, default=0,
                        help="serve N more SELF apps, self-app-1..N, each with its own catalog and buckets")
    parser.add_argument("--seller-accounts", type=int, default=0,
                        help="serve a SELLER-type app, agency-app, for M sellers ncp_seller_1..M sharing its buckets")
    parser.add_argument("--seller-quota-rate", type=float,
                        help="each seller account's own quota per API in requests/s (429 GW.QUOTA_LIMIT over it)")
    parser.add_argument("--image-folder", type=Path,
                        help="keep the pictures drawn in this folder and serve them from there (shared by processes)")
    parser.add_argument("--refill", choices=REFILLS, default="continuous",
                        help="how the rate-limit buckets refill: continuously, or a second's tokens at each whole "
                             "second as Spring Cloud Gateway's limiter does (default continuous)")
    parser.add_argument("--registry-out", type=Path,
                        help="write a stores file for those apps here once listening (variable names, no secrets; "
                             "the values are commerce_emulator.apps.credentials_env)")
    args = parser.parse_args(argv)
    if args.registry_out is not None and not (args.self_apps or args.seller_accounts):
        parser.error("--registry-out needs --self-apps or --seller-accounts: it lists those apps' stores")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = EmulatorConfig(
        products=args.products,
        seed=args.seed,
        rate=args.rate,
        host=args.host,
        port=args.port,
        client_id=os.environ.get(CLIENT_ID_ENV) or DEFAULT_CLIENT_ID,
        client_secret=os.environ.get(CLIENT_SECRET_ENV) or DEFAULT_CLIENT_SECRET,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        token_ttl_seconds=args.token_ttl,
        slow_seconds=args.slow_seconds,
        hostile=args.hostile,
        apps=emulated_apps(args.self_apps, args.seller_accounts),
        seller_quota_rate=args.seller_quota_rate,
        image_folder=args.image_folder,
        refill=args.refill,
    )
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_requested.set())

    server = EmulatorServer(config).start()
    try:
        # The client secret and tokens are never printed: logs of this line end up in CI artefacts.
        print(
            f"commerce emulator listening on {server.base_url} "
            f"(client_id={config.client_id}, products={config.products}, rate={config.rate:g}/s)",
            flush=True,
        )
        for app in config.apps:
            shown = ", ".join(app.accounts[:5]) + (f" and {len(app.accounts) - 5} more" if len(app.accounts) > 5 else "")
            sellers = f" for sellers {shown}" if app.accounts else ""
            if app.accounts and config.seller_quota_rate is not None:
                sellers += f" (quota {config.seller_quota_rate:g}/s per seller and API)"
            print(f"  also app client_id={app.client_id}{sellers}", flush=True)
        if args.registry_out is not None:
            _write_atomically(args.registry_out, registry_toml(config.apps, server.base_url))
        if args.ready_file is not None:
            _write_atomically(args.ready_file, server.base_url + "\n")
        while not stop_requested.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Readers polling for the file never see it half-written."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


if __name__ == "__main__":
    sys.exit(main())
