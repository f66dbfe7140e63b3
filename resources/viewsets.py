"""The reference API's viewsets: thin, each decided by its policy."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from resources import policies
from resources.filters import DocumentFilter, MembershipFilter, ProjectFilter
from resources.models import Document, Membership, Organization, Project, Role
from resources.serializers import (
    DocumentSerializer,
    MembershipSerializer,
    MeSerializer,
    OrganizationSerializer,
    ProjectSerializer,
)
from resources.services import document_share, document_unshare
from security.exceptions import ObjectNotVisible
from security.fields import StrictSerializer
from security.views import PolicyModelViewSet, PolicyViewSet


class OrganizationViewSet(PolicyModelViewSet):
    policy = policies.OrganizationPolicy
    serializer_class = OrganizationSerializer
    ordering_fields = ("created_at", "name")


class MembershipViewSet(PolicyModelViewSet):
    policy = policies.MembershipPolicy
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ("created_at", "role")
    lock_on_write = True
    lock_parent = "organization"
    rate_limits = {
        "create": "sensitive",
        "update": "sensitive",
        "partial_update": "sensitive",
        "destroy": "sensitive",
    }


class ProjectViewSet(PolicyModelViewSet):
    policy = policies.ProjectPolicy
    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    ordering_fields = ("created_at", "updated_at", "name")

    def save_kwargs(self, serializer: Any) -> dict[str, Any]:
        return {"created_by": self.request.user}


class ShareSerializer(StrictSerializer):
    user = serializers.UUIDField()
    permission = serializers.ChoiceField(choices=["view", "change"])


class DocumentViewSet(PolicyModelViewSet):
    policy = policies.DocumentPolicy
    queryset = Document.objects.select_related("project")
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    ordering_fields = ("created_at", "updated_at", "title")
    rate_limits = {"share": "sensitive", "unshare": "sensitive"}

    def save_kwargs(self, serializer: Any) -> dict[str, Any]:
        return {"owner": self.request.user}

    def _grantee(self, document: Document, data: dict[str, Any]) -> tuple[Any, str]:
        """Return the grantee and their role, locked until the grant is saved.

        The organization row is locked first, as every membership change
        does (`lock_parent`), so a concurrent demotion or leave waits for
        the grant, then cleans it up; it can't slip in between.
        """
        organization_id = document.project.organization_id
        list(
            Organization.objects.select_for_update()
            .filter(pk=organization_id)
            .values_list("pk", flat=True)
        )
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(
                organization_id=organization_id,
                user_id=data["user"],
                user__is_active=True,
            )
            .first()
        )
        if membership is None:
            # Someone outside the organization is refused like a missing id.
            raise serializers.ValidationError(
                {
                    "user": [
                        serializers.ErrorDetail(
                            str(_("Object not found.")), "not_found"
                        )
                    ]
                }
            )
        return membership.user, membership.role

    @extend_schema(request=ShareSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        """Grant a member of the document's organization `view` or `change`."""
        document = self.get_object()
        serializer = ShareSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user, role = self._grantee(document, serializer.validated_data)
        permission = serializer.validated_data["permission"]
        if permission == "change" and role == Role.VIEWER:
            raise serializers.ValidationError(
                {
                    "permission": [
                        serializers.ErrorDetail(
                            str(_("A viewer may be given view only.")), "invalid"
                        )
                    ]
                }
            )
        document_share(document=document, user=user, permission=permission)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ShareSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def unshare(self, request: Request, pk: str | None = None) -> Response:
        """Revoke `change`, or `view` (which also revokes `change`)."""
        document = self.get_object()
        serializer = ShareSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user, _role = self._grantee(document, serializer.validated_data)
        document_unshare(
            document=document,
            user=user,
            permission=serializer.validated_data["permission"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeViewSet(PolicyViewSet, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    """The caller's own account."""

    policy = policies.UserPolicy
    queryset = get_user_model().objects.all()
    serializer_class = MeSerializer
    pagination_class = None
    ordering_fields = ()

    def get_object(self) -> Any:
        queryset = self.get_queryset().filter(pk=self.request.user.pk)
        obj = queryset.first()
        if obj is None:
            raise ObjectNotVisible
        self.check_object_permissions(self.request, obj)
        self.check_query_parameters(self.request)
        return obj
