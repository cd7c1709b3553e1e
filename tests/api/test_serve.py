"""The multi-process server's shared socket: accepted connections must get TCP_NODELAY, or every
keep-alive response waits for the client's delayed ACK (uvicorn binds it as protocol 0)."""
import asyncio
import socket

from clientstrata.api.serve import _Config


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


def test_connections_accepted_by_worker_processes_do_not_wait_on_nagle():
    config = _Config("clientstrata.api.app:create_app", factory=True, workers=2, host="127.0.0.1", port=0)
    sock = config.bind_socket()
    assert sock.proto == socket.IPPROTO_TCP
    assert asyncio.run(_nodelay_of_an_accepted_connection(sock)) == 1
