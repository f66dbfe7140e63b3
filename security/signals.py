"""Signals the authorization server sends, for the audit trail to record.

Logins use Django's own `user_logged_in`, `user_logged_out` and
`user_login_failed`. Every signal here sends ids, never token values:

- `token_issued`: user_id, client_id, grant_type, jti
- `token_refreshed`: user_id, client_id, jti
- `tokens_revoked`: user_id, client_id, count, reason
- `refresh_reuse_detected`: user_id, client_id, family
- `code_replayed`: user_id, client_id, count (tokens revoked)
- `access_denied`: status, code, operation, rule, target_type, target_id
  (401, 403, and 404 for an object the caller may not see)
- `input_rejected`: fields, codes (unknown, read-only or unwritable fields)
- `rate_limited`: scope (ip, user, auth), limit (its name)
- `credential_stuffing_suspected`: kind (address or username), ip or
  username, count
- `server_error`: exception (its class name), request_id
"""

from django.dispatch import Signal

token_issued = Signal()
token_refreshed = Signal()
tokens_revoked = Signal()
refresh_reuse_detected = Signal()
code_replayed = Signal()
access_denied = Signal()
input_rejected = Signal()
rate_limited = Signal()
credential_stuffing_suspected = Signal()
server_error = Signal()
