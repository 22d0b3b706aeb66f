"""``segml serve MODEL``: the HTTP scoring service (FastAPI on uvicorn; docs/SERVICE.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from segml.cli._common import _key

#: Environment variables a multi-worker server hands its worker processes.
_ENV_MODEL = "SEGML_SERVE_MODEL"
_ENV_KEY_HEX = "SEGML_SERVE_KEY_HEX"
_ENV_WATCH = "SEGML_SERVE_WATCH"
_ENV_MAX_ROWS = "SEGML_SERVE_MAX_BATCH_ROWS"
_ENV_LOG_LEVEL = "SEGML_SERVE_LOG_LEVEL"


def _service_log(level: str) -> None:
    """Send the service's own log (counts, versions, reloads) to stderr like uvicorn's."""
    import logging

    log = logging.getLogger("segml.service")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     segml: %(message)s"))
        log.addHandler(handler)
    log.setLevel(level.upper())


def _token(args: argparse.Namespace) -> str | None:
    """Return the bearer token of ``--token-file`` or ``SEGML_SERVE_TOKEN`` (None without)."""
    from segml.errors import ConfigError
    from segml.service import TOKEN_ENV

    if args.token_file is not None:
        try:
            tok = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"--token-file {args.token_file}: cannot read it ({exc}). Fix: pass a "
                f"readable UTF-8 file holding the token (create_app(token=...) in Python), "
                f"or set {TOKEN_ENV}."
            ) from exc
        if not tok:
            raise ConfigError(f"--token-file {args.token_file} is empty. Fix: put the token "
                              f"in that file (create_app(token=...) in Python), or set "
                              f"{TOKEN_ENV}.")
        return tok
    tok = os.environ.get(TOKEN_ENV, "").strip()
    return tok or None


def _check_args(args: argparse.Namespace, token: str | None) -> None:
    from segml.errors import ConfigError
    from segml.service import is_loopback

    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers} should be at least 1. Fix: pass "
                          "--workers 1 (the default) or more.")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port} is not a TCP port. Fix: pass a port in "
                          "1..65535, e.g. --port 8000.")
    if args.watch is not None and args.watch <= 0:
        raise ConfigError(f"--watch {args.watch} should be a positive number of seconds. "
                          "Fix: e.g. --watch 10 (create_app(watch_interval=10)).")
    if args.max_batch_rows < 1:
        raise ConfigError(f"--max-batch-rows {args.max_batch_rows} should be at least 1. "
                          "Fix: e.g. --max-batch-rows 10000 (create_app(max_batch_rows=...)).")
    if token is None and not is_loopback(args.host) and not args.insecure:
        raise ConfigError(
            f"--host {args.host} is reachable from other machines and no token is set: anyone "
            "who reaches it could score customers and read the model card. Fix: pass "
            "--token-file PATH (or set SEGML_SERVE_TOKEN), keep the default --host 127.0.0.1, "
            "or accept an open service with --insecure."
        )


def app_from_env() -> Any:
    """Build the app in a uvicorn worker process (``segml serve --workers N``)."""
    from segml.service import create_app

    _service_log(os.environ.get(_ENV_LOG_LEVEL, "info"))
    key_hex = os.environ.get(_ENV_KEY_HEX)
    watch = os.environ.get(_ENV_WATCH)
    from segml.service import TOKEN_ENV

    return create_app(
        os.environ[_ENV_MODEL],
        token=os.environ.get(TOKEN_ENV) or None,
        key=bytes.fromhex(key_hex) if key_hex else None,
        watch_interval=float(watch) if watch else None,
        max_batch_rows=int(os.environ.get(_ENV_MAX_ROWS, "10000")),
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    token = _token(args)
    _check_args(args, token)
    key = _key(args)
    try:
        import uvicorn

        from segml.service import create_app
    except ImportError as exc:  # pragma: no cover - depends on the install
        from segml.errors import ConfigError

        raise ConfigError(f"segml serve needs the serve extra ({exc.name} is missing). Fix: "
                          "pip install 'segml[serve]' (fastapi, uvicorn).") from exc
    # load and verify here, in the parent: a tampered model stops before anything binds
    app = create_app(args.model, token=token, key=key, watch_interval=args.watch,
                     max_batch_rows=args.max_batch_rows)
    cur = app.state.holder.current
    _service_log(args.log_level)
    print(f"serving model {cur.model.name} {cur.version or ''} on http://{args.host}:{args.port}"
          f" ({'bearer token required' if token else 'no token'}; {args.workers} worker(s); "
          f"schema at /openapi.json, docs at /docs)", file=sys.stderr, flush=True)
    common = {"host": args.host, "port": args.port, "log_level": args.log_level,
              "access_log": not args.no_access_log}
    if args.workers == 1:
        uvicorn.run(app, **common)
        return 0
    if args.watch is None:
        print("note: with --workers > 1, POST /admin/reload reloads only the worker that "
              "answers it; use --watch SECONDS to reload every worker.", file=sys.stderr)
    os.environ[_ENV_MODEL] = str(Path(args.model).resolve(strict=False))
    if token is not None:
        from segml.service import TOKEN_ENV

        os.environ[TOKEN_ENV] = token
    if key is not None:
        os.environ[_ENV_KEY_HEX] = key.hex()
    if args.watch is not None:
        os.environ[_ENV_WATCH] = str(args.watch)
    os.environ[_ENV_MAX_ROWS] = str(args.max_batch_rows)
    os.environ[_ENV_LOG_LEVEL] = args.log_level
    uvicorn.run("segml.cli.serve:app_from_env", factory=True, workers=args.workers, **common)
    return 0


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``segml serve`` to the ``segml`` subcommands."""
    from segml.cli._common import _add, _key_args

    p = _add(sub, "serve", "serve a saved model over HTTP (score one customer or a batch, "
             "model card, health; docs/SERVICE.md)",
             "segml serve models/demo                         # http://127.0.0.1:8000/docs\n"
             "segml serve models/demo --token-file token.txt --host 0.0.0.0 --workers 4 "
             "--watch 30")
    p.add_argument("model", type=Path, help="the model folder (positional, no --model)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; another address needs a token "
                   "or --insecure)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--token-file", type=Path, metavar="PATH",
                   help="file holding the bearer token clients must send (or set "
                   "SEGML_SERVE_TOKEN; never a token on the command line)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --host without a token")
    p.add_argument("--workers", type=int, default=1,
                   help="uvicorn worker processes (default 1; each loads the model)")
    p.add_argument("--watch", type=float, metavar="SECONDS",
                   help="reload when the model folder points at a new version, checked "
                   "every SECONDS (default: only POST /admin/reload)")
    p.add_argument("--max-batch-rows", type=int, default=10_000,
                   help="largest batch per request (default 10000)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", action="store_true",
                   help="no access log lines (they hold method, path, status, client address; "
                   "never bodies)")
    _key_args(p, "check a signed model with")
    p.set_defaults(func=_cmd_serve)
