"""The studio's HTTP layer: requests -> Studio methods -> JSON, the page's files, audio.

The standard library's ThreadingHTTPServer, because the studio is one user on one machine:
a dozen routes over functions in narrator.studio.session need no framework.

Safety, checked on every request before anything else (see README, "narrator studio"):
1. the server binds 127.0.0.1 only: `StudioServer` refuses any other address;
2. the Host header must be 127.0.0.1:PORT or localhost:PORT (against DNS rebinding);
3. the token: the `token` query parameter, an `Authorization: Bearer` header, or the cookie
   the page gets on its first load; none: 401, a wrong one: 403;
4. writes (PUT/POST) must be same-origin (Origin / Sec-Fetch-Site) and JSON;
5. no request names a path: files are reached by chapter number or sample hash only.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from narrator.errors import NarratorError, StaleEditError
from narrator.studio.session import Studio

HOST = "127.0.0.1"  # the only address the studio ever listens on
MAX_BODY_BYTES = 64 * 1024  # a correction or a character's settings: a few hundred bytes
_STATIC_NAME = re.compile(r"[a-z0-9_-]+\.(?:js|css|svg|png)")
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
}
# Everything the page loads comes from the studio itself: no CDN, no inline script.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


class StudioServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer over one Studio, on 127.0.0.1 only, with a one-time token."""

    daemon_threads = True

    def __init__(self, studio: Studio, port: int = 0, *, address: str = HOST) -> None:
        if address != HOST:
            raise ValueError(f"narrator studio listens on {HOST} only, not {address}")
        self.studio = studio
        self.token = secrets.token_urlsafe(24)
        super().__init__((HOST, port), StudioHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The address to open, with the token: the first line `narrator studio` prints."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    @property
    def cookie_name(self) -> str:
        return f"narrator_studio_{self.port}"  # cookies ignore ports: one per studio

    def allowed_hosts(self) -> set[str]:
        return {f"{HOST}:{self.port}", f"localhost:{self.port}"}


class _HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/"), "page"),
    ("GET", re.compile(r"/static/(?P<name>[^/]+)"), "static"),
    ("GET", re.compile(r"/api/script"), "script"),
    ("GET", re.compile(r"/api/lines"), "lines"),
    ("PUT", re.compile(r"/api/lines/(?P<line_id>[^/]+)"), "assign"),
    ("GET", re.compile(r"/api/cast"), "cast"),
    ("PUT", re.compile(r"/api/cast/characters/(?P<name>[^/]+)"), "save_character"),
    ("POST", re.compile(r"/api/cast/characters/(?P<name>[^/]+)/sample"), "sample"),
    ("GET", re.compile(r"/media/samples/(?P<key>[0-9a-f]+)\.mp3"), "sample_audio"),
    ("GET", re.compile(r"/api/listen"), "listen"),
    ("POST", re.compile(r"/api/render"), "render"),
    ("GET", re.compile(r"/api/render"), "render_status"),
    ("GET", re.compile(r"/api/chapters/(?P<number>[0-9]{1,6})/cues"), "cues"),
    ("GET", re.compile(r"/media/chapters/(?P<number>[0-9]{1,6})\.mp3"), "chapter_audio"),
]


class StudioHandler(BaseHTTPRequestHandler):
    """One request: checked (module docstring), routed, answered."""

    server: StudioServer
    protocol_version = "HTTP/1.1"
    server_version = "narrator-studio"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every request."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    # ------------------------------------------------------------------ checks

    def _handle(self, method: str) -> None:
        self._set_cookie = False
        try:
            self._check_host()
            self._check_token()
            if method != "GET":
                self._check_same_origin()
            url = urlsplit(self.path)
            for route_method, pattern, name in _ROUTES:
                match = pattern.fullmatch(url.path)
                if match:
                    if route_method != method:
                        continue
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    getattr(self, f"_route_{name}")(**params)
                    return
            raise _HttpError(HTTPStatus.NOT_FOUND, f"no such page: {method} {url.path}")
        except _HttpError as exc:
            self._send_json(exc.status, {"error": str(exc)})
        except StaleEditError as exc:
            self._send_json(HTTPStatus.CONFLICT, {"error": str(exc), "stale": True})
        except NarratorError as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away (a reload in the middle of a sample, say)
        except Exception as exc:  # a bug: the page shows it; the server keeps serving
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc}"})

    def _check_host(self) -> None:
        if self.headers.get("Host", "") not in self.server.allowed_hosts():
            raise _HttpError(
                HTTPStatus.FORBIDDEN, "wrong Host: open the address the studio printed"
            )

    def _check_token(self) -> None:
        token = self.server.token
        query = parse_qs(urlsplit(self.path).query).get("token", [])
        auth = self.headers.get("Authorization", "")
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except Exception:  # a malformed cookie header is no token
            cookie = SimpleCookie()
        morsel = cookie.get(self.server.cookie_name)
        offered = [
            *query,
            *([auth[len("Bearer ") :]] if auth.startswith("Bearer ") else []),
            *([morsel.value] if morsel is not None else []),
        ]
        if not offered:
            raise _HttpError(
                HTTPStatus.UNAUTHORIZED, "no token: open the address the studio printed"
            )
        if not any(hmac.compare_digest(value.encode(), token.encode()) for value in offered):
            raise _HttpError(
                HTTPStatus.FORBIDDEN, "wrong token: open the address the studio printed"
            )
        # The page's first load carries the token in its address: from then on, the cookie
        # (replacing one an earlier studio on this port left behind).
        query_ok = any(hmac.compare_digest(value.encode(), token.encode()) for value in query)
        self._set_cookie = query_ok and (morsel is None or morsel.value != token)

    def _check_same_origin(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {
            f"http://{h}" for h in self.server.allowed_hosts()
        }:
            raise _HttpError(HTTPStatus.FORBIDDEN, "cross-origin writes are refused")
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            raise _HttpError(HTTPStatus.FORBIDDEN, "cross-site writes are refused")

    def _body(self) -> dict[str, Any]:
        if self.headers.get_content_type() != "application/json":
            raise _HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON (application/json)")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _HttpError(HTTPStatus.BAD_REQUEST, f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise _HttpError(HTTPStatus.BAD_REQUEST, "send a JSON object")
        return data

    # ------------------------------------------------------------------ answers

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")  # the token must not leak
        if self._set_cookie:
            self.send_header(
                "Set-Cookie",
                f"{self.server.cookie_name}={self.server.token}; Path=/; HttpOnly; SameSite=Strict",
            )
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: HTTPStatus, data: object) -> None:
        if not hasattr(self, "_set_cookie"):
            self._set_cookie = False
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _send_file(self, path: Path) -> None:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise _HttpError(HTTPStatus.NOT_FOUND, f"cannot read {path.name}") from exc
        content_type = _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        # Byte ranges, so that the audio element can seek (click a line to jump there).
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if wanted and body and (wanted.group(1) or wanted.group(2)):
            if wanted.group(1):
                start = int(wanted.group(1))
                end = min(int(wanted.group(2) or len(body) - 1), len(body) - 1)
            else:  # the last N bytes
                start, end = max(len(body) - int(wanted.group(2)), 0), len(body) - 1
            if start > end:
                raise _HttpError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "bad range")
            ranges = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(body)}"}
            self._send(HTTPStatus.PARTIAL_CONTENT, body[start : end + 1], content_type, ranges)
            return
        self._send(HTTPStatus.OK, body, content_type, {"Accept-Ranges": "bytes"})

    def _send_static(self, name: str) -> None:
        if not _STATIC_NAME.fullmatch(name):
            raise _HttpError(HTTPStatus.NOT_FOUND, f"no such file: {name}")
        resource = resources.files("narrator.studio") / "static" / name
        if not resource.is_file():
            raise _HttpError(HTTPStatus.NOT_FOUND, f"no such file: {name}")
        suffix = "." + name.rsplit(".", 1)[1]
        self._send(HTTPStatus.OK, resource.read_bytes(), _CONTENT_TYPES[suffix])

    # ------------------------------------------------------------------ routes

    def _route_page(self) -> None:
        resource = resources.files("narrator.studio") / "static" / "index.html"
        self._send(HTTPStatus.OK, resource.read_bytes(), _CONTENT_TYPES[".html"])

    def _route_static(self, name: str) -> None:
        self._send_static(name)

    def _route_script(self) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.script())

    def _route_lines(self) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.lines())

    def _route_assign(self, line_id: str) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.assign(line_id, self._body()))

    def _route_cast(self) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.cast())

    def _route_save_character(self, name: str) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.save_character(name, self._body()))

    def _route_sample(self, name: str) -> None:
        key = self.server.studio.sample(name, self._body())
        self._send_json(HTTPStatus.OK, {"url": f"/media/samples/{key}.mp3"})

    def _route_sample_audio(self, key: str) -> None:
        self._send_file(self.server.studio.sample_path(key))

    def _route_listen(self) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.listen())

    def _route_render(self) -> None:
        chapter = self._body().get("chapter")  # none: the whole book
        if chapter is not None and (isinstance(chapter, bool) or not isinstance(chapter, int)):
            raise _HttpError(HTTPStatus.BAD_REQUEST, "chapter: must be a chapter number")
        self._send_json(HTTPStatus.ACCEPTED, self.server.studio.start_render(chapter))

    def _route_render_status(self) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.job.to_json())

    def _route_cues(self, number: str) -> None:
        self._send_json(HTTPStatus.OK, self.server.studio.cues(int(number)))

    def _route_chapter_audio(self, number: str) -> None:
        mp3_path, _ = self.server.studio.chapter_files(int(number))
        self._send_file(mp3_path)
