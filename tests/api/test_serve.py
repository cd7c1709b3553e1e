"""The server's listening sockets: accepted connections must get TCP_NODELAY, or every keep-alive
response waits for the client's delayed ACK (uvicorn binds its own as protocol 0)."""

import asyncio
import socket

import pytest

from clientstrata.api.serve import listening_socket


async def _nodelay_of_an_accepted_connection(sock: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    got: asyncio.Future = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            got.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=sock)
    _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
    try:
        return await asyncio.wait_for(got, 10)
    finally:
        writer.close()
        server.close()


@pytest.mark.parametrize("reuse_port", [False, True])
def test_accepted_connections_do_not_wait_on_nagle(reuse_port):
    sock = listening_socket("127.0.0.1", 0, reuse_port=reuse_port)
    assert sock.proto == socket.IPPROTO_TCP
    assert asyncio.run(_nodelay_of_an_accepted_connection(sock)) == 1


def test_workers_share_the_port():
    """Each worker binds its own socket to the same port (SO_REUSEPORT), so the kernel spreads
    connections over them."""
    first = listening_socket("127.0.0.1", 0, reuse_port=True)
    first.listen()
    second = listening_socket("127.0.0.1", first.getsockname()[1], reuse_port=True)
    second.listen()
    assert second.getsockname() == first.getsockname()
    with pytest.raises(OSError):
        listening_socket("127.0.0.1", first.getsockname()[1])  # without it the port is taken
