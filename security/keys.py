"""The signing keys of tokens: a key directory with a manifest, and rotation.

A key directory holds one PEM file per RSA private key, named by its key id
(the JWK thumbprint, as published in the JWKS), and `keys.json`:

    {"active": "<kid>", "keys": {"<kid>": {"published_at": "<ISO 8601>"}}}

Guarantees:
- every key in the manifest is published in the JWKS; only the active one
  signs;
- a key becomes active only after it has been published for longer than
  the JWKS cache lifetime, so no verifier meets a `kid` it has not fetched
  (unless forced);
- the active key can't be retired;
- files are written with mode 0600 and replaced atomically.

Each process reads the directory at start-up (settings), so a change takes
effect on the next restart of every replica; docs/authentication.md gives
the runbook.

This module imports no Django models: settings import it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jwcrypto import jwk

# TODO(oauth): each replica reads the keys at start-up, so every rotation
# step needs a rolling restart. Fix: re-read the manifest when its mtime
# changes (cheap stat per request) and reload django-oauth-toolkit's keys.
MANIFEST = "keys.json"
KEY_SIZE = 3072


class SigningKeyError(Exception):
    """A rotation step that would break verification was refused."""


@dataclass(frozen=True)
class SigningKeys:
    active: str
    inactive: tuple[str, ...]
    active_kid: str


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def kid_of(pem: str) -> str:
    """Return the key id that the JWKS publishes for a private key."""
    return str(jwk.JWK.from_pem(pem.encode("ascii")).thumbprint())


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        return {"active": None, "keys": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    _write_private(directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))


def load(directory: Path) -> SigningKeys | None:
    """Return the active and inactive keys of a directory, or None if empty."""
    manifest = read_manifest(directory)
    active = manifest.get("active")
    keys = manifest.get("keys") or {}
    if not active or not isinstance(keys, dict) or active not in keys:
        return None
    pems = {kid: (directory / f"{kid}.pem").read_text(encoding="ascii") for kid in keys}
    return SigningKeys(
        active=pems[active],
        inactive=tuple(pem for kid, pem in sorted(pems.items()) if kid != active),
        active_kid=str(active),
    )


def publish(directory: Path, *, activate: bool = False, size: int = KEY_SIZE) -> str:
    """Publish a new key (inactive unless `activate`); return its kid."""
    key = jwk.JWK.generate(kty="RSA", size=size)
    pem = key.export_to_pem(private_key=True, password=None).decode("ascii")
    kid = kid_of(pem)
    _write_private(directory / f"{kid}.pem", pem)
    manifest = read_manifest(directory)
    keys = dict(manifest.get("keys") or {})
    keys[kid] = {"published_at": _now().isoformat()}
    manifest["keys"] = keys
    if activate:
        manifest["active"] = kid
    _save_manifest(directory, manifest)
    return kid


def activate(
    directory: Path, kid: str, *, min_published: timedelta, force: bool = False
) -> None:
    """Make a published key the one that signs."""
    manifest = read_manifest(directory)
    keys = manifest.get("keys") or {}
    if not isinstance(keys, dict) or kid not in keys:
        msg = f"No published key {kid}."
        raise SigningKeyError(msg)
    published_at = datetime.fromisoformat(keys[kid]["published_at"])
    if not force and _now() - published_at < min_published:
        wait = min_published - (_now() - published_at)
        msg = (
            f"Key {kid} has been published for less than the JWKS cache lifetime; "
            f"verifiers may not know it yet. Wait {int(wait.total_seconds())} s "
            "more, or force it."
        )
        raise SigningKeyError(msg)
    manifest["active"] = kid
    _save_manifest(directory, manifest)


def retire(directory: Path, kid: str) -> None:
    """Unpublish a key that no longer signs; its tokens stop verifying."""
    manifest = read_manifest(directory)
    keys = dict(manifest.get("keys") or {})
    if kid not in keys:
        msg = f"No published key {kid}."
        raise SigningKeyError(msg)
    if manifest.get("active") == kid:
        msg = f"Key {kid} is the active signing key; activate another first."
        raise SigningKeyError(msg)
    del keys[kid]
    manifest["keys"] = keys
    _save_manifest(directory, manifest)
    (directory / f"{kid}.pem").unlink(missing_ok=True)


def ensure_development_key(directory: Path) -> None:
    """Create an active key for development and tests when there is none."""
    if load(directory) is None:
        publish(directory, activate=True, size=2048)
