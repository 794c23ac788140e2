"""`policy lsp` driven as an editor drives it (pytest-lsp): a real server process over stdio."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from policy.edit.editor import check_document, code_actions, validate_document
from policy.load.loader import load_rulebase

from .conftest import ROOT

PROJECT = Path(os.environ.get("POLICY_LSP_TEST_ROOT", "/tmp")) / f"policy-lsp-test-{os.getpid()}"
RULE = "kr.conflict.no-lethal-to-belligerents"


def _project() -> Path:
    if not PROJECT.exists():
        for sub in ("rules", "scenarios", "seeds"):
            shutil.copytree(ROOT / sub, PROJECT / sub)
    return PROJECT


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "policy", "lsp"],
        server_env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
)
async def client(lsp_client: LanguageClient):
    root = _project()
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="policy")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def teardown_module() -> None:
    shutil.rmtree(PROJECT, ignore_errors=True)


def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text or path.read_text())
        )
    )
    return uri


async def _diagnostics(client: LanguageClient, uri: str, want: int = 1) -> list[T.Diagnostic]:
    for _ in range(20):
        await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if len(client.diagnostics.get(uri, [])) >= want:
            break
    return list(client.diagnostics.get(uri, []))


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


BROKEN_RULE = """
  - id: kr.conflict.drones
    title: No drones to countries in conflict
    effect: restricted
    binding: stated_policy
    exception_to: [kr.general.dapa-permision]
    when:
      all:
        - {fact: recipient.in_armed_conflit, eq: true}
        - {fact: item.category, within: [ML10]}
    citations:
      - {source: mnd-2023-04-20, instrument: statement, article: 20 Apr 2023}
"""


@pytest.mark.asyncio
async def test_misspelt_fact_and_unknown_exception_are_reported_at_their_lines(client: LanguageClient):
    path = _project() / "rules" / "kr.yaml"
    text = path.read_text() + BROKEN_RULE
    uri = _open(client, path, text)
    diags = await _diagnostics(client, uri, want=2)
    by_code = {d.code: d for d in diags}
    assert {"unknown-fact", "unknown-rule"} <= set(by_code), diags
    fact, rule = by_code["unknown-fact"], by_code["unknown-rule"]
    assert fact.range.start.line == _line_of(text, "recipient.in_armed_conflit")
    assert fact.range.start.character == text.splitlines()[fact.range.start.line].index("recipient.in_armed")
    assert fact.range.end.character - fact.range.start.character == len("recipient.in_armed_conflit")
    assert "did you mean `recipient.in_armed_conflict`?" in fact.message
    assert rule.range.start.line == _line_of(text, "kr.general.dapa-permision")
    assert "did you mean `kr.general.dapa-permission`?" in rule.message
    assert fact.severity == T.DiagnosticSeverity.Error and fact.source == "policy"
    # the same codes and places as the command line
    cli = {(d.code, d.span.line - 1) for d in check_document(str(path), text)}
    assert {(d.code, d.range.start.line) for d in diags} == cli

    # fixing the buffer clears them (after the debounce), without saving
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=path.read_text())],
        )
    )
    for _ in range(10):
        await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if not client.diagnostics[uri]:
            break
    assert list(client.diagnostics[uri]) == []


@pytest.mark.asyncio
async def test_hover_on_a_rule_id_shows_its_title_and_binding(client: LanguageClient):
    path = _project() / "scenarios" / "kr" / "kr-ua-155mm-2023.yaml"
    text = path.read_text()
    uri = _open(client, path)
    line = _line_of(text, RULE)
    hover = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(line, text.splitlines()[line].index(RULE) + 5))
    )
    assert hover is not None
    value = hover.contents.value
    assert "No lethal arms to countries in active armed conflict (declared policy, not a statute)" in value
    assert "binding: stated policy (not a statute)" in value and "effect: `restricted`" in value
    first = load_rulebase([str(ROOT / "rules")]).rule("kr.conflict.no-lethal-to-belligerents").citations[0]
    assert first.instrument in value  # first citation

    fact = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(_line_of(text, "expect: restricted"), 10))
    )
    assert "presumption of denial" in fact.contents.value
    country = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(_line_of(text, "recipient: UA"), 12))
    )
    assert "Ukraine" in country.contents.value and "in_armed_conflict" in country.contents.value


@pytest.mark.asyncio
async def test_definition_of_an_exception_lands_on_the_rule_in_another_file(client: LanguageClient):
    overlay = _project() / "scenarios" / "what-if" / "kr-self-defence-exception.yaml"
    text = overlay.read_text()
    uri = _open(client, overlay)
    line = _line_of(text, "exception_to: [" + RULE)
    col = text.splitlines()[line].index(RULE) + 3
    found = await client.text_document_definition_async(
        T.DefinitionParams(T.TextDocumentIdentifier(uri), T.Position(line, col))
    )
    [loc] = found
    kr = _project() / "rules" / "kr.yaml"
    assert loc.uri == kr.as_uri()
    assert loc.range.start.line == _line_of(kr.read_text(), f"- id: {RULE}")
    assert loc.range.start.character == kr.read_text().splitlines()[loc.range.start.line].index(RULE)

    refs = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=T.TextDocumentIdentifier(uri),
            position=T.Position(line, col),
            context=T.ReferenceContext(include_declaration=True),
        )
    )
    files = {Path(r.uri.removeprefix("file://")).relative_to(_project()).as_posix() for r in refs}
    assert {
        "rules/kr.yaml",
        "scenarios/what-if/kr-self-defence-exception.yaml",
        "scenarios/kr/kr-ua-155mm-2023.yaml",
    } <= files


@pytest.mark.asyncio
async def test_completion_and_code_actions(client: LanguageClient):
    path = _project() / "rules" / "kr.yaml"
    text = path.read_text()
    uri = _open(client, path)
    line = _line_of(text, "{fact: item.lethal, eq: true}")
    col = text.splitlines()[line].index("item.lethal")
    got = await client.text_document_completion_async(
        T.CompletionParams(T.TextDocumentIdentifier(uri), T.Position(line, col))
    )
    labels = {i.label for i in got.items}
    assert {"recipient.in_armed_conflict", "recipient.member_of.NATO", "risk.diversion"} <= labels
    line = _line_of(text, "effect: restricted")
    got = await client.text_document_completion_async(
        T.CompletionParams(T.TextDocumentIdentifier(uri), T.Position(line, len(text.splitlines()[line])))
    )
    assert {"prohibited", "restricted", "licence_required", "permitted"} <= {i.label for i in got.items}

    line = _line_of(text, f"- id: {RULE}")
    actions = await client.text_document_code_action_async(
        T.CodeActionParams(
            T.TextDocumentIdentifier(uri),
            T.Range(T.Position(line + 1, 0), T.Position(line + 1, 0)),
            T.CodeActionContext(diagnostics=[]),
        )
    )
    titles = {a.title: a for a in actions}
    skeleton = titles["Insert a citation skeleton"].edit.changes[uri][0]
    assert skeleton.range.start.line == _line_of(text[text.index(RULE) :], "citations:") + line + 1
    assert skeleton.new_text.startswith("      - source: ") and "instrument:" in skeleton.new_text
    assert "Add `until:` (the rule's last day in force)" in titles


def test_code_actions_insert_text_that_still_loads(tmp_path):
    text = (ROOT / "rules" / "kr.yaml").read_text()
    line = _line_of(text, f"- id: {RULE}")
    for edit in code_actions(text, line + 2):
        lines = text.splitlines(keepends=True)
        lines.insert(edit.line, edit.text)
        found, _ = validate_document(str(ROOT / "rules" / "kr.yaml"), "".join(lines))
        assert [d.code for d in found] in ([], ["unknown-source"]), edit.title


def test_a_500_rule_file_is_rechecked_after_an_edit(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    lines = [
        "format: policy-rules/v1\njurisdiction: MX\nname: Mexico",
        "sources:\n  - {id: act, title: Act, url: https://eur-lex.europa.eu/eli/reg/2021/821/oj}\nrules:",
        "  - id: mx.general.licence\n    title: General\n    effect: licence_required\n    binding: statute",
        "    default: true\n    when: {fact: item.category, within: ML}",
        "    citations: [{source: act, instrument: Act, article: Art. 1}]",
    ]
    facts = ["recipient.in_armed_conflict", "recipient.under_embargo.UN", "risk.diversion", "item.lethal"]
    for i in range(499):
        lines.append(
            f"  - id: mx.r.rule-{i}\n    title: Rule {i}\n    effect: restricted\n    binding: statute\n"
            f"    from: {2000 + i % 20}-01-01\n"
            f"    when: {{all: [{{fact: {facts[i % 4]}, eq: true}}, "
            f"{{fact: item.category, within: [ML{1 + i % 22}]}}]}}\n"
            "    citations: [{source: act, instrument: Act, article: Art. 2}]"
        )
    text = "\n".join(lines) + "\n"
    path = str(tmp_path / "rules" / "mx.yaml")
    (tmp_path / "rules" / "mx.yaml").write_text(text)
    assert check_document(path, text) == []  # the first check fills the lint cache
    edited = text.replace("title: Rule 7\n", "title: Rule 7, edited\n    explanation: the editor's change\n")
    assert check_document(path, edited) == []  # speed: benchmarks/lsp_recheck.py
    broken = edited.replace(
        "eq: true}, {fact: item.category, within: [ML9]", "eq: tru}, {fact: item.categry, within: [ML9]"
    )
    found, _ = validate_document(path, broken)
    assert "unknown-fact" in {d.code for d in found}
