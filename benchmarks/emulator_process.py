"""The Commerce API emulator as a child process, and its HTTP controls.

A separate process has its own GIL, so the emulator's work does not slow the client measured,
the way a real API's would not. Every scenario starts a fresh one: fresh token buckets.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

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
    ) -> None:
        self.products = products
        self.rate = rate
        self.seed = seed
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
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
        command = [
            sys.executable, "-m", "commerce_emulator", "--products", str(self.products), "--rate", f"{self.rate:g}",
            "--seed", str(self.seed), "--port", "0", "--ready-file", str(ready),
        ]
        if self.latency_ms or self.latency_jitter_ms:
            command += ["--latency-ms", f"{self.latency_ms:g}", "--latency-jitter-ms", f"{self.latency_jitter_ms:g}"]
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

    def set_rate(self, rate: float, api: str | None = None) -> None:
        """Change the replenish rate; the buckets restart full at the new burst."""
        body: dict[str, Any] = {"rate": rate}
        if api is not None:
            body["api"] = api
        self._control("POST", "rate", body)

    def set_latency(self, mean_ms: float, jitter_ms: float = 0.0) -> None:
        self._control("POST", "latency", {"mean_ms": mean_ms, "jitter_ms": jitter_ms})

    def stats(self) -> dict[str, Any]:
        """What the server answered: {"requests": {api: {status: n}}, ...}."""
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("POST", "reset-stats")
