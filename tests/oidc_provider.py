"""A small, real OpenID Connect provider for the tests, run as its own process on 127.0.0.1.

It implements what the console relies on, strictly: discovery, JWKS (a fresh RSA key per run), the authorisation
code flow with mandatory PKCE (S256), exact redirect URIs, single-use codes bound to client, redirect URI and
verifier, client authentication (HTTP Basic or form), signed ID tokens with nonce and auth_time, `prompt=login` and
`max_age`, userinfo, and RP-initiated logout (end session). People sign in on its own HTML form; it remembers
them with a cookie, so a second sign-in is silent unless the console asks for a fresh login.

Test knobs (this is a test provider, not a product): a user with ``"tamper": "signature"`` gets an ID token whose
payload was altered after signing; ``"tamper": "nonce"`` a correctly signed one with another nonce;
``"groups_in_userinfo_only": true`` leaves the groups out of the ID token (as some IdPs do) — userinfo has them.
``PUT /_control/users/<name>`` replaces a user's record (e.g. their groups) while it runs.

    python -m tests.oidc_provider --fd N '<config JSON>'     # a listening socket inherited from the parent

`start_oidc_provider(users=..., redirect_uris=...)` binds the socket, starts the process and returns its issuer.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

CLIENT_ID = "adminui-test"
CLIENT_SECRET = "adminui-test-client-secret"  # noqa: S105 - the test provider's own client
BASE_DIR = Path(__file__).resolve().parent.parent


# --- the provider process ---------------------------------------------------------------------------------


def _make_app(config: dict):
    from joserfc import jwt
    from joserfc.jwk import RSAKey
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map, Rule
    from werkzeug.wrappers import Request, Response

    issuer = config["issuer"]
    clients = config["clients"]
    users: dict[str, dict] = config["users"]
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})
    codes: dict[str, dict] = {}
    tokens: dict[str, dict] = {}
    sessions: dict[str, dict] = {}
    lock = threading.Lock()

    urls = Map(
        [
            Rule("/.well-known/openid-configuration", endpoint="discovery"),
            Rule("/jwks", endpoint="jwks"),
            Rule("/authorize", endpoint="authorize", methods=["GET", "POST"]),
            Rule("/token", endpoint="token", methods=["POST"]),
            Rule("/userinfo", endpoint="userinfo"),
            Rule("/logout", endpoint="logout"),
            Rule("/_control/users/<name>", endpoint="control_user", methods=["PUT"]),
        ]
    )

    def as_json(data, status=200, **headers):
        return Response(
            json.dumps(data),
            status=status,
            content_type="application/json",
            headers={"Cache-Control": "no-store", **headers},
        )

    def discovery(request):
        return as_json(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "end_session_endpoint": f"{issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "profile", "email", "groups"],
                "claims_supported": ["sub", "preferred_username", "email", "groups", "auth_time", "nonce"],
            }
        )

    def jwks(request):
        return as_json({"keys": [key.as_dict(private=False)]})

    def error_page(message, status=400):
        return Response(
            f"<!doctype html><title>Error</title><h1>{html.escape(message)}</h1>",
            status=status,
            content_type="text/html",
        )

    def redirect_with(uri, params):
        return Response(
            status=302, headers={"Location": f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"}
        )

    def authorize(request):
        params = request.form if request.method == "POST" else request.args
        client = clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client["redirect_uris"]:
            return error_page("Unknown client or redirect URI.")
        state = params.get("state", "")

        def fail(error):
            return redirect_with(redirect_uri, {"error": error, "state": state})

        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return fail("invalid_request")
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) < 43:
            return fail("invalid_request")  # PKCE is mandatory here
        max_age = params.get("max_age")
        fresh_login = params.get("prompt") == "login" or max_age is not None
        now = int(time.time())
        login_error = ""
        username = None
        if request.method == "POST" and params.get("action") == "login":
            name = params.get("username", "")
            user = users.get(name)
            if user is not None and secrets.compare_digest(user["password"], params.get("password", "")):
                username = name
                sid = secrets.token_urlsafe(16)
                with lock:
                    sessions[sid] = {"username": name, "auth_time": now}
            else:
                login_error = "Wrong username or password."
        elif not fresh_login or (
            max_age is not None and params.get("prompt") != "login" and int(max_age) > 0
        ):
            session = sessions.get(request.cookies.get("op_sid", ""))
            if session and (max_age is None or now - session["auth_time"] <= int(max_age)):
                username, sid = session["username"], request.cookies["op_sid"]
        if username is None:
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items()
                if k not in ("username", "password", "action")
            )
            body = (
                "<!doctype html><html><head><title>Test IdP sign-in</title></head><body>"
                "<h1>Test IdP</h1>"
                f"{'<p role=alert>' + login_error + '</p>' if login_error else ''}"
                '<form method="post" action="/authorize">'
                f"{hidden}"
                '<input type="hidden" name="action" value="login">'
                '<label>IdP username <input name="username" autocomplete="off"></label>'
                '<label>IdP password <input name="password" type="password"></label>'
                '<button type="submit">Continue</button></form></body></html>'
            )
            return Response(body, content_type="text/html")
        code = secrets.token_urlsafe(24)
        with lock:
            codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": redirect_uri,
                "challenge": params["code_challenge"],
                "nonce": params.get("nonce"),
                "username": username,
                "auth_time": sessions[sid]["auth_time"],
                "expires": now + 60,
            }
        response = redirect_with(redirect_uri, {"code": code, "state": state})
        response.set_cookie("op_sid", sid, httponly=True, samesite="Lax", path="/")
        return response

    def _client_auth(request):
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, secret = request.authorization.username, request.authorization.password
        client = clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client["secret"], secret or ""):
            return None
        return client_id

    def _claims(user: dict, name: str) -> dict:
        return {
            "sub": user.get("sub", f"sub-{name}"),
            "preferred_username": name,
            "email": user.get("email", f"{name}@example.test"),
            "groups": list(user.get("groups", [])),
        }

    def token(request):
        client_id = _client_auth(request)
        if client_id is None:
            return as_json({"error": "invalid_client"}, 401, **{"WWW-Authenticate": "Basic"})
        if request.form.get("grant_type") != "authorization_code":
            return as_json({"error": "unsupported_grant_type"}, 400)
        with lock:
            grant = codes.pop(request.form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != client_id:
            return as_json({"error": "invalid_grant"}, 400)
        if grant["redirect_uri"] != request.form.get("redirect_uri"):
            return as_json({"error": "invalid_grant"}, 400)
        verifier = request.form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not secrets.compare_digest(challenge, grant["challenge"]):
            return as_json({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        name = grant["username"]
        user = users[name]
        now = int(time.time())
        claims = {
            **_claims(user, name),
            "iss": issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": grant["auth_time"],
        }
        claims["nonce"] = "not-the-nonce-you-sent" if user.get("tamper") == "nonce" else grant["nonce"]
        if user.get("groups_in_userinfo_only"):
            del claims["groups"]
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        if user.get("tamper") == "signature":
            header, _payload, signature = id_token.split(".")
            forged = {**claims, "groups": ["adminui-admins"]}
            payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
            id_token = f"{header}.{payload}.{signature}"
        access = secrets.token_urlsafe(24)
        with lock:
            tokens[access] = {"username": name, "expires": now + 300}
        return as_json(
            {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        )

    def userinfo(request):
        header = request.headers.get("Authorization", "")
        grant = tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if grant is None or grant["expires"] < time.time():
            return as_json({"error": "invalid_token"}, 401)
        return as_json(_claims(users[grant["username"]], grant["username"]))

    def logout(request):
        with lock:
            sessions.pop(request.cookies.get("op_sid", ""), None)
        target = request.args.get("post_logout_redirect_uri", "")
        client = clients.get(request.args.get("client_id", ""))
        if client and target in client.get("post_logout_redirect_uris", []):
            response = Response(status=302, headers={"Location": target})
        else:
            response = error_page("You are signed out of the test IdP.", status=200)
        response.delete_cookie("op_sid", path="/")
        return response

    def control_user(request, name):
        with lock:
            users[name] = json.loads(request.get_data(as_text=True))
        return as_json({"ok": True})

    handlers = {
        "discovery": discovery,
        "jwks": jwks,
        "authorize": authorize,
        "token": token,
        "userinfo": userinfo,
        "logout": logout,
        "control_user": control_user,
    }

    @Request.application
    def app(request):
        try:
            endpoint, args = urls.bind_to_environ(request.environ).match()
            return handlers[endpoint](request, **args)
        except HTTPException as exc:
            return exc

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("config")
    args = parser.parse_args()
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, _make_app(json.loads(args.config)), threaded=True, fd=args.fd)
    server.serve_forever()


# --- the test side ----------------------------------------------------------------------------------------


@dataclass
class RunningProvider:
    issuer: str
    process: subprocess.Popen
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    users: dict = field(default_factory=dict)

    def set_user(self, name: str, record: dict) -> None:
        import httpx

        self.users[name] = record
        response = httpx.put(f"{self.issuer}/_control/users/{name}", content=json.dumps(record), timeout=10)
        response.raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_oidc_provider(
    *, users: dict, redirect_uris: list[str], post_logout_redirect_uris: list[str] = ()
) -> RunningProvider:
    """Start the provider on a free loopback port. It listens before this returns (the socket is bound here), so
    the first request simply waits in the backlog until the process is ready."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = {
        "issuer": issuer,
        "clients": {
            CLIENT_ID: {
                "secret": CLIENT_SECRET,
                "redirect_uris": list(redirect_uris),
                "post_logout_redirect_uris": list(post_logout_redirect_uris),
            }
        },
        "users": users,
    }
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider", "--fd", str(sock.fileno()), json.dumps(config)],
        cwd=BASE_DIR,
        env=env,
        pass_fds=(sock.fileno(),),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.close()
    return RunningProvider(issuer=issuer, process=process, users=dict(users))


if __name__ == "__main__":
    main()
