"""Running the web servers: the app origin and the replay origin, each on its own socket, in one process.

Sockets are bound before anything is served, so a port in use or an address that cannot
be bound stops the command with one line, before either origin is half up; a port of 0
takes a free one, and the origins are then written with the port actually bound.
"""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.types import ASGIApp

from archive.config import ConfigError

LOG_LEVEL = "warning"  # a server for one reader: errors, not a line per request


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``; ConfigError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    return sock.getsockname()[1]


def run_servers(main: tuple[ASGIApp, socket.socket], *others: tuple[ASGIApp, socket.socket]) -> None:
    """Serve ``main`` in this thread (it owns SIGINT/SIGTERM) and ``others`` beside it, until stopped."""
    servers = [uvicorn.Server(uvicorn.Config(app, log_level=LOG_LEVEL)) for app, _ in others]
    threads = [threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="newsarchive-server",
                                daemon=True) for server, (_, sock) in zip(servers, others, strict=True)]
    for thread in threads:
        thread.start()
    try:
        uvicorn.Server(uvicorn.Config(main[0], log_level=LOG_LEVEL)).run(sockets=[main[1]])
    finally:
        for server in servers:
            server.should_exit = True
        for thread in threads:
            thread.join(timeout=5)
