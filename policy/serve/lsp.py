"""``policy lsp``: a language server over stdio (pygls) for rule, world, item, overlay and scenario
files. It only translates :mod:`policy.editor`'s answers to the Language Server Protocol.

Diagnostics are computed after the buffer has been still for ``DEBOUNCE`` seconds, in one worker
thread, and published with the command line's codes (``unknown-fact``, ``expired``...).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from policy import __version__
from policy.edit.editor import (
    Workspace,
    code_actions,
    completions,
    hover_text,
    project_root,
    span_range,
    validate_document,
)
from policy.model.errors import Diagnostic

DEBOUNCE = 0.25
"""Seconds a buffer must be still before it is checked."""
QUICK = 0.5
"""A lint that takes longer is published after the `validate` errors, as a second message."""

_SEVERITY = {
    "error": T.DiagnosticSeverity.Error,
    "warning": T.DiagnosticSeverity.Warning,
    "info": T.DiagnosticSeverity.Information,
}
_KINDS = {
    "fact": T.CompletionItemKind.Field,
    "operator": T.CompletionItemKind.Operator,
    "country": T.CompletionItemKind.Constant,
    "category": T.CompletionItemKind.EnumMember,
    "effect": T.CompletionItemKind.EnumMember,
    "binding": T.CompletionItemKind.EnumMember,
    "rule": T.CompletionItemKind.Reference,
    "value": T.CompletionItemKind.Value,
}


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policy", __version__)
        self.workspaces: dict[Path, Workspace] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.last: dict[str, list[Diagnostic]] = {}
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-check")

    def ws_for(self, path: str) -> Workspace:
        root = project_root(path)
        if root not in self.workspaces:
            self.workspaces[root] = Workspace(root)
        return self.workspaces[root]

    def text(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source


server = PolicyServer()


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _range(line: int, col: int, end_line: int, end_col: int) -> T.Range:
    return T.Range(T.Position(line, col), T.Position(end_line, end_col))


def _to_lsp(text: str, d: Diagnostic) -> T.Diagnostic:
    return T.Diagnostic(
        range=_range(*span_range(text, d)),
        message=d.message + (f"\nhelp: {d.help}" if d.help else ""),
        severity=_SEVERITY.get(d.severity, T.DiagnosticSeverity.Error),
        code=d.code,
        source="policy",
    )


def schedule(ls: PolicyServer, uri: str, delay: float = DEBOUNCE) -> None:
    """(Re)start the quiet-period timer for ``uri``; the check runs when it expires."""
    loop = asyncio.get_running_loop()
    old = ls.pending.pop(uri, None)
    if old is not None:
        old.cancel()
    ls.pending[uri] = loop.call_later(delay, lambda: asyncio.ensure_future(publish(ls, uri)))


async def publish(ls: PolicyServer, uri: str) -> None:
    """Check a buffer: `validate` errors first (fast), then with `lint`'s findings added."""
    ls.pending.pop(uri, None)
    doc = ls.workspace.get_text_document(uri)
    text, version = doc.source, doc.version
    path = _path(uri)
    ws = ls.ws_for(path)
    ws.opened(path, text)
    loop = asyncio.get_running_loop()

    def send(diags: list[Diagnostic]) -> bool:
        if ls.workspace.get_text_document(uri).version != version:
            return False  # edited meanwhile: a newer check is scheduled
        ls.last[uri] = diags
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=[_to_lsp(text, d) for d in diags])
        )
        return True

    try:
        found, pending = await loop.run_in_executor(ls.checker, validate_document, path, text)
        if pending is None:
            send(found)
            return
        if ls.workspace.get_text_document(uri).version != version:
            return
        later = loop.run_in_executor(ls.checker, pending, dt.date.today())
        try:  # a quick lint is published together with the errors: one message, no flicker
            notes = await asyncio.wait_for(asyncio.shield(later), QUICK)
        except asyncio.TimeoutError:
            if not send(found):
                return
            notes = await later
        send(sorted(found + notes, key=Diagnostic.sort_key))
    except Exception as exc:  # pragma: no cover - a bug: say so in the editor, keep serving
        ls.window_log_message(T.LogMessageParams(T.MessageType.Error, f"policy: check failed: {exc!r}"))


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: T.DidOpenTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, 0)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: T.DidChangeTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: T.DidSaveTextDocumentParams) -> None:
    schedule(ls, params.text_document.uri, 0)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: PolicyServer, params: T.DidCloseTextDocumentParams) -> None:
    path = str(Path(_path(params.text_document.uri)).resolve())
    ls.ws_for(path).open_texts.pop(path, None)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: PolicyServer, params: T.HoverParams) -> T.Hover | None:
    uri = params.text_document.uri
    text = ls.text(uri)
    md = hover_text(ls.ws_for(_path(uri)), text, params.position.line, params.position.character)
    if md is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md))


def _locations(occs: list[Any]) -> list[T.Location]:
    return [
        T.Location(uri=from_fs_path(o.file) or o.file, range=_range(o.line, o.col, o.end_line, o.end_col)) for o in occs
    ]


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: T.DefinitionParams) -> list[T.Location]:
    uri, pos = params.text_document.uri, params.position
    path = _path(uri)
    return _locations(ls.ws_for(path).definition(path, ls.text(uri), pos.line, pos.character))


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
def references(ls: PolicyServer, params: T.ReferenceParams) -> list[T.Location]:
    uri, pos = params.text_document.uri, params.position
    path = _path(uri)
    occs = ls.ws_for(path).references(path, ls.text(uri), pos.line, pos.character, params.context.include_declaration)
    return _locations(occs)


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[":", " ", "[", ",", "."]))
def completion(ls: PolicyServer, params: T.CompletionParams) -> T.CompletionList:
    uri, pos = params.text_document.uri, params.position
    path = _path(uri)
    items = completions(ls.ws_for(path), path, ls.text(uri), pos.line, pos.character)
    return T.CompletionList(
        is_incomplete=False,
        items=[T.CompletionItem(label=c.label, kind=_KINDS.get(c.kind), detail=c.detail or None) for c in items],
    )


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION)
def code_action(ls: PolicyServer, params: T.CodeActionParams) -> list[T.CodeAction]:
    uri = params.text_document.uri
    text = ls.text(uri)
    line = params.range.start.line
    found = [d for d in ls.last.get(uri, []) if d.span and d.span.line - 1 == line]
    out = []
    for e in code_actions(text, line, found):
        edit = T.TextEdit(range=_range(e.line, 0, e.line, 0), new_text=e.text)
        matching = [d for d in params.context.diagnostics if e.diagnostic is not None and d.code == e.diagnostic.code]
        out.append(
            T.CodeAction(
                title=e.title,
                kind=T.CodeActionKind.QuickFix,
                edit=T.WorkspaceEdit(changes={uri: [edit]}),
                diagnostics=matching or None,
            )
        )
    return out


def serve() -> None:  # pragma: no cover - runs in the editor's subprocess
    server.start_io()


__all__ = ["DEBOUNCE", "PolicyServer", "serve", "server"]
