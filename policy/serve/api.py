"""``policy serve``: an HTTP API over the same library calls as the command line.

The rulebase is loaded once and swapped whole on reload (SIGHUP, or ``Service.reload``): a request
holds the snapshot it started with, so a reload never drops or mixes requests. Errors are JSON with
the command line's diagnostic codes and exit code. Needs the ``server`` extra (FastAPI, uvicorn).

Over 500 lines because one module holds the whole HTTP face: every endpoint, its request and
response models, the snapshot/reload machinery and the limits; each endpoint is a few lines over
a library call, and splitting them would scatter the OpenAPI contract.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal, TypeVar

from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from policy import __version__
from policy.analysis.catalogue import (
    CountryInfo,
    ItemCatalogueInfo,
    JurisdictionInfo,
    countries,
    item_catalogue,
    jurisdictions,
)
from policy.eval.batch import BatchScreener
from policy.eval.batch_columns import json_lines
from policy.eval.batch_run import ChunkScreener
from policy.eval.engine import evaluate
from policy.load.asked import WhatIf, build, by_option, option_date
from policy.load.loader import load_rulebase
from policy.load.overlays import apply_overlays
from policy.load.rulesource import RulesInfo, choose_rules, rules_info
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document
from policy.model.contract import END_USERS, TRANSFERS, read_country
from policy.model.countries import country_name
from policy.model.errors import Diagnostic, LoadError, PolicyError, SourceSpan
from policy.model.rulebase import RuleBase
from policy.render.report import decision_json, render_json

log = logging.getLogger("policy.server")
T = TypeVar("T")
JSONL = "application/x-ndjson"
BATCH_CHUNK = 2000
"""Lines of a /batch request screened together (by column where they can be), then streamed."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for."""

    max_body: int = 1 << 20  # bytes
    max_batch: int = 10_000  # lines
    timeout: float = 30.0  # seconds per request


# ---------------------------------------------------------------- models of the API


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")
    date: str
    policy_version: str
    rules_digest: str
    rule_files: int


class DecisionOut(BaseModel):
    """The JSON of ``policy what-if -f json`` / ``policy evaluate -f json`` (see README)."""

    model_config = ConfigDict(extra="allow")
    scenario: dict[str, Any]
    verdict: Literal["prohibited", "restricted", "undetermined", "licence_required", "permitted"]
    deciding: list[str]
    jurisdictions: list[dict[str, Any]]
    facts: dict[str, dict[str, Any]]
    record: Record


class ErrorDetail(BaseModel):
    code: str = Field(description="the command line's diagnostic code, e.g. unknown-country")
    message: str
    exit_code: int = Field(description="the exit code the command line gives: 2 user error, 3 internal error")
    diagnostics: list[dict[str, Any]] = Field(default_factory=list)


class ErrorOut(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    package_version: str
    rules_digest: str
    rules_date: dt.date | None
    loaded_at: dt.datetime
    reloads: int


class TimelineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exporter: str = Field(examples=["DE"])
    recipient: str = Field(examples=["UA"])
    item: str = Field(examples=["ML6"])
    from_: str = Field(alias="from", examples=["2021-01-01"])
    to: str = Field(examples=["2024-12-31"])
    lethal: bool | None = None
    end_user: str = Field("military", description="who will use the items", json_schema_extra={"enum": list(END_USERS)})
    transfer: str = Field("sale", description="the kind of transfer", json_schema_extra={"enum": list(TRANSFERS)})


class TimelineRow(BaseModel):
    date: dt.date
    verdict: str
    rules: list[str]
    world: list[str]
    deciding: list[str] = Field(default_factory=list, description="jurisdictions giving the verdict")
    deciding_rules: list[str] = Field(default_factory=list)


class DiffRequest(BaseModel):
    """Diff the loaded rules against themselves on two dates (``at``/``vs``), and/or with an overlay."""

    model_config = ConfigDict(extra="forbid")
    at: str | None = Field(None, examples=["2022-02-01"])
    vs: str | None = Field(None, examples=["2022-03-01"])
    overlay: dict[str, Any] | None = Field(None, description="an overlay document, as in an overlay file")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "bad input (the command line's exit code 2)"},
    413: {"model": ErrorOut, "description": "body or batch too large"},
    422: {"model": ErrorOut, "description": "request does not match the schema"},
    504: {"model": ErrorOut, "description": "request took longer than the time limit"},
}


def error_response(
    status: int, code: str, message: str, exit_code: int = 2, diags: list[Diagnostic] | None = None
) -> JSONResponse:
    detail = ErrorDetail(
        code=code, message=message, exit_code=exit_code, diagnostics=[d.to_json() for d in diags or []]
    )
    return JSONResponse(ErrorOut(error=detail).model_dump(), status_code=status)


def _load_error(exc: LoadError) -> JSONResponse:
    diags = sorted(exc.diagnostics, key=Diagnostic.sort_key)
    first = diags[0] if diags else Diagnostic("error", str(exc))
    message = first.message if len(diags) == 1 else f"{first.message} (and {len(diags) - 1} more)"
    return error_response(400, first.code, message, 2, diags)


# ---------------------------------------------------------------- the service


@dataclass
class Snapshot:
    """One loaded rulebase and what is derived from it; never changed once built."""

    base: RuleBase
    info: RulesInfo
    loaded_at: dt.datetime
    _batch: BatchScreener | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    _chunks: ChunkScreener | None = None
    chunk_lock: threading.Lock = field(default_factory=threading.Lock)  # one request screens at a time

    def batch_screener(self) -> BatchScreener:
        with self._lock:
            if self._batch is None:
                self._batch = BatchScreener(self.base)
            return self._batch

    def chunk_screener(self) -> ChunkScreener:
        """``policy batch``'s chunk screener (by column where it can): its memos grow between requests."""
        bs = self.batch_screener()
        with self._lock:
            if self._chunks is None:
                self._chunks = ChunkScreener(bs, None, "jsonl", "jsonl", columnar=True)
            return self._chunks


class Service:
    """The rules a server answers with; ``reload`` swaps them whole."""

    def __init__(self, rules: list[str] | None = None, overlays: list[str] | None = None) -> None:
        self.rules, self.overlays = rules, list(overlays or [])
        self.reloads = 0
        self._reload_lock = threading.Lock()
        self.current = self._load()

    def _load(self) -> Snapshot:
        paths, origin = choose_rules(self.rules)
        base = load_rulebase(paths)
        info = rules_info(base, paths, origin)
        if self.overlays:
            base = apply_overlays(base, self.overlays)
        return Snapshot(base, info, dt.datetime.now(dt.timezone.utc))

    def reload(self) -> bool:
        """Load the rules again; on any error keep the current ones (and log why)."""
        with self._reload_lock:
            try:
                snap = self._load()
            except PolicyError as exc:
                log.error("reload failed, keeping rules %s: %s", self.current.info.digest[:16], exc)
                return False
            self.current = snap  # one reference swap: requests in flight keep their snapshot
            self.reloads += 1
            log.info("rules reloaded: %s", snap.info.summary())
            return True


class DecisionLog:
    """Append-only JSON Lines audit log: each entry written with one ``write`` on an O_APPEND file."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LoadError(
                [Diagnostic("unwritable-file", f"cannot open the decision log: {exc.strerror}", SourceSpan(path))]
            ) from None

    def write(self, endpoint: str, request: Any, verdict: str, record: dict[str, Any]) -> None:
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "endpoint": endpoint,
            "request": request,
            "verdict": verdict,
            "record": record,
        }
        os.write(self._fd, (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))

    def close(self) -> None:
        os.close(self._fd)


# ---------------------------------------------------------------- middleware


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse a body over ``max_body`` bytes with a JSON 413, declared or streamed."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        resp = error_response(413, "body-too-large", f"request body over the limit of {self.max_body} bytes", 2)
        resp.headers["connection"] = "close"
        await resp(scope, receive, send)


# ---------------------------------------------------------------- the app


def create_app(
    service: Service | None = None,
    limits: Limits = Limits(),
    decision_log: str | None = None,
    handle_sighup: bool = False,
) -> FastAPI:
    """The API over ``service`` (default: the rules ``policy`` would use here)."""
    from contextlib import asynccontextmanager

    svc = service or Service()
    audit = DecisionLog(decision_log) if decision_log else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if handle_sighup:
            import signal

            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, svc.reload))
        yield
        if audit:
            audit.close()

    app = FastAPI(
        title="policy",
        version=__version__,
        description="Arms-export policy reasoning: explained verdicts for what-if transfers, batch screening, "
        "policy diffs and timelines. The same calls and JSON as the `policy` command.",
        lifespan=lifespan,
        responses=ERRORS,
    )
    app.state.service = svc
    app.add_middleware(BodyLimit, max_body=limits.max_body)

    @app.exception_handler(LoadError)
    async def _on_load_error(request: Request, exc: LoadError) -> JSONResponse:
        return _load_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        diags = [
            Diagnostic("bad-request", e.get("msg", "invalid"), None, ".".join(str(x) for x in e.get("loc", ())))
            for e in exc.errors()
        ]
        first = diags[0] if diags else Diagnostic("bad-request", "invalid request")
        where = f" at `{first.help}`" if first.help else ""
        return error_response(422, "bad-request", f"{first.message}{where}", 2, diags)

    @app.exception_handler(Exception)
    async def _on_bug(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("internal error")
        return error_response(500, "internal-error", f"{type(exc).__name__}: {exc}", 3)

    async def timed(fn: Callable[[], T]) -> T | JSONResponse:
        try:
            return await asyncio.wait_for(run_in_threadpool(fn), limits.timeout)
        except asyncio.TimeoutError:
            return error_response(504, "timeout", f"request took over {limits.timeout:g} s", 2)

    def decided(endpoint: str, request: Any, snap: Snapshot, scenario: Any) -> Response:
        d = evaluate(snap.base, scenario)
        data = decision_json(snap.base, d)
        if audit:
            audit.write(endpoint, request, data["verdict"], data["record"])
        return Response(render_json(data), media_type="application/json")

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """The service is up; the rules it answers with."""
        snap = svc.current
        return Health(
            status="ok",
            package_version=__version__,
            rules_digest=snap.info.digest,
            rules_date=snap.info.date,
            loaded_at=snap.loaded_at,
            reloads=svc.reloads,
        )

    @app.get("/rules", response_model=RulesInfo, tags=["service"])
    def rules() -> RulesInfo:
        """Which rule files are in use (`policy where`)."""
        return svc.current.info

    @app.post("/what-if", response_model=DecisionOut, tags=["decisions"])
    async def what_if(q: WhatIf) -> Any:
        """Evaluate a transfer given by its parts (`policy what-if -f json`)."""
        snap = svc.current
        return await timed(
            lambda: decided("/what-if", q.model_dump(mode="json"), snap, build(snap.base, q, dt.date.today()))
        )

    @app.post("/evaluate", response_model=DecisionOut, tags=["decisions"])
    async def evaluate_scenario(
        scenario: dict[str, Any] = Body(
            ...,
            description="a scenario, as in a scenario file",
            examples=[
                {
                    "id": "kr-ua",
                    "title": "KR shells to UA",
                    "date": "2023-01-30",
                    "exporter": "KR",
                    "recipient": "UA",
                    "items": [{"id": "155mm-shell"}],
                }
            ],
        ),
    ) -> Any:
        """Evaluate a scenario (`policy evaluate -f json`)."""
        snap = svc.current
        return await timed(
            lambda: decided(
                "/evaluate", scenario, snap, scenario_from_data(Document("request", scenario, None), snap.base)
            )
        )

    @app.post(
        "/batch",
        tags=["decisions"],
        responses={200: {"content": {JSONL: {}}, "description": "one JSON line per input line"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSONL: {"schema": {"type": "string", "description": "one transfer a line"}}},
            }
        },
    )
    async def batch(request: Request) -> Any:
        """Screen many transfers: JSON Lines in, streamed JSON Lines out (`policy batch`). A bad line gives
        `{"line": N, "error": {...}}` in its place."""
        body = await request.body()
        raw_lines = json_lines(1, body)
        lines = [(n, raw) for n, raw in enumerate(raw_lines, 1) if raw.strip()]
        if len(lines) > limits.max_batch:
            return error_response(413, "batch-too-large", f"{len(lines)} lines; the limit is {limits.max_batch}", 2)
        snap = svc.current
        screener = await run_in_threadpool(snap.chunk_screener)
        deadline = time.monotonic() + limits.timeout
        record = {"policy_version": __version__, "rules_digest": snap.info.digest}

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(raw_lines), BATCH_CHUNK):
                if time.monotonic() > deadline:
                    first = next((n for n, _ in lines if n > i), i + 1)
                    err = {"code": "timeout", "message": f"stopped after {limits.timeout:g} s", "exit_code": 2}
                    yield (json.dumps({"line": first, "error": err}) + "\n").encode()
                    return
                part = raw_lines[i : i + BATCH_CHUNK]
                chunk = [(i + 1 + k, raw) for k, raw in enumerate(part)]
                with snap.chunk_lock:  # the screener's memos are not safe to grow from two threads
                    out, _, _, errors = screener(i + 1, part)
                if not errors and not audit:
                    yield out.encode()
                    continue
                rows = [json.loads(x) for x in out.splitlines()]
                for n, code, msg in errors:
                    rows.append({"line": n, "error": {"code": code, "message": msg, "exit_code": 2}})
                rows.sort(key=lambda r: r["line"])
                if audit:
                    raw = dict(chunk)
                    for r in rows:
                        line = raw[r["line"]].decode("utf-8", "replace").strip()
                        audit.write("/batch", line, r.get("verdict", "error"), record)
                yield "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows).encode()

        return StreamingResponse(_in_threads(chunks()), media_type=JSONL)

    @app.post("/timeline", response_model=list[TimelineRow], tags=["decisions"])
    async def timeline(q: TimelineRequest) -> Any:
        """The dates on which a transfer's verdict changes (`policy timeline -f json`)."""
        from policy.analysis.diff import timeline_json, timeline_steps

        snap = svc.current

        def run() -> Any:
            d1, d2 = _date(q.from_, "from"), _date(q.to, "to")
            if d2 < d1:
                raise LoadError([Diagnostic("bad-period", f"`to {d2}` is before `from {d1}`")])
            ask = WhatIf(
                exporter=q.exporter,
                recipient=q.recipient,
                item=[q.item],
                date=d1.isoformat(),
                lethal=q.lethal,
                end_user=q.end_user,
                transfer=q.transfer,
            )
            sc = build(snap.base, ask)
            sc = sc.model_copy(
                update={"title": f"{country_name(sc.exporter)} -> {country_name(sc.recipient)}: {q.item}"}
            )
            return timeline_json(timeline_steps(snap.base, sc, d1, d2))

        return await timed(run)

    @app.post("/diff", tags=["decisions"])
    async def diff(q: DiffRequest) -> Any:
        """Policy diff of the loaded rules: on two dates (`policy diff --at --vs`), with an overlay
        (`policy diff --with`), or both; the JSON of `policy diff -f json`."""
        from policy.analysis.diff import Side
        from policy.analysis.diff import diff as run_diff
        from policy.render.diffreport import diff_json

        snap = svc.current

        def run() -> Any:
            if (q.at is None) != (q.vs is None):
                raise LoadError([Diagnostic("bad-arguments", "`at` and `vs` go together")])
            if q.at is None and q.overlay is None:
                raise LoadError([Diagnostic("bad-arguments", "give `at` and `vs`, or an `overlay`, or both")])
            d1 = _date(q.at, "at") if q.at else None
            d2 = _date(q.vs, "vs") if q.vs else None
            new = snap.base
            label = "rules"
            if q.overlay is not None:
                new = _with_overlay(snap.base, q.overlay)
                label = f"rules + {' + '.join(new.overlays)}"
            old_label, new_label = ("rules", label) if d1 is None else (f"rules on {d1}", f"{label} on {d2}")
            report = run_diff(Side(old_label, snap.base, d1), Side(new_label, new, d2), [])
            return diff_json(report)

        return await timed(run)

    @app.get("/facts", tags=["world"])
    def facts_datasets() -> list[dict[str, Any]]:
        """The world datasets and how many entries each has (`policy facts`)."""
        from policy.eval.worldview import dataset_summary

        return dataset_summary(svc.current.base)

    @app.get("/facts/{country}", tags=["world"])
    def facts(country: str, date: str | None = Query(None, description="YYYY-MM-DD (default: today)")) -> Any:
        """What the world data says about a country on a date, with sources (`policy facts C -f json`)."""
        from policy.eval.worldview import country_facts

        day = _date(date, "date") if date else dt.date.today()
        return country_facts(svc.current.base, by_option("country", read_country, country), day)

    @app.get("/items", response_model=ItemCatalogueInfo, tags=["catalogue"])
    def items() -> ItemCatalogueInfo:
        """Munitions List categories and catalogue items, with lethality."""
        return item_catalogue(svc.current.base)

    @app.get("/countries", response_model=list[CountryInfo], tags=["catalogue"])
    def list_countries() -> list[CountryInfo]:
        """Every country code and name, and whether a rule file encodes its policy."""
        return countries(svc.current.base)

    @app.get("/jurisdictions", response_model=list[JurisdictionInfo], tags=["catalogue"])
    def list_jurisdictions() -> list[JurisdictionInfo]:
        """Every jurisdiction and regime with rules: counts, period covered, sources."""
        return jurisdictions(svc.current.base)

    return app


async def _in_threads(it: Iterator[bytes]) -> Any:
    """Run a blocking generator chunk by chunk in the thread pool, so the event loop stays free."""
    sentinel = object()
    while True:
        chunk = await run_in_threadpool(next, it, sentinel)
        if chunk is sentinel:
            return
        yield chunk


def _date(value: str, name: str) -> dt.date:
    """A date field of a request, read by the transfer contract (YYYY-MM-DD only)."""
    return option_date(value, name)


def _with_overlay(base: RuleBase, overlay: dict[str, Any]) -> RuleBase:
    """Apply an overlay given as data (written to a private temp file: the loader reads files)."""
    fd, path = tempfile.mkstemp(prefix="overlay-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(overlay, fh)
        return apply_overlays(base, [path])
    finally:
        os.unlink(path)


def _server_class() -> Any:
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGINT/SIGTERM end it with exit code 0 (uvicorn re-raises the signal)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            saved = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in saved.items():
                    signal.signal(sig, handler)

    return Server


def serve(
    host: str,
    port: int,
    service: Service,
    limits: Limits,
    decision_log: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the API with uvicorn until SIGINT/SIGTERM; SIGHUP reloads the rules."""
    import socket

    import uvicorn

    if port == 0:  # any free port, said before serving
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    app = create_app(service, limits, decision_log, handle_sighup=True)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = _server_class()(config)
    if on_ready:
        on_ready(f"http://{host}:{port}")
    server.run()
