"""Safety of a shared server: request size, CSRF tokens on forms, the access token.

- **Request size**: a body over the limit is refused (413, one line) before it is read
  whole, whether or not the client sends a Content-Length.
- **CSRF**: each browser gets a random cookie (``SameSite=Strict``, HttpOnly); every
  form carries ``HMAC(server secret, cookie)`` and every POST must send it back (form
  field ``csrf_token`` or header ``X-CSRF-Token``). A page of another site can neither
  read the cookie nor compute the token.
- **Access token** (``dermatwin serve --token``, required beyond 127.0.0.1): every request
  needs ``Authorization: Bearer TOKEN`` or the cookie set by the login form.

The server secret lives in ``DATA/.secret`` (mode 0600), so tokens survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

CSRF_COOKIE = "dermatwin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "dermatwin_token"


def server_secret(data: Path) -> bytes:
    """The secret of the data folder (made on first use, readable by its owner only).

    Written to a private temporary file and linked into place, so a second process never
    reads a half-written secret: it either finds none or the whole one."""
    path = data / ".secret"
    if not path.exists():
        tmp = data / f".secret.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_bytes(32).hex())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process linked its secret first: use that one
        finally:
            tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


def csrf_token(secret: bytes, nonce: str) -> str:
    """The form token of a browser whose CSRF cookie is ``nonce``.

    >>> len(csrf_token(b"k", "n")), csrf_token(b"k", "n") == csrf_token(b"k", "m")
    (64, False)
    """
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, nonce: str | None, sent: str | None) -> bool:
    if not nonce or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), str(sent))


def token_ok(expected: str, request_headers, cookies) -> bool:
    """Whether a request carries the access token (header or login cookie)."""
    given = request_headers.get("authorization", "")
    if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), expected.encode()):
        return True
    cookie = cookies.get(TOKEN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), expected.encode())


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413 and one line."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._refuse(send)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        text = (
            f"request larger than {self.max_bytes // 1024} KiB; allowed on this server: "
            f"up to {self.max_bytes // 1024} KiB\n"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": text})
