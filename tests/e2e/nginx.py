"""nginx from the distribution's packages, in front of several webhook workers, for e2e tests.

The configuration is the one docs/DEPLOYING.md shows, on loopback and without TLS: an
upstream of workers taken in turn (round robin), and `proxy_next_upstream` so that an update
reaching a dead worker is passed to a live one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

CONFIG = """\
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    upstream focusbot {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location {path} {{
            proxy_pass http://focusbot;
            # An update that meets a dead worker goes to the next one. POSTs are not retried
            # by default: an update is safe to pass on (a worker answers 200 only once it
            # has taken it).
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;
        }}
        location /healthz {{
            proxy_pass http://focusbot;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )


class Nginx:
    """One nginx master process serving `path` from the given worker ports."""

    def __init__(self, prefix: Path, port: int, path: str, worker_ports: list[int]) -> None:
        self.prefix = prefix
        self.port = port
        self.path = path
        self.worker_ports = worker_ports
        self.process: asyncio.subprocess.Process | None = None

    def config(self) -> str:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
            for port in self.worker_ports
        )
        # As root (CI), the worker processes must be able to use the temporary folders.
        user = "user root;" if os.geteuid() == 0 else ""
        return CONFIG.format(
            prefix=self.prefix, servers=servers, port=self.port, path=self.path, user=user
        )

    async def start(self) -> None:
        binary = nginx_binary()
        assert binary is not None
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"
        config.write_text(self.config(), encoding="utf-8")
        self.process = await asyncio.create_subprocess_exec(
            binary,
            "-p",
            str(self.prefix),
            "-c",
            str(config),
            "-g",
            "daemon off;",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self.wait_listening()

    async def wait_listening(self, limit: float = 10.0) -> None:
        """Until nginx accepts connections on its port (it fails the test if it exited)."""
        for _ in range(int(limit / 0.05)):
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"nginx exited:\n{self.errors()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise AssertionError(f"nginx never listened on {self.port}:\n{self.errors()}")

    def errors(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
