"""The Commerce API emulator as a child process, and its HTTP controls.

A separate process has its own GIL, so the emulator's work does not slow the client measured,
the way a real API's would not. Every scenario starts a fresh one: fresh token buckets.

With `self_apps`/`seller_accounts` it serves a fleet of apps (commerce_emulator.apps.emulated_apps,
the same apps, credentials and seeds as the CLI's `--self-apps`/`--seller-accounts`). The CLI sizes
every catalog at `--products`; a fleet whose sellers' catalogs are sized apart (`seller_products`)
is served by `python -m benchmarks.emulator_process` instead (`serve_fleet` below).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from commerce_emulator import EmulatedApp, EmulatorConfig, EmulatorServer, emulated_apps

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 120.0


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call was refused."""


class EmulatorProcess:
    """`python -m commerce_emulator` on a free loopback port; use as a context manager."""

    def __init__(
        self,
        *,
        products: int,
        rate: float,
        seed: int = 42,
        latency_ms: float = 0.0,
        latency_jitter_ms: float = 0.0,
        self_apps: int = 0,
        seller_accounts: int = 0,
        seller_products: int | None = None,
        image_folder: Path | None = None,
        refill: str = "continuous",
    ) -> None:
        self.products = products
        self.refill = refill  # how its buckets refill (commerce_emulator.config.REFILLS)
        self.image_folder = image_folder  # pictures served from this folder (commerce_emulator.images.ImageShelf)
        self.rate = rate
        self.seed = seed
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
        self.self_apps = self_apps
        self.seller_accounts = seller_accounts
        self.seller_products = seller_products
        # The apps beside the default one; their credentials are commerce_emulator.credentials_env(apps).
        self.apps: tuple[EmulatedApp, ...] = fleet_apps(self_apps, seller_accounts, seller_products)
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._controls: httpx.Client | None = None

    @property
    def root_url(self) -> str:
        """The server's root: the API is under `/external`, images under `/images`."""
        return self.base_url.removesuffix("/external")

    def start(self) -> EmulatorProcess:
        self._scratch = tempfile.TemporaryDirectory(prefix="bench-emulator-")
        ready = Path(self._scratch.name) / "ready"
        # The CLI has no seller catalog size of its own: such a fleet is served by serve_fleet below.
        module = "commerce_emulator" if self.seller_products is None else "benchmarks.emulator_process"
        command = [
            sys.executable, "-m", module, "--products", str(self.products), "--rate", f"{self.rate:g}",
            "--seed", str(self.seed), "--port", "0", "--ready-file", str(ready),
        ]
        if self.latency_ms or self.latency_jitter_ms:
            command += ["--latency-ms", f"{self.latency_ms:g}", "--latency-jitter-ms", f"{self.latency_jitter_ms:g}"]
        if self.image_folder is not None:
            command += ["--image-folder", str(self.image_folder)]
        if self.refill != "continuous":
            command += ["--refill", self.refill]
        if self.self_apps:
            command += ["--self-apps", str(self.self_apps)]
        if self.seller_accounts:
            command += ["--seller-accounts", str(self.seller_accounts)]
        if self.seller_products is not None:
            command += ["--seller-products", str(self.seller_products)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not (ready.exists() and ready.read_text().strip()):
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise EmulatorError(f"the emulator exited with code {self.process.returncode}: {error[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(f"the emulator was not ready within {READY_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.02)
        self.base_url = ready.read_text().strip()
        self._controls = httpx.Client(base_url=f"{self.root_url}/_emulator", timeout=30.0)
        return self

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the emulator's process has used so far."""
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self._controls is not None:
            self._controls.close()
            self._controls = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- controls ---------------------------------------------------------------------------

    def _control(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._controls is None:
            raise EmulatorError("the emulator is not running")
        response = self._controls.request(method, f"/{action}", json=body)
        if response.status_code != 200:
            raise EmulatorError(f"{method} /_emulator/{action} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def modify(self, fraction: float, seed: int = 0) -> list[int]:
        """Bump modifiedDate (and price, stock) of `fraction` of the live products."""
        return list(self._control("POST", "modify", {"fraction": fraction, "seed": seed})["modified"])

    def set_rate(self, rate: float, api: str | None = None, client_id: str | None = None) -> None:
        """Change the replenish rate (of every app's buckets, or of `client_id`'s); the buckets
        restart full at the new burst."""
        body: dict[str, Any] = {"rate": rate}
        if api is not None:
            body["api"] = api
        if client_id is not None:
            body["client_id"] = client_id
        self._control("POST", "rate", body)

    def set_latency(self, mean_ms: float, jitter_ms: float = 0.0) -> None:
        self._control("POST", "latency", {"mean_ms": mean_ms, "jitter_ms": jitter_ms})

    def stats(self) -> dict[str, Any]:
        """What the server answered: {"requests": {api: {status: n}}, ..., "apps": {client_id: {...}}}."""
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("POST", "reset-stats")


def fleet_apps(self_apps: int, seller_accounts: int, seller_products: int | None = None) -> tuple[EmulatedApp, ...]:
    """The CLI's apps for `--self-apps`/`--seller-accounts` (same order, so the same derived seeds),
    the seller app's catalogs `seller_products` each if given."""
    return (*emulated_apps(self_apps, 0), *emulated_apps(0, seller_accounts, products=seller_products))


def serve_fleet(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.emulator_process`: the CLI's options that EmulatorProcess passes, plus
    `--seller-products`; serves until SIGTERM. The base URL goes to the ready file once listening."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_process")
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--latency-jitter-ms", type=float, default=0.0)
    parser.add_argument("--self-apps", type=int, default=0)
    parser.add_argument("--seller-accounts", type=int, default=0)
    parser.add_argument("--seller-products", type=int)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        products=args.products, rate=args.rate, seed=args.seed, port=args.port, latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        apps=fleet_apps(args.self_apps, args.seller_accounts, args.seller_products),
    )
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    with EmulatorServer(config) as server:
        # Written whole, then renamed: start() polls for it.
        temporary = args.ready_file.with_name(args.ready_file.name + ".tmp")
        temporary.write_text(server.base_url + "\n", encoding="utf-8")
        temporary.replace(args.ready_file)
        while not stop_requested.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(serve_fleet())
