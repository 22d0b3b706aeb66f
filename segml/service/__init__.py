"""HTTP scoring service for a saved model (``segml serve``; FastAPI on uvicorn).

Sits on top of the core like the CLI: it imports :mod:`segml.persistence` and
:mod:`segml.scoring`; nothing in the core imports it. Needs the ``serve`` extra
(``pip install segml[serve]``: fastapi, uvicorn). See ``docs/SERVICE.md``.

* :func:`create_app` -- the FastAPI app around one verified model;
* :class:`ModelHolder` -- load, verify and atomically swap the served model;
* :func:`run_in_thread` -- a real uvicorn server in a thread (tests, ``bench/bench_serve.py``).
"""

from segml.service.app import TOKEN_ENV, create_app
from segml.service.server import LOOPBACK_HOSTS, is_loopback, run_in_thread
from segml.service.state import ModelHolder, Served, model_card

__all__ = [
    "LOOPBACK_HOSTS",
    "TOKEN_ENV",
    "ModelHolder",
    "Served",
    "create_app",
    "is_loopback",
    "model_card",
    "run_in_thread",
]
