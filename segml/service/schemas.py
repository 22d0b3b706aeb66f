"""Request and response bodies of the scoring service (pydantic models -> OpenAPI schema).

pydantic checks the shape of a request (which keys, JSON types); the values themselves
are checked by segml's own scoring checks (:mod:`segml.scoring`), so a bad column gets the
same message as ``segml score``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BatchRequest",
    "BatchResponse",
    "ErrorResponse",
    "ModelRef",
    "ReloadResponse",
    "ScoreRequest",
    "ScoreResponse",
]

_Unknown = Literal["ignore", "error"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unknown: _Unknown = Field(
        "ignore", description="category levels not seen in training: score as unknown "
        "('ignore') or refuse ('error'); as segml score --unknown")
    impute_missing: bool = Field(
        False, description="impute model columns the input lacks (as segml score "
        "--impute-missing); listed in 'imputed'")
    explain: int = Field(3, ge=0, le=20, description="how many drivers to list")


class ScoreRequest(_Options):
    """One customer: its feature row, or its raw recent transactions and attributes."""

    customer_id: str | None = Field(None, description="echoed back; with raw transactions, "
                                    "the customer the rows belong to")
    features: dict[str, Any] | None = Field(
        None, description="feature name -> value (the model's input contract, GET /model); "
        "null for missing")
    transactions: list[dict[str, Any]] | None = Field(
        None, description="raw transactions of this customer (timestamp, amount, ...; "
        "customer_id optional)")
    attributes: dict[str, Any] | None = Field(
        None, description="raw customer attributes (one customers-table row)")
    as_of: str | None = Field(None, description="feature date YYYY-MM-DD for raw input")


class BatchRequest(_Options):
    """Many customers: feature rows, or raw transactions and customers tables."""

    rows: list[dict[str, Any]] | None = Field(
        None, description="feature rows, each with customer_id")
    transactions: list[dict[str, Any]] | None = Field(
        None, description="raw transactions rows (customer_id, timestamp, amount, ...)")
    customers: list[dict[str, Any]] | None = Field(
        None, description="raw customers rows (customer_id and attributes)")
    as_of: str | None = Field(None, description="feature date YYYY-MM-DD for raw input")


class ModelRef(BaseModel):
    """Which model version answered."""

    name: str
    version: str | None


class ScoreResponse(BaseModel):
    """The segment of one customer (``segml.score_one``'s result plus role and action).

    With raw input, the model's forward-value columns (``p_alive``, ...) are added when its
    feature spec has that family.
    """

    model_config = ConfigDict(extra="allow")

    customer_id: str | None
    segment_id: int
    segment_name: str
    role: str | None = None
    action: str | None = None
    confidence: float | None = Field(None, description="null for a customer set aside "
                                     "(prospect, degenerate buyer)")
    distance: float | None = None
    fits_no_segment: bool
    drivers: list[str] = []
    imputed: list[str] = []
    unseen: list[str] = []
    model: ModelRef


class BatchResponse(BaseModel):
    """Scores of a batch and the scoring report (counts only)."""

    model: ModelRef
    scores: list[dict[str, Any]]
    report: dict[str, Any]


class ReloadResponse(BaseModel):
    """Outcome of ``POST /admin/reload``."""

    ok: bool
    changed: bool
    serving: ModelRef
    previous: ModelRef
    error: str | None = None
    at: str


class ErrorResponse(BaseModel):
    """Every error: the segml message (column, problem, ``Fix:``)."""

    error: str
