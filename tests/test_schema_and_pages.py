"""The OpenAPI schema, the docs pages, the admin and the probes."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.fixture
def schema():
    response = APIClient().get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi(schema):
    validate(schema)


def test_schema_declares_the_oauth2_flows(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2"]

    assert scheme["type"] == "oauth2"
    assert set(scheme["flows"]) == {"authorizationCode", "clientCredentials"}
    assert "audit" in scheme["flows"]["authorizationCode"]["scopes"]


def test_each_operation_names_its_scopes_and_errors(schema):
    list_projects = schema["paths"]["/api/v1/projects/"]["get"]
    create_project = schema["paths"]["/api/v1/projects/"]["post"]
    share = schema["paths"]["/api/v1/documents/{id}/share/"]["post"]

    assert list_projects["security"] == [{"oauth2": ["read"]}]
    assert create_project["security"] == [{"oauth2": ["write"]}]
    assert share["security"] == [{"oauth2": ["admin"]}]
    assert {"401", "403", "429"} <= set(list_projects["responses"])
    retrieve = schema["paths"]["/api/v1/projects/{id}/"]["get"]
    assert "application/problem+json" in retrieve["responses"]["404"]["content"]
    assert "Allowed for:" in retrieve["description"]


def test_every_operation_is_secured(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), f"{method.upper()} {path} has no security"
            assert {} not in operation["security"], (
                f"{method.upper()} {path} is anonymous"
            )


def test_schema_ids_are_uuids(schema):
    parameter = schema["paths"]["/api/v1/projects/{id}/"]["get"]["parameters"][0]

    assert parameter["schema"]["format"] == "uuid"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_nothing_from_other_hosts(path):
    response = APIClient().get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert not _EXTERNAL.search(html), _EXTERNAL.search(html)
    assert "/static/drf_spectacular_sidecar/" in html


def test_swagger_ui_script_is_served_from_this_server():
    page = APIClient().get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?script=)"', page)

    assert script, "Swagger UI's start-up script is not a same-origin file"
    response = APIClient().get(script.group(1))
    assert response.status_code == 200
    assert "demo-spa" in response.content.decode()


def test_admin_login_loads_nothing_from_other_hosts():
    response = APIClient().get("/admin/login/")

    assert response.status_code == 200
    assert not _EXTERNAL.search(response.content.decode())


def test_admin_index_renders_every_model_for_superuser(db, django_user_model):
    admin = django_user_model.objects.create_superuser(
        "root", "root@example.com", "x" * 16
    )
    client = APIClient()
    client.force_login(admin)

    html = client.get("/admin/").content.decode()

    for model in (
        "organization",
        "membership",
        "project",
        "document",
        "user",
        "application",
    ):
        assert f"/{model}/" in html, model


def test_healthz_answers_ok():
    assert APIClient().get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_cache():
    response = APIClient().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_readyz_is_503_when_cache_fails(monkeypatch):
    def broken(*args, **kwargs):
        msg = "cache down"
        raise ConnectionError(msg)

    monkeypatch.setattr(cache, "set", broken)

    response = APIClient().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"


def test_schema_generates_without_request_or_warning(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "s.yaml"),
    )

    assert "/api/v1/documents/" in (tmp_path / "s.yaml").read_text()
