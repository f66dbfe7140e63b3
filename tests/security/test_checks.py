"""The system checks refusing to start an API with an undeclared endpoint."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import path
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from resources.models import Project
from security.checks import check_serializer, check_view
from security.permissions import PublicEndpoint
from security.policies import Policy
from security.rules import HasScope
from security.views import PolicyModelViewSet
from security.voters import HasOrganizationRole


class NoPolicyViewSet(viewsets.ModelViewSet):
    queryset = Project.objects.all()


class OpenView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({})


class MarkedPublicView(APIView):
    permission_classes = [PublicEndpoint]


class PartialPolicy(Policy):
    visible = HasOrganizationRole("viewer")
    rules = {"list": HasScope("read")}


PartialPolicy.model = Project


class PartialViewSet(PolicyModelViewSet):
    policy = PartialPolicy


urlpatterns = [
    path("x/", NoPolicyViewSet.as_view({"get": "list"})),
]


def test_project_passes_its_own_checks():
    call_command("check", "--fail-level", "ERROR")


@pytest.mark.urls(__name__)
def test_viewset_without_policy_fails_the_system_check():
    with pytest.raises(SystemCheckError, match=r"secapi\.E001"):
        call_command("check")


def test_view_with_allow_any_is_not_accepted_as_public():
    errors = check_view("open/", OpenView, {})

    assert [e.id for e in errors] == ["secapi.E003"]


def test_view_marked_public_passes():
    assert check_view("public/", MarkedPublicView, {}) == []


def test_operation_without_rule_fails():
    errors = check_view("p/", PartialViewSet, {"get": "list", "delete": "destroy"})

    assert [e.id for e in errors] == ["secapi.E002"]
    assert "destroy" in errors[0].msg


def test_serializer_with_all_fields_fails():
    class Everything(serializers.ModelSerializer):
        class Meta:
            model = Project
            fields = "__all__"

    class AllBut(serializers.ModelSerializer):
        class Meta:
            model = Project
            exclude = ["description"]

    assert [e.id for e in check_serializer(Everything)] == ["secapi.E004"]
    assert [e.id for e in check_serializer(AllBut)] == ["secapi.E004"]
