"""A real S3 server on 127.0.0.1 for the suite: moto in server mode, in its own process (started
once per session by the ``s3_server`` fixture in tests/conftest.py, stopped at the end).

The app talks to it exactly as to a bucket elsewhere: through ``AWARD_JURY_STORAGE_URL`` and the
usual ``AWS_*`` variables (kept in ``Settings.storage_options``)."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

from tests.support.pg import free_port

BUCKET = "award-jury-test"


class S3Unavailable(RuntimeError):
    pass


@dataclass
class S3Server:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        if importlib.util.find_spec("moto.server") is None or importlib.util.find_spec("flask") is None:
            raise S3Unavailable("moto's server mode is not installed (uv sync with the dev group: moto[server])")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise S3Unavailable(f"moto's S3 server ended at once (exit code {self.process.returncode})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise S3Unavailable(
                        f"moto's S3 server did not listen on port {self.port} within {timeout} s"
                    ) from None
                time.sleep(0.05)
        # the bucket every test uses (each test under its own prefix)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("PUT", f"/{BUCKET}")
            status = conn.getresponse().status
        finally:
            conn.close()
        if status != 200:
            self.stop()
            raise S3Unavailable(f"moto's S3 server did not create the test bucket (HTTP {status})")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)

    def options(self, endpoint: str | None = None) -> tuple[tuple[str, str], ...]:
        """The AWS_* settings for this server (or another endpoint, e.g. one nobody listens on)."""
        return (
            ("AWS_ENDPOINT_URL", endpoint or self.endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        )

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        return dict(self.options(endpoint))

    @staticmethod
    def fresh_url() -> str:
        """A storage URL of its own for one test: the shared bucket, a new prefix."""
        return f"s3://{BUCKET}/t-{uuid.uuid4().hex[:12]}"
