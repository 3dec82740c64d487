"""Single sign-on with OpenID Connect: the authorisation code flow with PKCE, state and nonce.

`oidc_begin` stores a pending flow in the session (keyed by its random `state`, so several tabs can sign in at
once) and returns the IdP's authorisation URL. `oidc_complete` takes the callback's query, checks the state,
exchanges the code (with the PKCE verifier, client secret in HTTP Basic), verifies the ID token (signature against
the IdP's JWKS, issuer, audience, expiry, nonce, and `auth_time` for a re-authentication) and returns its claims.
Mapping claims to an operator and a role is `operator_sign_in_oidc` in services.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger(__name__)

_SESSION_FLOWS = "adminui_oidc_flows"
_MAX_PENDING = 5  # pending sign-ins per session (tabs); the oldest is dropped
_FLOW_TTL = 600  # seconds between leaving for the IdP and coming back
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
_LEEWAY = 60  # seconds of clock skew accepted on exp/iat/auth_time


class OIDCError(Exception):
    """A sign-in that must be refused; `message` is safe to show (no tokens, no IdP internals)."""

    def __init__(self, message: str, *, detail: str = "", username: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail  # for the audit row and the log, never for the page
        self.username = username  # known only once the ID token was verified


def _s256(verifier: str) -> str:
    """PKCE code challenge (RFC 7636 §4.2): base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def oidc_enabled() -> bool:
    return bool(settings.ADMINUI_OIDC_ISSUER and settings.ADMINUI_OIDC_CLIENT_ID)


def local_login_allowed(username: str | None = None) -> bool:
    """Local passwords are on, or `username` is a break-glass account."""
    if settings.ADMINUI_LOCAL_LOGIN or not oidc_enabled():
        return True
    return username is not None and username in settings.ADMINUI_BREAK_GLASS_USERS


def _client() -> httpx.Client:
    return httpx.Client(timeout=settings.ADMINUI_OIDC_TIMEOUT, follow_redirects=False)


def _get_json(client: httpx.Client, url: str, what: str, **kwargs) -> dict:
    try:
        response = client.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise OIDCError(
            f"{settings.ADMINUI_OIDC_NAME} could not be reached. Try again in a minute.",
            detail=f"{what}: {type(exc).__name__}",
        ) from exc
    if response.status_code != 200:
        raise OIDCError(
            f"{settings.ADMINUI_OIDC_NAME} answered with an error. Try again in a minute.",
            detail=f"{what}: HTTP {response.status_code}",
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise OIDCError(
            f"{settings.ADMINUI_OIDC_NAME} sent an answer adminui cannot read.", detail=f"{what}: not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise OIDCError(f"{settings.ADMINUI_OIDC_NAME} sent an answer adminui cannot read.", detail=what)
    return data


def discover(client: httpx.Client) -> dict:
    """The issuer's discovery document, checked to be the configured issuer's."""
    issuer = settings.ADMINUI_OIDC_ISSUER
    meta = _get_json(client, f"{issuer}/.well-known/openid-configuration", "discovery")
    if meta.get("issuer", "").rstrip("/") != issuer:
        raise OIDCError(
            "Single sign-on is misconfigured (the issuer does not match). Tell an administrator.",
            detail=f"discovery issuer {meta.get('issuer')!r}",
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(meta.get(key), str):
            raise OIDCError("Single sign-on is misconfigured. Tell an administrator.", detail=f"no {key}")
    return meta


@dataclass(frozen=True)
class SignInResult:
    claims: dict
    id_token: str
    end_session_endpoint: str
    next_url: str
    reauth: bool


def oidc_begin(request, *, redirect_uri: str, next_url: str, reauth: bool = False) -> str:
    """Start a sign-in: remember state, nonce and PKCE verifier; return the IdP URL to redirect to.
    `reauth` asks the IdP for a fresh login (prompt=login, max_age=0)."""
    with _client() as client:
        meta = discover(client)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    flows = {
        k: v
        for k, v in request.session.get(_SESSION_FLOWS, {}).items()
        if v.get("started", 0) > time.time() - _FLOW_TTL
    }
    while len(flows) >= _MAX_PENDING:
        flows.pop(min(flows, key=lambda k: flows[k]["started"]))
    flows[state] = {
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "reauth": reauth,
        "redirect_uri": redirect_uri,
        "started": time.time(),
    }
    request.session[_SESSION_FLOWS] = flows
    params = {
        "response_type": "code",
        "client_id": settings.ADMINUI_OIDC_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": settings.ADMINUI_OIDC_SCOPES,
        "state": state,
        "nonce": nonce,
        "code_challenge": _s256(verifier),
        "code_challenge_method": "S256",
    }
    if reauth:
        params.update(prompt="login", max_age="0")
    separator = "&" if "?" in meta["authorization_endpoint"] else "?"
    return f"{meta['authorization_endpoint']}{separator}{urlencode(params)}"


def _verify_id_token(
    client: httpx.Client, meta: dict, id_token: str, *, nonce: str, started: float, reauth: bool
):
    keys = _get_json(client, meta["jwks_uri"], "jwks")
    try:
        key_set = KeySet.import_key_set(keys)
        token = jwt.decode(id_token, key_set, algorithms=_ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OIDCError(
            "The sign-in answer from the identity provider failed its signature check and was refused.",
            detail=f"signature check failed on the ID token ({type(exc).__name__})",
        ) from exc
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=_LEEWAY,
        iss={"essential": True, "value": settings.ADMINUI_OIDC_ISSUER},
        aud={"essential": True, "value": settings.ADMINUI_OIDC_CLIENT_ID},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise OIDCError(
            "The sign-in answer from the identity provider was not valid for adminui and was refused.",
            detail=f"claim check failed on the ID token ({type(exc).__name__} {getattr(exc, 'claim', '')})",
        ) from exc
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != settings.ADMINUI_OIDC_CLIENT_ID:
        raise OIDCError("The sign-in answer was meant for another application.", detail="azp")
    if reauth:
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or auth_time < started - _LEEWAY:
            raise OIDCError(
                "The identity provider did not ask for your password again. Try again.", detail="auth_time"
            )
    return claims


def oidc_complete(request, query) -> SignInResult:
    """Finish a sign-in from the callback's query string; raise OIDCError with a plain message on any failure."""
    flows = request.session.get(_SESSION_FLOWS, {})
    state = query.get("state", "")
    flow = flows.pop(state, None) if state else None
    request.session[_SESSION_FLOWS] = flows
    if flow is None or flow["started"] < time.time() - _FLOW_TTL:
        raise OIDCError(
            "This sign-in link has expired or was already used. Start again from the sign-in page.",
            detail="unknown state",
        )
    if query.get("error"):
        error = str(query.get("error"))[:60]
        if error in ("access_denied", "login_required", "consent_required"):
            message = f"{settings.ADMINUI_OIDC_NAME} did not sign you in."
        else:
            message = f"{settings.ADMINUI_OIDC_NAME} could not sign you in."
        raise OIDCError(message, detail=f"idp error {error}")
    code = query.get("code")
    if not code:
        raise OIDCError("The identity provider sent no sign-in code. Start again.", detail="no code")

    with _client() as client:
        meta = discover(client)
        try:
            response = client.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": flow["redirect_uri"],
                    "code_verifier": flow["verifier"],
                },
                auth=(settings.ADMINUI_OIDC_CLIENT_ID, settings.ADMINUI_OIDC_CLIENT_SECRET),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise OIDCError(
                f"{settings.ADMINUI_OIDC_NAME} could not be reached. Try again in a minute.",
                detail=f"code exchange failed ({type(exc).__name__})",
            ) from exc
        if response.status_code != 200:
            error = ""
            with contextlib.suppress(ValueError, AttributeError):
                error = str(response.json().get("error", ""))[:60]
            raise OIDCError(
                "The identity provider refused to complete the sign-in. Start again.",
                detail=f"code exchange answered HTTP {response.status_code} {error}".strip(),
            )
        try:
            tokens = response.json()
            id_token = tokens["id_token"]
            access_token = tokens.get("access_token", "")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OIDCError(
                "The identity provider sent no ID token.", detail="code exchange gave no ID token"
            ) from exc
        claims = _verify_id_token(
            client, meta, id_token, nonce=flow["nonce"], started=flow["started"], reauth=flow["reauth"]
        )
        groups_claim = settings.ADMINUI_OIDC_GROUPS_CLAIM
        if groups_claim not in claims and access_token and isinstance(meta.get("userinfo_endpoint"), str):
            info = _get_json(
                client,
                meta["userinfo_endpoint"],
                "userinfo",
                headers={"Authorization": f"Bearer {access_token}"},
            )
            if info.get("sub") == claims["sub"]:
                claims = {**info, **claims}
    end_session = meta.get("end_session_endpoint")
    return SignInResult(
        claims=claims,
        id_token=id_token,
        end_session_endpoint=end_session if isinstance(end_session, str) else "",
        next_url=flow["next"],
        reauth=flow["reauth"],
    )


def oidc_logout_url(*, id_token: str, end_session_endpoint: str, post_logout_redirect_uri: str) -> str:
    """The IdP's end-session URL (RP-initiated logout), or '' when the IdP has none."""
    if not end_session_endpoint:
        return ""
    params = {
        "client_id": settings.ADMINUI_OIDC_CLIENT_ID,
        "post_logout_redirect_uri": post_logout_redirect_uri,
    }
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if "?" in end_session_endpoint else "?"
    return f"{end_session_endpoint}{separator}{urlencode(params)}"
