"""OpenAPI generation that documents each operation's policy.

Every operation under a policy gets, in the schema: the OAuth 2 scopes it
requires (as its security requirement), its rule in words, and the 401, 403,
404 and 429 problem-details responses it can return. The OAuth 2 scheme
describes the authorization-code (PKCE) and client-credentials flows of this
server. Generation needs no request, so `check --deploy` can run it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from security.rules import AllOf, Described, HasScope, Rule

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every API error is rendered."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built here: a class attribute named `errors` would hide
        # Serializer.errors.
        return {
            "type": serializers.CharField(),
            "title": serializers.CharField(),
            "status": serializers.IntegerField(),
            "detail": serializers.CharField(),
            "code": serializers.CharField(),
            "request_id": serializers.CharField(),
            "errors": FieldErrorSerializer(many=True, required=False),
            "required_scopes": serializers.ListField(
                child=serializers.CharField(), required=False
            ),
            "max_age": serializers.IntegerField(required=False),
        }


_ERROR_RESPONSES = {
    "400": _("Invalid body or query parameters; `errors` names each one."),
    "401": _("No valid credentials (`not_authenticated`, `invalid_token`)."),
    "403": _("Missing scope (`insufficient_scope`) or an operation the rule refuses."),
    "404": _("No such object, or one the caller may not see."),
    "429": _("Rate limit exceeded (`rate_limited`); see `Retry-After`."),
}


def required_scopes(rule: Rule | None) -> list[str]:
    """Return the scopes a rule always requires (under `and`, never `or`)."""
    if rule is None:
        return []
    if isinstance(rule, HasScope):
        return sorted(rule.scopes)
    if isinstance(rule, Described):
        return required_scopes(rule.rule)
    if isinstance(rule, AllOf):
        found: set[str] = set()
        for child in rule.rules:
            found.update(required_scopes(child))
        return sorted(found)
    return []


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "security.authentication.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scopes = spectacular_settings.OAUTH2_SCOPES or {}
        return {
            "type": "oauth2",
            "description": "Bearer access tokens from this server's `/o/` endpoints.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": spectacular_settings.OAUTH2_AUTHORIZATION_URL,
                    "tokenUrl": spectacular_settings.OAUTH2_TOKEN_URL,
                    "refreshUrl": spectacular_settings.OAUTH2_REFRESH_URL,
                    "scopes": scopes,
                },
                "clientCredentials": {
                    "tokenUrl": spectacular_settings.OAUTH2_TOKEN_URL,
                    "scopes": scopes,
                },
            },
        }

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        return {self.name: required_scopes(auto_schema.policy_rule())}


class PolicyAutoSchema(AutoSchema):
    def policy_rule(self) -> Rule | None:
        policy = getattr(self.view, "policy", None)
        if policy is None:
            return None
        rule: Rule | None = policy.rule_for(getattr(self.view, "action", None))
        return rule

    def get_description(self) -> str:  # type: ignore[override]
        description = super().get_description() or ""
        rule = self.policy_rule()
        if rule is None:
            return description
        policy = getattr(self.view, "policy")  # noqa: B009 - APIView has no such attribute
        action = getattr(self.view, "action", None) or ""
        lines = [description] if description else []
        lines.append(f"**Allowed for:** {rule.describe()}.")
        lines.append(
            f"**Visible objects:** {policy.visible.describe()}; "
            "others answer 404 as if they did not exist."
        )
        before_save = policy.before_save.get(action)
        if before_save is not None:
            lines.append(f"**Checked before saving:** {before_save.describe()}.")
        return "\n\n".join(lines)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if self.policy_rule() is None:
            return responses
        codes = ["401", "403", "429"]
        if self._is_list_view() or self.method in ("POST", "PUT", "PATCH"):
            codes.insert(0, "400")
        if getattr(self.view, "detail", False):
            codes.append("404")
        for code in codes:
            response = self._get_response_for_code(
                ProblemSerializer, code, media_types=[PROBLEM_MEDIA_TYPE]
            )
            response["description"] = str(_ERROR_RESPONSES[code])
            responses.setdefault(code, response)
        return responses


def uuid_path_parameters(
    result: dict[str, Any],
    generator: Any,
    request: Any,
    public: bool,  # noqa: FBT001
) -> dict[str, Any]:
    """Describe path ids matched by the UUID pattern as `format: uuid`."""
    from security.views import UUID_PATTERN

    pattern = f"^{UUID_PATTERN}$"
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == pattern:
                    parameter["schema"] = {"type": "string", "format": "uuid"}
    return result
