"""Running the service with uvicorn: in the foreground (``segml serve``) or in a thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["LOOPBACK_HOSTS", "is_loopback", "run_in_thread"]

#: Hosts that only this machine can reach.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the service reachable from this machine only.

    Parameters
    ----------
    host : str
        Host name or address given to ``segml serve --host``.

    Returns
    -------
    bool
    """
    import ipaddress

    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def run_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0,
                  timeout: float = 30.0, **config: Any) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn server in a background thread (tests, the bench).

    Parameters
    ----------
    app : ASGI app
        E.g. :func:`segml.service.create_app`'s result.
    host : str, default "127.0.0.1"
        Address to bind.
    port : int, default 0
        Port; 0 takes a free one.
    timeout : float, default 30
        Seconds to wait for the server to start.
    **config
        Other :class:`uvicorn.Config` options (``log_level``, ``access_log``...).

    Yields
    ------
    str
        The base URL, e.g. ``http://127.0.0.1:54321``.
    """
    cfg = uvicorn.Config(app, host=host, port=port, **({"log_level": "warning"} | config))
    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=server.run, name="segml-serve", daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - t0 > timeout:
            server.should_exit = True
            raise RuntimeError(f"the uvicorn server on {host}:{port} did not start")
        time.sleep(0.02)
    sock = server.servers[0].sockets[0]
    bound = sock.getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout)
