"""The JSON API: what it answers, its streaming exports, and its conformance to the OpenAPI
document FastAPI writes from its models (schemathesis); bad parameters are a 422 that names
them, never a 500."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.testclient import TestClient

from archive.web.api.params import EXPORT_FIELDS, ArticleParams, ExportParams, FilterParams, Parameters, RunParams
from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.query.facets import facet_counts
from archive.query.search import ARTICLE_FIELDS, FIELDS, ArticleQuery
from archive.web.app import create_app
from tests.query_catalogue import WIRE, QueryCatalogue

NASTY = ["'; DROP TABLE articles; --", '" OR ""="', "<script>alert(1)</script>", "../../etc/passwd", "%00",
         "\u202e\u0000", "1 OR 1=1", "NEAR(a b)", "${jndi:ldap://127.0.0.1/x}", "-1", "9" * 40, "true'",
         "2026-02-30", "ſelect", "*", "?", "\u0627\u064b"]
RAW = ["%ED%A0%80", "%FF%FE", "%C0%80", "%0A%0D"]  # undecodable or control bytes, sent as they are


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, query_catalogues: dict[str, QueryCatalogue],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    completed = query_catalogues[request.param]
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("api"), db_url=completed.url))
    with TestClient(app) as test_client:
        test_client.qc = completed  # type: ignore[attr-defined]
        yield test_client


def test_articles_page_and_next(client: TestClient) -> None:
    first = client.get("/api/articles", params={"limit": 3, "fields": "id,title,snippet"})
    assert first.status_code == 200
    body = first.json()
    assert [set(a) for a in body["articles"]] == [{"id", "title", "snippet"}] * 3
    second = client.get(body["next"]).json()
    assert {a["id"] for a in body["articles"]}.isdisjoint(a["id"] for a in second["articles"])


def test_articles_default_fields_keep_the_jsonl_contract(client: TestClient) -> None:
    article = client.get("/api/articles", params={"q": "interpol", "source": WIRE}).json()["articles"][0]
    assert set(ARTICLE_FIELDS) <= set(article)
    assert article["title_snippet"].startswith("<mark>Interpol</mark>")


def test_same_parameters_as_the_cli(client: TestClient) -> None:
    qc = client.qc  # type: ignore[attr-defined]
    response = client.get("/api/articles", params=[("source", WIRE), ("lang", "en"), ("lang", "ar"),
                                                   ("unique", "true"), ("sort", "first_seen"), ("order", "asc"),
                                                   ("seen_until", "2025-06-02"), ("author", "o'neil")])
    assert [a["id"] for a in response.json()["articles"]] == [qc.recorded.undated]


def test_article_detail_has_versions_duplicates_captures(client: TestClient) -> None:
    qc = client.qc  # type: ignore[attr-defined]
    detail = client.get(f"/api/articles/{qc.recorded.original}").json()
    assert detail["duplicates"][0]["id"] == qc.recorded.copy
    assert detail["versions"][0]["version"] == 1
    assert detail["captures"][0]["replay_url"].startswith("/web/")
    assert client.get("/api/articles/999999").status_code == 404


def test_sources_runs_stats(client: TestClient) -> None:
    qc = client.qc  # type: ignore[attr-defined]
    sources = {s["name"]: s for s in client.get("/api/sources").json()["sources"]}
    assert sources[WIRE]["articles"] == 5 and sources[WIRE]["last_run"] is None
    runs = client.get("/api/runs", params={"limit": 5}).json()["runs"]
    assert runs and runs[0]["status"] == "ok"
    stats = client.get("/api/stats", params={"lang": "ar"}).json()
    assert stats["total"] == sum(a["language"] == "ar" for a in qc.articles)
    assert stats["languages"] == [{"value": "ar", "count": stats["total"]}]


def test_exports_stream_every_match(client: TestClient) -> None:
    qc = client.qc  # type: ignore[attr-defined]
    with client.stream("GET", "/api/export.jsonl") as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert len(lines) == len(qc.articles) and list(lines[0]) == list(EXPORT_FIELDS)
    response = client.get("/api/export.csv", params={"lang": "ar", "fields": "id,title,authors"})
    assert response.headers["content-disposition"] == 'attachment; filename="articles.csv"'
    assert response.text.startswith("\ufeffid,title,authors\r\n")  # the BOM: spreadsheets read UTF-8
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert len(rows) == sum(a["language"] == "ar" for a in qc.articles)
    assert all(row["title"] for row in rows)
    empty = client.get("/api/export.csv", params={"q": "zzzznotaword"})
    assert empty.text == "\ufeff" + ",".join(EXPORT_FIELDS) + "\r\n"


@pytest.mark.parametrize("path, params, parameter", [
    ("/api/articles", {"limit": "0"}, "limit"), ("/api/articles", {"limit": "ten"}, "limit"),
    ("/api/articles", {"since": "yesterday"}, "since"), ("/api/articles", {"sort": "random"}, "sort"),
    ("/api/articles", {"sort": "relevance"}, "sort"), ("/api/articles", {"unique": "maybe"}, "unique"),
    ("/api/articles", {"cursor": "xyz"}, "cursor"), ("/api/articles", {"fields": "id,password"}, "fields"),
    ("/api/articles", {"q": '""'}, "q"), ("/api/articles", {"since": "2026-02-01", "until": "2026-01-01"}, "since"),
    ("/api/articles", {"colour": "red"}, "colour"), ("/api/articles", [("q", "a"), ("q", "b")], "q"),
    ("/api/articles/abc", {}, "id"), ("/api/articles/0", {}, "id"), ("/api/runs", {"limit": "-3"}, "limit"),
    ("/api/stats", {"cursor": "x"}, "cursor"), ("/api/export.csv", {"fields": "snippet"}, "fields"),
    ("/api/sources", {"q": "x"}, "q"),
])
def test_bad_parameters_are_422_with_a_message(client: TestClient, path: str, params: dict, parameter: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.json()["parameter"] == parameter and response.json()["error"]


@pytest.mark.parametrize("path, model", [
    ("/api/articles", ArticleParams), ("/api/stats", FilterParams), ("/api/export.jsonl", ExportParams),
    ("/api/runs", RunParams),
])
def test_injection_attempts_in_every_parameter_are_harmless(client: TestClient, path: str,
                                                            model: type[Parameters]) -> None:
    qc = client.qc  # type: ignore[attr-defined]
    search = {"q": "bahria"} if "q" in model.names() else {}  # alone and beside a search
    for name in model.names():
        requests = [client.get(path, params={name: value}) for value in NASTY]
        requests += [client.get(path, params=search | {name: value}) for value in NASTY]
        requests += [client.get(f"{path}?{name}={raw}") for raw in RAW]
        for value, response in zip(NASTY + NASTY + RAW, requests, strict=True):
            assert response.status_code in (200, 422), (name, value, response.text[:300])
            if response.status_code == 422:
                assert response.json()["parameter"] == name
    assert facet_counts(qc.catalogue, ArticleQuery())["total"] == len(qc.articles)
    assert client.get("/api/articles/1%20OR%201=1").status_code == 422


ENDPOINTS = {"/api/articles": "ArticlePage", "/api/articles/{id}": "ArticleDetail", "/api/sources": "SourceList",
             "/api/runs": "RunList", "/api/stats": "Stats", "/api/export.jsonl": "application/x-ndjson",
             "/api/export.csv": "text/csv"}  # a JSON endpoint's model, or a stream's media type


def test_openapi_document_describes_every_route(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "/api"}]  # the paths are the API app's, mounted at /api
    assert {"/api" + path for path in document["paths"]} == set(ENDPOINTS)


def test_openapi_document_gives_every_endpoint_its_response_models(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, operation in document["paths"].items():
        responses, expected = operation["get"]["responses"], ENDPOINTS["/api" + path]
        if "/" in expected:  # a stream of text
            assert responses["200"]["content"] == {expected: {"schema": {"type": "string"}}}
        else:
            assert responses["200"]["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{expected}"}
            assert schemas[expected]["properties"] and schemas[expected]["type"] == "object"
        assert responses["422"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert set(schemas["ArticleHit"]["properties"]) == set(FIELDS)
    assert "required" not in schemas["ArticleHit"]  # fields= picks which
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)  # FastAPI's own 422 is not ours


@pytest.mark.parametrize("params, parameter", [
    ({"colour": "red"}, "colour"), ({"since": "2026-13-01"}, "since"), ({"limit": "1001"}, "limit"),
    ({"sort": "relevance"}, "sort"),
], ids=["unknown parameter", "bad date", "bad limit", "relevance without q"])
def test_a_422_is_the_documented_error_body(client: TestClient, params: dict, parameter: str) -> None:
    document = client.get("/api/openapi.json").json()
    response = client.get("/api/articles", params=params)
    assert response.status_code == 422
    body, error_schema = response.json(), document["components"]["schemas"]["Error"]
    assert set(body) == set(error_schema["properties"]) == set(error_schema["required"]) == {"error", "parameter"}
    assert body["parameter"] == parameter and isinstance(body["error"], str) and parameter in body["error"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def asgi_app(request: pytest.FixtureRequest, query_catalogues: dict[str, QueryCatalogue],  # type: ignore[no-untyped-def]
             tmp_path_factory: pytest.TempPathFactory):
    completed = query_catalogues[request.param]
    app = create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("schemathesis")), db_url=completed.url))
    with TestClient(app) as test_client:
        assert test_client.get("/api/openapi.json").json() == schema.raw_schema  # the document tested below
    return app


# The document as the server serves it, read once for the tests to be generated from; it
# comes from the code alone, so an app on an empty catalogue serves the same one.
# (schemathesis.pytest.from_fixture would read it from each app, but fails on pytest 9.2.)
_EMPTY = tempfile.TemporaryDirectory(prefix="newsarchive-openapi-")
Catalogue(Settings(data_dir=Path(_EMPTY.name)).database_url).close()  # an empty catalogue: serve only reads
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(Settings(data_dir=Path(_EMPTY.name))))


# Derandomized: the same generated requests on every run. schemathesis takes a query value
# "null" or "false" for a null or a boolean where the document asks for an array of strings,
# though a query string has only strings and "null" is a fine language or author name to look
# for (schemathesis issues 2312 and 3056, its pull request 3129 still open): drawn at random,
# such a case failed one run in a few, saying the API accepts invalid data.
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_document(case, asgi_app) -> None:  # type: ignore[no-untyped-def]
    """Generated requests, valid and not: no 5xx, invalid ones refused, answers as documented.

    Not checked: that every request the document allows is accepted. It cannot say that
    sorting by relevance needs q, that since comes before until, or what a search or a
    cursor is; those are refused with a 422 the document does describe.
    """
    case.call_and_validate(app=asgi_app, excluded_checks=[positive_data_acceptance])
