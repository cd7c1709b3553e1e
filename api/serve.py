"""Running the API under uvicorn: one process, or one per core sharing one listening socket."""
from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["serve"]

APP = "clientstrata.api.app:create_app"


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        # uvicorn binds the shared socket with proto 0; connections accepted from it inherit
        # that, and asyncio then leaves Nagle on, so every keep-alive response waits ~40 ms
        # for the client's delayed ACK (Kludex/uvicorn#3149). Say it is TCP.
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock


def serve(host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Serve `create_app()` on host:port; with `workers` > 1, as that many processes (Python runs
    one request's CPU at a time per process)."""
    if workers <= 1:
        from .app import create_app
        uvicorn.run(create_app(), host=host, port=port, log_level=log_level)
        return
    config = _Config(APP, factory=True, workers=workers, host=host, port=port, log_level=log_level)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
