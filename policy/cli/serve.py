"""The HTTP API verb (`policy serve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from policy.cli.common import RulesOpt, WithOpt, guarded
from policy.model.errors import Diagnostic, LoadError

if TYPE_CHECKING:
    pass


@guarded
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", metavar="N", help="TCP port (0: any free port)."),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    max_body: int = typer.Option(1 << 20, "--max-body", metavar="BYTES", help="Largest request body."),
    max_batch: int = typer.Option(10_000, "--max-batch", metavar="N", help="Most lines in one /batch request."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS", help="Time limit of one request."),
    decision_log: Optional[str] = typer.Option(
        None, "--decision-log", metavar="FILE", help="Append each request and verdict to FILE (JSON Lines)."
    ),
) -> None:
    """HTTP API over the same calls (FastAPI; docs at /docs). SIGHUP reloads the rules."""
    try:
        from policy.serve.api import Limits, Service
        from policy.serve.api import serve as run_server
    except ImportError as exc:
        raise LoadError(
            [Diagnostic("missing-extra", f"`policy serve` needs {exc.name}", help="pip install 'policy[server]'")]
        ) from None
    service = Service(list(rules) if rules else None, list(overlays or []))
    limits = Limits(max_body=max_body, max_batch=max_batch, timeout=timeout)
    typer.echo(service.current.info.summary(), err=True)
    run_server(host, port, service, limits, decision_log, lambda url: typer.echo(f"serving on {url}", err=True))
