"""Who is calling: the owner id from the JWT claims API Gateway (or ``healthchat serve``) already verified.

The token itself is never checked here: in the cloud the HTTP API's JWT authorizer rejects bad tokens
before the Lambda runs and passes the verified claims in ``requestContext.authorizer.jwt.claims``; the
local server does the same after checking the bearer token against its JWKS file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from healthchat.api.models import Unauthorized
from healthchat.config import Settings

# Owner ids become key prefixes (uploads/{owner}/..., {owner}/...): the characters of DocRef.owner_id, and
# never a "." or ".." path segment (a key made of one is refused by every store: the request would fail).
_OWNER = re.compile(r"(?!\.+\Z)[A-Za-z0-9_.@:-]{1,128}")


def jwt_claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``requestContext.authorizer.jwt.claims`` of an HTTP API v2 event, or ``{}``."""
    node: Any = event
    for name in ("requestContext", "authorizer", "jwt", "claims"):
        node = node.get(name) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def owner_id(event: Mapping[str, Any], settings: Settings) -> str:
    """The caller's owner id: the token's ``sub``; with ``auth == "local"`` and no claims, the local user.

    Raises
    ------
    Unauthorized
        With ``auth == "jwt"`` and no ``sub`` claim, or a ``sub`` that cannot be an owner id.
    """
    sub = jwt_claims(event).get("sub")
    if sub:
        if not isinstance(sub, str) or not _OWNER.fullmatch(sub):
            raise Unauthorized("The token's subject is not a valid account id.")
        return sub
    if settings.auth == "local":
        return settings.default_owner
    raise Unauthorized()
