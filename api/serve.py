"""Running the API under uvicorn: one process, or one per core."""

from __future__ import annotations

import multiprocessing as mp
import signal
import socket
import sys
import threading

import uvicorn

__all__ = ["serve", "listening_socket"]

APP = "clientstrata.api.app:create_app"


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP listener. Said to be TCP (proto 6) so asyncio turns Nagle off on the connections it
    accepts; a socket made with proto 0, as uvicorn's own is, makes every keep-alive response
    wait ~40 ms for the client's delayed ACK (Kludex/uvicorn#3149)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, log_level: str) -> None:
    config = uvicorn.Config(APP, factory=True, log_level=log_level)
    uvicorn.Server(config).run(sockets=[listening_socket(host, port, reuse_port=True)])


def serve(host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Serve `create_app()` on host:port; with `workers` > 1, as that many processes (Python runs
    one request's CPU at a time per process). Each worker listens on its own SO_REUSEPORT socket,
    so the kernel spreads connections over the workers: with one shared socket, whichever worker
    wakes first accepts a burst of keep-alive connections and serves them all alone."""
    print(
        f"ClientStrata API on http://{host}:{port}/graphql ({workers} worker process{'es' if workers > 1 else ''}; "
        "Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    if workers <= 1:
        from .app import create_app

        config = uvicorn.Config(create_app(), log_level=log_level)
        uvicorn.Server(config).run(sockets=[listening_socket(host, port)])
        return
    guard = listening_socket(host, port, reuse_port=True)  # fails now, not in a worker, if the port is taken
    ctx = mp.get_context("spawn")

    def start(i: int):
        p = ctx.Process(target=_worker, args=(host, port, log_level), name=f"api-worker-{i}")
        p.start()
        return p

    procs = [start(i) for i in range(workers)]
    guard.close()
    stopping = threading.Event()

    def stop(*_):
        stopping.set()
        for p in procs:
            if p.is_alive():
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping.wait(1.0):  # a worker that dies is replaced, as uvicorn's supervisor does
        for i, p in enumerate(procs):
            if not p.is_alive() and not stopping.is_set():
                print(f"API worker {p.pid} exited ({p.exitcode}); starting another", file=sys.stderr, flush=True)
                procs[i] = start(i)
    for p in procs:
        p.join()
