"""Whether a TCP port can be listened on, checked before anything starts."""

from __future__ import annotations

import errno
import socket


def port_in_use(host: str, port: int) -> bool:
    """True if another socket listens on ``host:port`` (binding as uvicorn does, with
    SO_REUSEADDR, so a port only in TIME_WAIT counts as free). Port 0 is never in use."""
    if port == 0:
        return False
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # the server's own start names an unknown host
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE  # other errors: the server's start names them
    return False
