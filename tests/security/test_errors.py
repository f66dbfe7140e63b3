"""The contract's error shape, ids, pagination and query-parameter rules."""

from __future__ import annotations

import uuid

import pytest

from resources.models import Project
from tests import factories

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def test_error_body_has_exactly_the_six_members_and_request_id_header(
    world, client_for
):
    response = client_for(world.owner).get(f"/api/v1/projects/{uuid.uuid4()}/")

    assert response.status_code == 404
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["request_id"] == response["X-Request-ID"]


def test_non_uuid_path_segment_is_404_whatever_the_credentials(
    world, client_for, anonymous
):
    for client in (anonymous, client_for(world.owner)):
        response = client.get("/api/v1/projects/1/")
        assert response.status_code == 404


def test_ids_in_bodies_are_uuids(world, client_for):
    body = client_for(world.owner).get("/api/v1/documents/").json()

    for row in body["results"]:
        for key in ("id", "project", "owner"):
            uuid.UUID(row[key])


def test_times_are_utc_with_z(world, client_for):
    row = client_for(world.owner).get("/api/v1/projects/").json()["results"][0]

    assert row["created_at"].endswith("Z")


def test_unknown_query_parameter_is_400_naming_it(world, client_for):
    response = client_for(world.owner).get(
        "/api/v1/projects/", {"owner__password": "x"}
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == PROBLEM_KEYS | {"errors"}
    assert body["errors"] == [
        {
            "field": "owner__password",
            "code": "unknown_parameter",
            "detail": "Unknown query parameter.",
        }
    ]


def test_format_parameter_is_refused_outside_development(world, client_for):
    response = client_for(world.owner).get("/api/v1/projects/", {"format": "api"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_unknown_parameter_on_invisible_object_is_404_first(world, client_for):
    url = f"/api/v1/projects/{world.globex_project.pk}/"

    response = client_for(world.owner).get(url, {"bogus": "1"})

    assert response.status_code == 404


def test_ordering_by_undeclared_field_is_400(world, client_for):
    response = client_for(world.owner).get(
        "/api/v1/projects/", {"ordering": "created_by__password"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "ordering"


def test_ordering_by_declared_field_works(world, client_for):
    factories.project(world.acme, "Aardvark")

    names = [
        row["name"]
        for row in client_for(world.owner)
        .get("/api/v1/projects/", {"ordering": "name"})
        .json()["results"]
    ]

    assert names == sorted(names)


class TestPagination:
    def test_default_page_size_is_50(self, world, client_for):
        Project.objects.bulk_create(
            Project(organization=world.acme, name=f"P{i}") for i in range(60)
        )

        body = client_for(world.owner).get("/api/v1/projects/").json()

        assert body["count"] == 61
        assert len(body["results"]) == 50
        assert set(body) == {"count", "next", "previous", "results"}

    def test_page_size_above_maximum_is_capped_to_100(self, world, client_for):
        Project.objects.bulk_create(
            Project(organization=world.acme, name=f"P{i}") for i in range(120)
        )

        body = (
            client_for(world.owner).get("/api/v1/projects/", {"page_size": 1000}).json()
        )

        assert len(body["results"]) == 100

    @pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", ""])
    @pytest.mark.parametrize("name", ["page", "page_size"])
    def test_non_positive_integer_is_400(self, world, client_for, name, value):
        response = client_for(world.owner).get("/api/v1/projects/", {name: value})

        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == name

    def test_page_past_the_last_is_404(self, world, client_for):
        response = client_for(world.owner).get("/api/v1/projects/", {"page": 5})

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_pages_do_not_overlap(self, world, client_for):
        Project.objects.bulk_create(
            Project(organization=world.acme, name=f"P{i}") for i in range(30)
        )
        client = client_for(world.owner)

        first = client.get("/api/v1/projects/", {"page_size": 20}).json()["results"]
        second = client.get("/api/v1/projects/", {"page_size": 20, "page": 2}).json()[
            "results"
        ]

        ids = [row["id"] for row in first + second]
        assert len(ids) == len(set(ids)) == 31


def test_malformed_json_is_400_parse_error(world, client_for):
    response = client_for(world.admin, "write").post(
        "/api/v1/projects/", data="{bad", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_form_content_type_is_415(world, client_for):
    response = client_for(world.admin, "write").post(
        "/api/v1/projects/",
        data="name=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_deeply_nested_json_is_400_not_500(world, client_for):
    body = "[" * 5000 + "]" * 5000

    response = client_for(world.admin, "write").post(
        "/api/v1/projects/", data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_body_over_limit_is_413(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 2000 + '"}'

    response = client_for(world.admin, "write").post(
        "/api/v1/projects/", data=body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not Project.objects.filter(name__startswith="xxx").exists()


def test_api_responses_are_not_cacheable(world, client_for):
    response = client_for(world.owner).get("/api/v1/projects/")

    assert response["Cache-Control"] == "no-store"
