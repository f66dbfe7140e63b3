"""`GET /api/v1/audit-events/`: read-only, filtered, paginated.

With the `audit` scope, admins and owners read their organizations' events
and superusers read every event (the one place superuser status counts);
anyone else gets an empty list. The events never change through the API.
"""

from __future__ import annotations

import django_filters
from rest_framework import mixins

from audit.models import PUBLIC_FIELDS, AuditEvent
from security.fields import PolicySerializer
from security.policies import Policy
from security.rules import HasScope, IsSuperuser
from security.views import PolicyViewSet
from security.voters import HasOrganizationRole


class AuditEventPolicy(Policy):
    model = AuditEvent
    visible = IsSuperuser() | HasOrganizationRole("admin", path="organization")
    rules = {
        "list": HasScope("audit"),
        "retrieve": HasScope("audit"),
    }


class AuditEventSerializer(PolicySerializer):
    class Meta:
        model = AuditEvent
        fields = list(PUBLIC_FIELDS)
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(field_name="action", max_length=64)
    actor = django_filters.UUIDFilter(field_name="actor_id")
    target_type = django_filters.CharFilter(field_name="target_type", max_length=100)
    target_id = django_filters.CharFilter(field_name="target_id", max_length=64)
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class AuditEventViewSet(
    PolicyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    policy = AuditEventPolicy
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering = ("-position",)
    ordering_fields = ("position", "time")
