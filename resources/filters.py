"""The filters each list declares.

References filter by id with a plain UUID filter, never a model choice: a
model choice would answer "not a valid choice" for an id that does not
exist and an empty list for one the caller can't see, telling them apart.
"""

from __future__ import annotations

import django_filters

from resources.models import Classification, Document, Membership, Project, Role


class MembershipFilter(django_filters.FilterSet):
    organization = django_filters.UUIDFilter(field_name="organization_id")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields: list[str] = []


class ProjectFilter(django_filters.FilterSet):
    organization = django_filters.UUIDFilter(field_name="organization_id")

    class Meta:
        model = Project
        fields: list[str] = []


class DocumentFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    classification = django_filters.ChoiceFilter(choices=Classification.choices)

    class Meta:
        model = Document
        fields: list[str] = []
