"""The OpenAPI document is honest: every registered route is described, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from jsonschema.validators import Draft202012Validator

from server.app import create_app
from server.config import DeskConfig
from server.context import DESK
from server.openapi import openapi_document
from tests.fixtures.desk import DeskServer

_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def _router_routes(app: web.Application) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        if route.method not in _METHODS:
            continue  # HEAD is implied by GET
        info = route.get_info()
        path = info.get("formatter") or info.get("path")
        if path is None and "prefix" in info:  # static files
            path = info["prefix"].rstrip("/") + "/{path}"
        assert path is not None, info
        out.add((route.method, path))
    return out


def _doc_routes(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


@pytest.mark.parametrize("demo", [False, True])
def test_every_route_is_documented_and_vice_versa(tmp_path: Path, demo: bool) -> None:
    app = create_app(DeskConfig(data_dir=tmp_path, demo=demo, totp_key=bytes(32)))
    try:
        routes = _router_routes(app)
        documented = _doc_routes(openapi_document(demo=demo))
        assert routes - documented == set(), "routes missing from the OpenAPI document"
        assert documented - routes == set(), "documented routes that do not exist"
        assert any(p.startswith("/api/v1/dev/") for _, p in routes) is demo
    finally:
        app[DESK].store.close()


def test_document_is_valid_openapi_3_1(desk_server_shared: DeskServer) -> None:
    r = desk_server_shared.http.get(f"{desk_server_shared.base_url}/api/openapi.json", timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    # every $ref resolves, every schema is a valid JSON Schema, operation ids are unique
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', r.text)
    assert refs and set(refs) <= set(doc["components"]["schemas"])
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    # the path parameters named in each template are declared
    for path, item in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in item.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, declared)
