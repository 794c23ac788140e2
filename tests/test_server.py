"""`policy serve`: the HTTP API answers as the command line does, within its limits, and reloads
its rules without dropping requests. In-process (test client) and over a real loopback socket."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policy.analysis.catalogue import countries, item_catalogue, jurisdictions
from policy.cli import app as cli_app
from policy.serve.api import Limits, Service, create_app

from .conftest import ROOT

KR_UA = {"exporter": "KR", "recipient": "UA", "item": ["ML3"], "date": "2023-01-30"}
KR_UA_ARGS = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]


@pytest.fixture(scope="module")
def service() -> Service:
    return Service([str(ROOT / "rules")])


@pytest.fixture(scope="module")
def client(service: Service) -> TestClient:
    with TestClient(create_app(service, Limits(max_body=64 * 1024, max_batch=100))) as c:
        yield c


def test_what_if_answers_with_the_same_json_as_the_cli(client: TestClient, runner):
    r = client.post("/what-if", json=KR_UA)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    cli = runner.invoke(cli_app, [*KR_UA_ARGS, "--rules", str(ROOT / "rules"), "-f", "json"])
    assert r.text == cli.stdout
    assert r.json()["verdict"] == "restricted"


def test_evaluate_takes_a_scenario_document(client: TestClient, runner):
    import yaml

    path = ROOT / "scenarios" / "kr" / "kr-ua-155mm-2023.yaml"
    doc = json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str)  # dates as YYYY-MM-DD
    r = client.post("/evaluate", content=doc, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    cli = runner.invoke(cli_app, ["evaluate", str(path), "--rules", str(ROOT / "rules"), "-f", "json"])
    assert r.json() == json.loads(cli.stdout)


def test_errors_are_json_with_the_cli_codes(client: TestClient):
    r = client.post("/what-if", json={**KR_UA, "exporter": "Narnia"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "unknown-country" and err["exit_code"] == 2 and "Narnia" in err["message"]
    r = client.post("/what-if", json={**KR_UA, "item": ["ML99"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad-category"
    r = client.post("/what-if", json={**KR_UA, "item": ["no-such-item"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown-item"
    r = client.post("/what-if", json={**KR_UA, "date": "2023-02-30"})
    assert r.status_code == 400 and r.json()["error"]["exit_code"] == 2
    r = client.post("/what-if", json={**KR_UA, "end_user": "army"})  # the transfer contract's code, as the CLI's
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad-choice"
    assert "end_user" in r.json()["error"]["message"]
    r = client.post("/what-if", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad-request"
    r = client.get("/facts/Narnia")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown-country"


def test_oversized_body_gets_a_json_413_declared_or_streamed(client: TestClient):
    big = json.dumps({**KR_UA, "assume": {"x": "y" * 70_000}})
    r = client.post("/what-if", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body-too-large"

    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    r = client.post("/batch", content=chunks())
    assert r.status_code == 413 and r.json()["error"]["code"] == "body-too-large"


def test_batch_streams_json_lines_with_bad_lines_in_place(client: TestClient):
    lines = [
        {"id": "a", "date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"},
        "not json",
        {"id": "c", "date": "2023-01-30", "exporter": "KR", "recipient": "PL", "item": "k2-tank"},
        {"id": "d", "date": "2023-01-30", "exporter": "KR", "recipient": "XX", "item": "ML3"},
    ]
    body = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    r = client.post("/batch", content=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(x) for x in r.text.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4]
    assert out[0]["id"] == "a" and out[0]["verdict"] == "restricted"
    assert out[1]["error"]["code"] == "bad-json" and out[3]["error"]["code"] == "unknown-country"
    assert out[2]["verdict"] == "licence_required"
    too_many = "".join(json.dumps(lines[0]) + "\n" for _ in range(101))
    r = client.post("/batch", content=too_many)
    assert r.status_code == 413 and r.json()["error"]["code"] == "batch-too-large"


def test_timeline_diff_facts_and_lists(client: TestClient, runner):
    body = {"exporter": "DE", "recipient": "UA", "item": "ML6", "from": "2021-01-01", "to": "2024-12-31"}
    r = client.post("/timeline", json=body)
    cli = runner.invoke(
        cli_app,
        ["timeline", "--exporter", "DE", "--recipient", "UA", "--item", "ML6", "--from", "2021-01-01"]
        + ["--to", "2024-12-31", "--rules", str(ROOT / "rules"), "-f", "json"],
    )
    assert r.status_code == 200 and r.json() == json.loads(cli.stdout)
    r = client.post("/diff", json={"at": "2022-02-01", "vs": "2022-03-01"})
    assert r.status_code == 200 and r.json()["changed"] is True
    assert client.post("/diff", json={"at": "2022-02-01"}).json()["error"]["code"] == "bad-arguments"
    overlay = (ROOT / "scenarios" / "what-if" / "kr-self-defence-exception.yaml").read_text(encoding="utf-8")
    import yaml

    doc = '{"overlay": ' + json.dumps(yaml.safe_load(overlay), default=str) + "}"
    r = client.post("/diff", content=doc, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["changed"] is True
    facts = client.get("/facts/UA", params={"date": "2023-01-30"}).json()
    assert any(f["fact"] == "in_armed_conflict" and f["value"] is True for f in facts["facts"])
    assert client.get("/facts").json()
    items = client.get("/items").json()
    shell = next(i for i in items["items"] if i["id"] == "155mm-shell")
    assert shell["category"].startswith("ML3") and shell["lethal"] is True and shell["category_title"]
    assert {c["code"] for c in client.get("/countries").json()} >= {"KR", "UA", "XK"}
    kr = next(j for j in client.get("/jurisdictions").json() if j["code"] == "KR")
    assert kr["kind"] == "state" and kr["rules"] == sum(kr["rules_by_effect"].values()) and kr["sources"]
    health = client.get("/health").json()
    assert health["status"] == "ok" and len(health["rules_digest"]) == 64


def test_request_time_limit_gives_a_json_504(service: Service):
    with TestClient(create_app(service, Limits(timeout=0.01))) as c:
        r = c.post("/diff", json={"at": "2022-02-01", "vs": "2022-03-01"})  # the exhaustive diff takes longer
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"


def test_openapi_validates_and_documents_the_models(client: TestClient):
    from openapi_spec_validator import validate

    spec = client.get("/openapi.json").json()
    validate(spec)
    for path in ("/what-if", "/evaluate", "/batch", "/diff", "/timeline", "/health", "/items", "/countries"):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert schemas["WhatIf"]["properties"]["end_user"]["enum"] == [
        "government",
        "military",
        "police",
        "private",
        "humanitarian",
        "non-state",
    ]
    assert "ErrorOut" in schemas and "DecisionOut" in schemas
    assert client.get("/docs").status_code == 200


def test_responses_match_their_documented_schemas(client: TestClient):
    import jsonschema

    spec = client.get("/openapi.json").json()

    def check(path: str, method: str, status: str, data: object) -> None:
        schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        jsonschema.validate(data, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)

    check("/what-if", "post", "200", client.post("/what-if", json=KR_UA).json())
    check("/what-if", "post", "400", client.post("/what-if", json={**KR_UA, "exporter": "XX"}).json())
    check("/what-if", "post", "422", client.post("/what-if", json={"exporter": "KR"}).json())
    check("/jurisdictions", "get", "200", client.get("/jurisdictions").json())
    check("/items", "get", "200", client.get("/items").json())
    check("/health", "get", "200", client.get("/health").json())


def test_decision_log_records_request_verdict_digest_and_version(service: Service, tmp_path: Path):
    path = tmp_path / "decisions.jsonl"
    with TestClient(create_app(service, decision_log=str(path))) as c:
        c.post("/what-if", json=KR_UA)
        c.post("/batch", content=json.dumps({**KR_UA, "item": "ML13"}) + "\n")
        c.post("/what-if", json={**KR_UA, "exporter": "XX"})  # an error: no decision, no entry
    entries = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [e["endpoint"] for e in entries] == ["/what-if", "/batch"]
    assert entries[0]["verdict"] == "restricted" and entries[0]["request"]["exporter"] == "KR"
    assert entries[1]["verdict"] == "licence_required"
    for e in entries:
        assert e["record"]["rules_digest"] == service.current.info.digest
        assert e["record"]["policy_version"] == "0.1.0"


def _edit_kr(folder: Path, old: str, new: str) -> None:
    kr = folder / "kr.yaml"
    kr.write_text(kr.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def test_reload_swaps_rules_whole_and_keeps_them_on_error(tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    svc = Service([str(rules)])
    before = svc.current
    _edit_kr(rules, "effect: restricted", "effect: licence_required")
    assert svc.reload() is True
    assert svc.current is not before and svc.current.info.digest != before.info.digest and svc.reloads == 1
    with TestClient(create_app(svc)) as c:
        assert c.post("/what-if", json=KR_UA).json()["verdict"] == "licence_required"
    good = svc.current
    _edit_kr(rules, "effect: licence_required", "effect: nonsense")
    assert svc.reload() is False and svc.current is good


# ---------------------------------------------------------------- a real server on a loopback port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type"), resp.read()
    finally:
        conn.close()


@pytest.fixture
def live(tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("POLICY_RULES", None)
    log = tmp_path / "decisions.jsonl"
    err = open(tmp_path / "server.err", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy", "serve", "--port", str(port), "--rules", str(rules)]
        + ["--max-body", "100000", "--decision-log", str(log)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if _request(port, "GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, (tmp_path / "server.err").read_text()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    yield proc, port, rules, log
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    err.close()


def test_live_server_answers_like_the_cli_refuses_big_bodies_and_binds_loopback(live, runner):
    proc, port, rules, log = live
    status, ctype, body = _request(
        port, "POST", "/what-if", json.dumps(KR_UA).encode(), {"content-type": "application/json"}
    )
    assert status == 200 and ctype == "application/json"
    cli = runner.invoke(cli_app, [*KR_UA_ARGS, "--rules", str(rules), "-f", "json"])
    assert json.loads(body) == json.loads(cli.stdout)
    status, ctype, body = _request(port, "POST", "/what-if", b"x" * 200_000, {"content-type": "application/json"})
    assert status == 413 and ctype == "application/json" and json.loads(body)["error"]["code"] == "body-too-large"
    status, _, body = _request(port, "GET", "/openapi.json")
    assert status == 200 and json.loads(body)["info"]["title"] == "policy"
    # bound to loopback only: the kernel's table of listening sockets has 127.0.0.1 for this port
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port
    ]
    assert listening == [f"0100007F:{port:04X}"]
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["verdict"] == "restricted"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_sighup_reloads_without_dropping_requests(live):
    proc, port, rules, _ = live
    body = json.dumps(KR_UA).encode()
    hdr = {"content-type": "application/json"}
    before = json.loads(_request(port, "GET", "/health")[2])
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set() and len(results) < 20_000:
            status, _, data = _request(port, "POST", "/what-if", body, hdr)
            results.append((status, json.loads(data).get("verdict", "")))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    _edit_kr(rules, "effect: restricted", "effect: licence_required")
    proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while json.loads(_request(port, "GET", "/health")[2])["reloads"] < 1:
        assert time.monotonic() < deadline, "no reload"
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    after = json.loads(_request(port, "GET", "/health")[2])
    assert after["rules_digest"] != before["rules_digest"]
    assert results and all(status == 200 for status, _ in results)
    verdicts = [v for _, v in results]
    assert verdicts[0] == "restricted" and verdicts[-1] == "licence_required"
    assert set(verdicts) == {"restricted", "licence_required"}


def test_catalogue_functions_return_models(shipped):
    cat = item_catalogue(shipped)
    assert [c.id for c in cat.categories][:3] == ["ML1", "ML2", "ML3"] or cat.categories[0].id == "ML1"
    assert len(cat.items) == len(shipped.items)
    ng = next(c for c in countries(shipped) if c.code == "NG")
    assert ng.name == "Nigeria" and ng.has_rules is False
    assert next(c for c in countries(shipped) if c.code == "KR").has_rules is True
    js = {j.code: j for j in jurisdictions(shipped)}
    assert set(js) == set(shipped.jurisdictions)
    assert js["KR"].rules == len(shipped.jurisdictions["KR"].rules) and js["KR"].file.endswith("kr.yaml")


def test_load_benchmark_runs_bounded_on_loopback_and_reports_rate_and_percentiles():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve_load.py"), "--requests", "60", "--connections", "2"]
        + ["--rules", str(ROOT / "rules"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["requests"] == 60 and out["requests_per_s"] > 0
    assert 0 < out["p50_ms"] <= out["p90_ms"] <= out["p99_ms"]


def test_batch_answers_as_policy_batch_does_over_chunks(service: Service, runner, tmp_path):
    """/batch screens by column in chunks (memos kept between requests): the same results, in place, as
    `policy batch`, with blank, bad and per-line (via) lines between them."""
    import random

    rng = random.Random(3)
    states = ["KR", "DE", "NO", "CH", "JP", "US", "GB", "FR", "SE", "IT", "PL", "TR"]
    recipients = ["UA", "SA", "TW", "KP", "RU", "IN", "AE", "IL", "PL", "VN"]
    items = ["ML1", "ML3", "ML4", "ML10", "155mm-shell", "k2-tank", "helmet"]
    lines = []
    for i in range(4500):
        e, r = rng.choice(states), rng.choice(recipients)
        line = {"id": i, "date": f"{rng.randint(2012, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
        line |= {"exporter": e, "recipient": r if r != e else "BR", "item": rng.choice(items)}
        if i % 500 == 7:
            line["via"] = ["US"] if e != "US" else ["GB"]
        lines.append(json.dumps(line))
        if i % 700 == 3:
            lines.append("")
        if i % 900 == 5:
            lines.append('{"id": "bad", "date": "2023-02-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}')
    body = "\n".join(lines) + "\n"
    (tmp_path / "in.jsonl").write_text(body, encoding="utf-8")
    res = runner.invoke(cli_app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 2  # the bad lines
    expected = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    with TestClient(create_app(service, Limits(max_body=4 << 20, max_batch=10_000))) as c:
        for _ in range(2):  # the second request meets the first one's memos
            r = c.post("/batch", content=body)
            assert r.status_code == 200
            out = [json.loads(x) for x in r.text.splitlines()]
            assert [o for o in out if "error" not in o] == expected
            bad = [o for o in out if "error" in o]
            assert len(bad) == 5 and {o["error"]["code"] for o in bad} == {"bad-date"}
            assert [o["line"] for o in out] == sorted(o["line"] for o in out)
