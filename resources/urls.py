"""Routes of the reference API under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from resources import viewsets

router = SimpleRouter(trailing_slash=True)
router.register("organizations", viewsets.OrganizationViewSet, basename="organization")
router.register("memberships", viewsets.MembershipViewSet, basename="membership")
router.register("projects", viewsets.ProjectViewSet, basename="project")
router.register("documents", viewsets.DocumentViewSet, basename="document")

me = viewsets.MeViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update"}, detail=True
)

urlpatterns = [
    path("users/me/", me, name="user-me"),
    *router.urls,
]
