"""Lists cost a fixed number of queries: no rule is evaluated row by row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from resources.models import Document
from tests import factories

pytestmark = pytest.mark.django_db


def _documents(world, count):
    Document.objects.bulk_create(
        Document(project=world.acme_project, owner=world.member, title=f"D{i}")
        for i in range(count)
    )


def _count_queries(client, url):
    # Warm the per-process caches (content types) that the first request
    # fills; what is measured is the cost of every request after it.
    client.get(url, {"page_size": 1})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("path", "role"),
    [("documents", "admin"), ("projects", "member"), ("memberships", "viewer")],
)
def test_list_query_count_does_not_grow_with_rows(world, client_for, path, role):
    client = client_for(getattr(world, role))
    _documents(world, 10)
    for i in range(10):
        factories.project(world.acme, f"P{i}")
    few = _count_queries(client, f"/api/v1/{path}/")

    _documents(world, 90)
    for i in range(90):
        factories.project(world.acme, f"Q{i}")
    for _ in range(90):
        factories.membership(world.acme, factories.user(), "viewer")
    many = _count_queries(client, f"/api/v1/{path}/")

    assert few == many


def test_list_query_count_does_not_grow_with_grants(world, client_for):
    client = client_for(world.member)
    _documents(world, 50)
    none = _count_queries(client, "/api/v1/documents/")

    for doc in Document.objects.all()[:50]:
        assign_perm("view_document", world.member, doc)
    granted = _count_queries(client, "/api/v1/documents/")

    assert none == granted


def test_documents_list_is_a_handful_of_queries(
    world, client_for, django_assert_max_num_queries
):
    """Savepoint, token, roles, content type (cached), count, page, release."""
    client = client_for(world.admin)
    _documents(world, 100)

    with django_assert_max_num_queries(7):
        client.get("/api/v1/documents/", {"page_size": 100})


def test_request_level_denial_never_queries_the_resource_table(world, client_for):
    client = client_for(world.viewer, "write")

    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/v1/projects/",
            {"organization": str(world.acme.pk), "name": "x"},
            format="json",
        )

    assert response.status_code == 403
    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "resources_project" not in tables
    assert "resources_organization" not in tables
