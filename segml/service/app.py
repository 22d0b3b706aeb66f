"""The scoring service: a FastAPI app around one verified model (``segml serve``).

Endpoints
---------
``POST /score``         one customer: a feature row (:func:`segml.scoring.score_one`) or raw
                        transactions + attributes with ``as_of`` (:func:`segml.scoring.score`)
``POST /score/batch``   many customers: feature rows (:func:`segml.scoring.score_features`)
                        or raw tables (:func:`segml.scoring.score`)
``GET /model``          the model card (:func:`segml.service.state.model_card`)
``GET /health``         liveness; ``GET /ready``: readiness (a verified model is loaded)
``POST /admin/reload``  load + verify the model path again, then swap atomically

Scoring is never re-implemented here: the request is turned into the mapping or frame the
segml scoring functions take, and their :class:`~segml.errors.SegmlError` messages are
answered as HTTP 422 ``{"error": message}``. Nothing logged carries a customer value: the
service logs counts, times and model versions only, and the data-quality warnings of
scoring (which quote unseen levels) are counted, not printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segml._asof import parse_as_of
from segml._json import jsonable
from segml.errors import SchemaError, SegmlError
from segml.scoring import score, score_features, score_one
from segml.service.schemas import (
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
)
from segml.service.state import ModelHolder, Served

__all__ = ["create_app"]

log = logging.getLogger("segml.service")

#: Environment variable holding the bearer token (``segml serve``; never a CLI argument).
TOKEN_ENV = "SEGML_SERVE_TOKEN"

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
    422: {"model": ErrorResponse, "description": "the input breaks the model's contract "
          "(the segml message: column, problem, Fix)"},
    500: {"model": ErrorResponse, "description": "internal error (logged without values)"},
}

#: The data-quality warnings of scoring quote offending values: they are recorded (and
#: counted in the log) instead of printed. ``warnings.catch_warnings`` swaps process-wide
#: state, so its users take this lock in turn.
_WARN_LOCK = threading.Lock()


_BEARER = HTTPBearer(auto_error=False,
                     description=f"the token of segml serve --token-file / {TOKEN_ENV}")
_Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


class _Unauthorized(Exception):
    pass


class _Internal(Exception):
    pass


@contextlib.contextmanager
def _quiet_warnings(what: str) -> Iterator[None]:
    with _WARN_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if caught:
        kinds = sorted({w.category.__name__ for w in caught})
        log.info("%s: %d warning(s) recorded, not printed (they may quote values): %s",
                 what, len(caught), ", ".join(kinds))


def _ref(served: Served) -> dict[str, Any]:
    return {"name": served.model.name, "version": served.version}


def _segment_extras(served: Served, segment_id: int) -> tuple[str | None, str | None]:
    for s in served.card["segments"]:
        if s["id"] == segment_id:
            return s.get("role"), s.get("action")
    return None, None


def _one_response(served: Served, out: dict[str, Any]) -> dict[str, Any]:
    body = jsonable(out)
    cid = body.get("customer_id")
    body["customer_id"] = None if cid is None else str(cid)
    body["role"], body["action"] = _segment_extras(served, int(body["segment_id"]))
    body["model"] = _ref(served)
    return body


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a score table as JSON objects (NaN -> null)."""
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, jsonable(list(row)), strict=True))
            for row in frame.astype(object).itertuples(index=False, name=None)]


def _frame_row_response(served: Served, frame: pd.DataFrame,
                        report: dict[str, Any]) -> dict[str, Any]:
    row = _records(frame)[0]
    drivers = [row.pop(c) for c in [c for c in row if c.startswith("driver_")]]
    ids = {k: row.pop(k) for k in ("customer_id", "segment_id", "segment_name")}
    body: dict[str, Any] = {
        **ids,
        "confidence": row.pop("confidence"),
        "distance": row.pop("distance"),
        "fits_no_segment": bool(row.pop("fits_no_segment")),
        "drivers": [d for d in drivers if d is not None],
        "imputed": sorted(report.get("missing_imputed", {})),
        "unseen": sorted(report.get("unseen_categories", {})),
        **row,  # the forward-value columns when the model has them
    }
    body["role"], body["action"] = _segment_extras(served, int(body["segment_id"]))
    body["model"] = _ref(served)
    return body


def _as_of(value: str | None) -> pd.Timestamp:
    if value is None:
        raise SchemaError(
            "as_of is missing: raw transactions are turned into features as of a date, and "
            "segml never takes the last date in the data. Fix: add \"as_of\": \"YYYY-MM-DD\" "
            "to the request (CLI: segml score --as-of; Python: score(..., as_of=...))."
        )
    return parse_as_of(value, where="request: as_of")


def _raw_tables(transactions: list[dict[str, Any]] | None,
                customers: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    """Validate raw rows as ``segml score`` validates its files (same contracts, messages)."""
    from segml.schema import validate_customers, validate_transactions

    cust = tx = None
    if customers:
        cust = validate_customers(pd.DataFrame.from_records(customers)).frame
    if transactions:
        tx = validate_transactions(pd.DataFrame.from_records(transactions),
                                   customers=cust).frame
    return tx, cust


def _score_raw_one(served: Served, req: ScoreRequest) -> dict[str, Any]:
    cid = req.customer_id
    rows = [dict(r) for r in (req.transactions or [])]
    ids = {str(r["customer_id"]) for r in rows if r.get("customer_id") is not None}
    if cid is None and len(ids) == 1:
        cid = ids.pop()
        ids = {cid}
    if cid is None:
        raise SchemaError(
            "customer_id is missing: /score with raw input scores one customer. Fix: add "
            "\"customer_id\" to the request (or to every transaction row).")
    other = sorted(i for i in ids if i != cid)
    if other:
        raise SchemaError(
            f"transactions of other customers than {cid[:20]!r}: {len(other)} other id(s), "
            f"e.g. {[i[:20] for i in other[:3]]}. Fix: send one customer's rows to /score, "
            "or many customers to /score/batch.")
    for r in rows:
        r["customer_id"] = cid
    customers = None if req.attributes is None else [{**req.attributes, "customer_id": cid}]
    as_of = _as_of(req.as_of)
    with _quiet_warnings("score one (raw)"):
        tx, cust = _raw_tables(rows, customers)
        res = score(served.model, tx, cust, as_of, unknown=req.unknown,
                    explain=req.explain, impute_missing=req.impute_missing)
    if len(res.frame) == 0:
        raise SchemaError(
            f"customer {cid[:20]!r} is not yet a customer on {as_of.date()}: no transaction and "
            "no signup on or before as_of, so it is left out (as segml score counts it in "
            "not_yet_customers). Fix: check as_of, or the transactions' timestamps.")
    return _frame_row_response(served, res.frame, res.report)


def _score_batch(served: Served, req: BatchRequest, max_rows: int) -> dict[str, Any]:
    raw = req.transactions is not None or req.customers is not None
    if raw == (req.rows is not None):
        raise SchemaError(
            "a batch needs either 'rows' (feature rows) or raw 'transactions' and/or "
            "'customers' with 'as_of', not both and not neither. Fix: send one of the two "
            "request shapes of /score/batch (see /openapi.json).")
    n = len(req.rows or []) if not raw else max(len(req.transactions or []),
                                                len(req.customers or []))
    if n > max_rows:
        raise SchemaError(
            f"the batch has {n:,} rows, more than this service takes per request "
            f"({max_rows:,}). Fix: split it into requests of at most {max_rows:,} rows, or "
            "start the service with a larger create_app(max_batch_rows=...) / "
            "segml serve --max-batch-rows.")
    t0 = time.perf_counter()
    with _quiet_warnings("score batch"):
        if raw:
            as_of = _as_of(req.as_of)
            tx, cust = _raw_tables(req.transactions, req.customers)
            res = score(served.model, tx, cust, as_of, unknown=req.unknown,
                        explain=req.explain, impute_missing=req.impute_missing)
        else:
            frame = pd.DataFrame.from_records(req.rows or [])
            res = score_features(served.model, frame, unknown=req.unknown,
                                 explain=req.explain, impute_missing=req.impute_missing)
    report = {k: v for k, v in res.report.items() if k != "feature_report"}
    log.info("scored a batch: %d row(s) in, %d scored, in %.1f ms (%s %s)",
             report.get("n_rows", 0), report.get("rows_scored", 0),
             1e3 * (time.perf_counter() - t0), served.model.name, served.version)
    return {"model": _ref(served), "scores": _records(res.frame), "report": jsonable(report)}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    errs = list(exc.errors())
    for e in errs[:3]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        got = repr(e.get("input"))
        got = got if len(got) <= 40 else got[:37] + "..."
        parts.append(f"{loc!r}: {e.get('msg', 'invalid')} (got {got})")
    more = f" and {len(errs) - 3} more" if len(errs) > 3 else ""
    return (f"the request body does not have the expected shape: {'; '.join(parts)}{more}. "
            "Fix: send a JSON object with the fields of the endpoint's schema "
            "(GET /openapi.json; e.g. /score takes 'features', or 'transactions' + "
            "'attributes' + 'as_of').")


def create_app(
    model_path: str | Path,
    *,
    token: str | None = None,
    key: bytes | None = None,
    strict_versions: bool = True,
    watch_interval: float | None = None,
    max_batch_rows: int = 10_000,
) -> FastAPI:
    """Build the scoring service for one saved model (loaded and verified here, once).

    Parameters
    ----------
    model_path : path-like
        Model folder (``models/<name>``: the link to its newest version, or ``<name>@vN``).
    token : str, optional
        Bearer token required on ``/score``, ``/score/batch``, ``/model`` and
        ``/admin/reload`` (``segml serve --token-file`` / ``SEGML_SERVE_TOKEN``). Without
        it every endpoint is open to whoever reaches the port.
    key : bytes, optional
        HMAC key of a signed model (``--key-file`` / ``--key-env``).
    strict_versions : bool, default True
        Refuse non-portable library versions (as :func:`segml.persistence.load_model`).
    watch_interval : float, optional
        Check the model path every this many seconds and reload when it points at a new
        version (``segml serve --watch``). Without it, reload with ``POST /admin/reload``.
    max_batch_rows : int, default 10000
        Largest batch one request may send.

    Returns
    -------
    fastapi.FastAPI
        The app; run it with uvicorn (:func:`segml.service.serve`).

    Raises
    ------
    SegmlError
        The model does not load or verify (tampered files, wrong key, versions): the
        service refuses to start with that message.
    """
    if token is not None and not token:
        from segml.errors import ConfigError

        raise ConfigError("the bearer token is empty. Fix: put a token in the token file "
                          "(segml serve --token-file PATH, or SEGML_SERVE_TOKEN; "
                          "create_app(token=...)), or run without one on loopback.")
    holder = ModelHolder(model_path, key=key, strict_versions=strict_versions)
    want = None if token is None else token.encode("utf-8")
    async def authorize(
        creds: _Creds,
    ) -> None:
        if want is None:
            return
        got = b"" if creds is None else creds.credentials.encode("utf-8")
        if not hmac.compare_digest(got, want):
            raise _Unauthorized()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if watch_interval:
            task = asyncio.create_task(_watch(holder, float(watch_interval)))
        log.info("serving model %s %s (%d segments, %d input columns)", holder.current.model.name,
                 holder.current.version, holder.current.model.n_segments,
                 len(holder.current.model.columns))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="segml scoring service",
        version=str(holder.current.card.get("versions", {}).get("segml", "")) or "0",
        description="Segments of customers from a saved segml model. Errors answer "
        "{\"error\": message} with the column, the problem and a Fix.",
        lifespan=lifespan,
    )
    app.state.holder = holder

    @app.exception_handler(SegmlError)
    async def _segml_error(request: Request, exc: SegmlError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _shape_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(exc)}, status_code=422)

    @app.exception_handler(_Unauthorized)
    async def _unauthorized(request: Request, exc: _Unauthorized) -> JSONResponse:
        return JSONResponse(
            {"error": "missing or wrong bearer token. Fix: send the header 'Authorization: "
             "Bearer <token>' with the token the service was started with (segml serve "
             f"--token-file PATH or {TOKEN_ENV}; create_app(token=...))."},
            status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(_Internal)
    async def _internal(request: Request, exc: _Internal) -> JSONResponse:
        return JSONResponse(
            {"error": f"internal error ({exc}); the server log names its type only. Fix: "
             "report it to the service owner with the request's shape (not its values)."},
            status_code=500)

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except SegmlError:
            raise
        except Exception as exc:  # never let a traceback with values reach the log
            log.error("internal error in %s: %s", getattr(fn, "__name__", "scoring"),
                      type(exc).__name__)
            raise _Internal(type(exc).__name__) from None

    @app.post("/score", response_model=ScoreResponse, responses=_ERRORS,
              dependencies=[Depends(authorize)], summary="score one customer")
    async def score_customer(req: ScoreRequest) -> JSONResponse:
        served = holder.current  # this request scores with this version to the end
        if (req.features is None) == (req.transactions is None and req.attributes is None):
            raise SchemaError(
                "/score needs either 'features' (the customer's feature row) or raw "
                "'transactions' and/or 'attributes' with 'as_of', not both and not neither. "
                "Fix: send one of the two request shapes (see /openapi.json).")
        if req.features is not None:
            record = dict(req.features)
            if req.customer_id is not None:
                record["customer_id"] = req.customer_id
            out = guarded(lambda: score_one(served.model, record, unknown=req.unknown,
                                            explain=req.explain,
                                            impute_missing=req.impute_missing))
            return JSONResponse(_one_response(served, out))
        body = await run_in_threadpool(guarded, _score_raw_one, served, req)
        return JSONResponse(body)

    @app.post("/score/batch", response_model=BatchResponse, responses=_ERRORS,
              dependencies=[Depends(authorize)], summary="score many customers")
    async def score_batch(req: BatchRequest) -> JSONResponse:
        served = holder.current
        body = await run_in_threadpool(guarded, _score_batch, served, req, max_batch_rows)
        return JSONResponse(body)

    @app.get("/model", responses=_ERRORS, dependencies=[Depends(authorize)],
             summary="the model card: segments, roles, actions, input contract")
    async def model_info() -> JSONResponse:
        return JSONResponse(holder.current.card)

    @app.get("/health", summary="liveness")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/ready", summary="readiness: a verified model is loaded")
    async def ready() -> dict[str, Any]:
        cur = holder.current
        return {"ready": True, "model": _ref(cur), "last_reload": holder.last_reload}

    @app.post("/admin/reload", response_model=ReloadResponse, responses=_ERRORS
              | {409: {"model": ReloadResponse, "description": "the new version failed to "
                       "load or verify; the old one is still served"}},
              dependencies=[Depends(authorize)], summary="load, verify and swap the model")
    async def reload_model() -> JSONResponse:
        out = await run_in_threadpool(holder.reload)
        return JSONResponse(jsonable(out), status_code=200 if out["ok"] else 409)

    return app


async def _watch(holder: ModelHolder, interval: float) -> None:
    """Reload when the model path points at new files; a failed version is tried once."""
    failed: tuple[Any, ...] | None = None
    while True:
        await asyncio.sleep(interval)
        now = holder.disk_stamp()
        if now == holder.current.stamp or now == failed:
            continue
        out = await run_in_threadpool(holder.reload)
        failed = None if out["ok"] else now
