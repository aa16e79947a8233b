"""narrator studio over HTTP: a real server on a free port, requests as the page makes them."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from narrator import voices
from narrator.cli import app
from narrator.errors import ConfigError
from narrator.studio import Studio, StudioConfig, StudioServer, session
from narrator.studio.versions import file_version

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "lines"
runner = CliRunner()


@pytest.fixture
def chapter(tmp_path: Path) -> Path:
    """The market chapter with its cast file, plus an author's comment in the cast file."""
    shutil.copy(DATA / "market.txt", tmp_path / "market.txt")
    cast = (DATA / "market.cast.toml").read_text(encoding="utf-8")
    cast = cast.replace('name = "Daichi"', 'name = "Daichi"  # the brother: keep him low')
    (tmp_path / "cast.toml").write_text(cast, encoding="utf-8")
    return tmp_path / "market.txt"


class Client:
    """A few lines of http.client: the requests the page makes, with or without the token."""

    def __init__(self, server: StudioServer) -> None:
        self.server = server
        self.host = f"127.0.0.1:{server.port}"

    def request(
        self,
        method: str,
        path: str,
        body: object | None = None,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        sent = {"Host": self.host, **(headers or {})}
        if token == "":
            token = self.server.token
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), payload

    def json(self, method: str, path: str, body: object | None = None, **kw: object) -> dict:
        status, _, payload = self.request(method, path, body, **kw)  # type: ignore[arg-type]
        assert status in (200, 202), (status, payload)
        return json.loads(payload)


def start(config: StudioConfig) -> StudioServer:
    server = StudioServer(Studio(config), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def client(chapter: Path, tmp_path: Path) -> Iterator[Client]:
    server = start(StudioConfig(chapter, out_dir=tmp_path / "out", engine="fake"))
    yield Client(server)
    server.shutdown()
    server.server_close()


def _review_all(chapter: Path) -> dict:
    result = runner.invoke(app, ["review", str(chapter), "--all", "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------- safety


def test_no_token_is_401_a_wrong_one_403_the_right_one_200(client: Client) -> None:
    assert client.request("GET", "/api/lines", token=None)[0] == 401
    assert client.request("GET", "/", token=None)[0] == 401
    assert client.request("GET", "/api/lines", token="not-it")[0] == 403
    assert client.request("GET", "/api/lines?token=not-it", token=None)[0] == 403
    assert client.request("GET", "/api/lines")[0] == 200
    assert client.request("GET", f"/api/lines?token={client.server.token}", token=None)[0] == 200


def test_the_page_load_with_the_token_sets_a_cookie_that_then_suffices(client: Client) -> None:
    status, headers, page = client.request("GET", f"/?token={client.server.token}", token=None)
    assert status == 200 and b"studio.js" in page
    cookie = headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert client.request("GET", "/api/lines", token=None, headers={"Cookie": cookie})[0] == 200
    wrong = cookie.split("=")[0] + "=nope"
    assert client.request("GET", "/api/lines", token=None, headers={"Cookie": wrong})[0] == 403


def test_a_cookie_left_by_an_earlier_studio_on_the_port_is_replaced(client: Client) -> None:
    old = f"{client.server.cookie_name}=token-of-a-studio-that-has-stopped"
    status, headers, _ = client.request(
        "GET", f"/?token={client.server.token}", token=None, headers={"Cookie": old}
    )
    assert status == 200
    cookie = headers["Set-Cookie"].split(";")[0]
    assert cookie == f"{client.server.cookie_name}={client.server.token}"


def test_a_foreign_host_header_is_refused_even_with_the_token(client: Client) -> None:
    evil = {"Host": f"evil.example:{client.server.port}"}
    assert client.request("GET", "/api/lines", headers=evil)[0] == 403
    localhost = {"Host": f"localhost:{client.server.port}"}
    assert client.request("GET", "/api/lines", headers=localhost)[0] == 200


def test_cross_origin_writes_are_refused(client: Client, chapter: Path) -> None:
    line = _review_all(chapter)["lines"][0]
    body = {"speaker": "Sora"}
    path = f"/api/lines/{line['id']}"
    assert client.request("PUT", path, body, headers={"Origin": "http://evil.example"})[0] == 403
    site = {"Sec-Fetch-Site": "cross-site"}
    assert client.request("PUT", path, body, headers=site)[0] == 403
    assert not (chapter.parent / "market.lines.toml").exists()


def test_the_server_cannot_bind_anything_but_127_0_0_1(chapter: Path) -> None:
    studio = Studio(StudioConfig(chapter, engine="fake"))
    for address in ("0.0.0.0", "::", "192.168.1.2", "localhost"):
        with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
            StudioServer(studio, 0, address=address)
    server = StudioServer(studio, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
    result = runner.invoke(app, ["studio", str(chapter), "--host", "0.0.0.0"])
    assert result.exit_code == 2  # there is no such option


def test_no_request_reaches_a_file_outside_what_the_studio_serves(client: Client) -> None:
    for path in (
        "/static/../../cli.py",
        "/static/..%2f..%2fcli.py",
        "/static/%2e%2e%2fserver.py",
        "/media/samples/../../../etc/passwd",
        "/media/chapters/1/../../cast.toml",
        "/etc/passwd",
    ):
        status, _, payload = client.request("GET", path)
        assert status == 404, (path, payload)
    assert client.request("GET", "/static/studio.js")[0] == 200


# ---------------------------------------------------------------- script and corrections


def test_get_lines_is_review_all_json(client: Client, chapter: Path) -> None:
    assert client.json("GET", "/api/lines") == _review_all(chapter)


def test_assign_round_trip_writes_the_corrections_file_as_narrator_assign(
    client: Client, chapter: Path
) -> None:
    lines = client.json("GET", "/api/lines")["lines"]
    line = lines[0]
    other = "Sora" if line["speaker"] != "Sora" else "Mika"
    result = client.json("PUT", f"/api/lines/{line['id']}", {"speaker": other})
    assert result["after"]["speaker"] == other and result["after"]["corrected"] is True
    lines_path = chapter.with_name("market.lines.toml")
    saved = tomllib.loads(lines_path.read_text(encoding="utf-8"))
    assert saved[line["id"]]["speaker"] == other
    after = {row["id"]: row for row in _review_all(chapter)["lines"]}
    assert after[line["id"]]["speaker"] == other
    # Every other line whose speaker moved is reported as a consequence.
    moved = {
        i
        for i, row in after.items()
        if i != line["id"] and row["speaker"] != next(x["speaker"] for x in lines if x["id"] == i)
    }
    assert {c["id"] for c in result["also_changed"]} == moved

    # Narration, then back to narrator's own choice: the file says so, then forgets it.
    client.json("PUT", f"/api/lines/{line['id']}", {"kind": "narration"})
    assert tomllib.loads(lines_path.read_text())[line["id"]]["kind"] == "narration"
    client.json("PUT", f"/api/lines/{line['id']}", {"auto": True})
    assert line["id"] not in tomllib.loads(lines_path.read_text())
    assert {row["id"]: row for row in _review_all(chapter)["lines"]}[line["id"]] == line


def test_assign_against_a_changed_corrections_file_is_refused_and_writes_nothing(
    client: Client, chapter: Path
) -> None:
    script = client.json("GET", "/api/script")
    version = script["versions"]["lines"]
    line = next(s for ch in script["chapters"] for s in ch["segments"] if s["kind"] == "dialogue")
    lines_path = chapter.with_name("market.lines.toml")
    by_hand = f'# fixed by hand in an editor\n[{line["id"]}]\nspeaker = "Daichi"\n'
    lines_path.write_text(by_hand, encoding="utf-8")
    status, _, payload = client.request(
        "PUT", f"/api/lines/{line['id']}", {"speaker": "Mika", "version": version}
    )
    assert status == 409
    assert "changed on disk" in json.loads(payload)["error"]
    assert lines_path.read_text(encoding="utf-8") == by_hand
    # With the version as it is now, the same save goes through and keeps the comment.
    fresh = client.json("GET", "/api/script")["versions"]["lines"]
    client.json("PUT", f"/api/lines/{line['id']}", {"speaker": "Mika", "version": fresh})
    text = lines_path.read_text(encoding="utf-8")
    assert "# fixed by hand in an editor" in text and 'speaker = "Mika"' in text


def test_bad_assignments_are_one_line_errors(client: Client) -> None:
    status, _, payload = client.request("PUT", "/api/lines/L000000", {"speaker": "Mika"})
    assert status == 400 and "no line L000000" in json.loads(payload)["error"]
    status, _, payload = client.request("PUT", "/api/lines/nope", {"speaker": "Mika"})
    assert status == 400 and "not a line id" in json.loads(payload)["error"]
    status, _, payload = client.request("PUT", "/api/lines/L000000", {"who": "Mika"})
    assert status == 400 and "unknown field 'who'" in json.loads(payload)["error"]
    status, _, _ = client.request(
        "PUT", "/api/lines/L000000", None, headers={"Content-Type": "text/plain"}
    )
    assert status == 415


def test_script_flags_doubtful_lines_with_their_evidence(client: Client) -> None:
    script = client.json("GET", "/api/script")
    speech = [s for ch in script["chapters"] for s in ch["segments"] if s["speaker"]]
    doubtful = [s for s in speech if s["doubtful"]]
    assert doubtful and all(s["confidence"] < script["threshold"] for s in doubtful)
    # The same evidence and candidates as `narrator review` gives.
    review = {line["id"]: line for line in client.json("GET", "/api/lines")["lines"]}
    assert {s["id"] for s in speech} == set(review)
    for s in speech:
        assert (s["evidence"], s["candidates"]) == (
            review[s["id"]]["evidence"],
            review[s["id"]]["candidates"],
        )
    assert any(s["evidence"] for s in doubtful)
    assert {row["name"] for row in script["characters"]} >= {"Mika", "Daichi", "Sora"}


# ---------------------------------------------------------------- cast


def test_cast_save_changes_the_character_and_keeps_the_authors_comments(
    client: Client, chapter: Path
) -> None:
    cast = client.json("GET", "/api/cast")
    assert {p["id"] for p in cast["profiles"]} >= {"girl", "young-man", "old-man"}
    saved = client.json(
        "PUT",
        "/api/cast/characters/Daichi",
        {
            "voice": "old-man",
            "rate_wpm": 150,
            "pitch": 30,
            "aliases": ["Dai"],
            "version": cast["versions"]["cast"],
        },
    )
    assert saved["voice"] == "old-man" and saved["aliases"] == ["Dai"]
    text = (chapter.parent / "cast.toml").read_text(encoding="utf-8")
    assert "# Cast for market.txt: every character in a voice of their own." in text
    assert 'name = "Daichi"  # the brother: keep him low' in text
    data = tomllib.loads(text)
    daichi = next(c for c in data["character"] if c["name"] == "Daichi")
    assert daichi == {
        "name": "Daichi", "gender": "male", "voice": "old-man", "rate_wpm": 150, "pitch": 30,
        "aliases": ["Dai"],
    }  # fmt: skip
    row = next(r for r in client.json("GET", "/api/cast")["characters"] if r["name"] == "Daichi")
    assert (row["voice"], row["rate_wpm"], row["pitch"]) == ("old-man", 150, 30)
    # null: back to the voice's own rate
    client.json("PUT", "/api/cast/characters/Daichi", {"rate_wpm": None})
    daichi = next(
        c
        for c in tomllib.loads((chapter.parent / "cast.toml").read_text())["character"]
        if c["name"] == "Daichi"
    )
    assert "rate_wpm" not in daichi and daichi["pitch"] == 30


def test_cast_save_against_a_changed_cast_file_is_refused(client: Client, chapter: Path) -> None:
    version = client.json("GET", "/api/cast")["versions"]["cast"]
    cast_path = chapter.parent / "cast.toml"
    edited = cast_path.read_text(encoding="utf-8") + "\n# added in an editor meanwhile\n"
    cast_path.write_text(edited, encoding="utf-8")
    status, _, payload = client.request(
        "PUT", "/api/cast/characters/Mika", {"voice": "old-woman", "version": version}
    )
    assert status == 409 and json.loads(payload)["stale"] is True
    assert cast_path.read_text(encoding="utf-8") == edited


def test_cast_save_rejects_bad_values_and_writes_nothing(client: Client, chapter: Path) -> None:
    cast_path = chapter.parent / "cast.toml"
    before = cast_path.read_text(encoding="utf-8")
    for body, message in (
        ({"voice": "no-such-voice"}, "unknown voice profile"),
        ({"rate_wpm": 9000}, "rate_wpm"),
        ({"name": "Someone"}, "unknown field 'name'"),
    ):
        status, _, payload = client.request("PUT", "/api/cast/characters/Mika", body)
        assert status == 400 and message in json.loads(payload)["error"], payload
    assert cast_path.read_text(encoding="utf-8") == before


def test_without_a_cast_file_the_first_save_writes_it_as_cast_write_would(
    tmp_path: Path,
) -> None:
    shutil.copy(DATA / "market.txt", tmp_path / "market.txt")
    server = start(StudioConfig(tmp_path / "market.txt", engine="fake"))
    try:
        client = Client(server)
        assert client.json("GET", "/api/cast")["versions"]["cast"] == "absent"
        client.json("PUT", "/api/cast/characters/Mika", {"voice": "old-woman", "version": "absent"})
    finally:
        server.shutdown()
        server.server_close()
    data = tomllib.loads((tmp_path / "cast.toml").read_text(encoding="utf-8"))
    mika = next(c for c in data["character"] if c["name"] == "Mika")
    assert mika["voice"] == "old-woman" and "narrator" in data
    assert len(data["character"]) > 1  # everyone else who speaks, as `cast --write` records


def test_a_page_request_hashes_each_file_once(
    chapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = Studio(StudioConfig(chapter, engine="fake"))
    hashed: list[Path] = []
    real_version = session.file_version

    def counting(path: Path) -> str:
        hashed.append(path)
        return real_version(path)

    monkeypatch.setattr(session, "file_version", counting)
    for view in (studio.script, studio.cast, studio.script):
        hashed.clear()
        view()
        assert sorted(hashed) == sorted([studio.config.cast_file, studio.config.lines_file])


def test_saving_a_character_reads_no_voice_profile_again(
    chapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = Studio(StudioConfig(chapter, engine="fake"))
    studio.cast()  # the page shows the cast before anything is saved
    read: list[Path] = []
    real_read = voices.read_toml

    def counting(path: Path, what: str) -> tuple[str, dict[str, Any]]:
        read.append(path)
        return real_read(path, what)

    monkeypatch.setattr(voices, "read_toml", counting)
    assert studio.save_character("Daichi", {"voice": "old-man"})["voice"] == "old-man"
    assert read == []
    with pytest.raises(ConfigError, match="unknown voice profile 'no-such-voice'"):
        studio.save_character("Daichi", {"voice": "no-such-voice"})


@pytest.mark.ffmpeg
def test_a_sample_is_made_on_demand_kept_and_served(client: Client) -> None:
    first = client.json("POST", "/api/cast/characters/Mika/sample", {"voice": "girl"})
    path = client.server.studio.sample_path(first["url"].rsplit("/", 1)[1][: -len(".mp3")])
    made = path.stat().st_mtime_ns
    again = client.json("POST", "/api/cast/characters/Mika/sample", {"voice": "girl"})
    assert again == first and path.stat().st_mtime_ns == made  # cached, not made again
    other = client.json("POST", "/api/cast/characters/Mika/sample", {"voice": "old-woman"})
    assert other["url"] != first["url"]
    # Settings tried out before they are saved: a different sample, and nothing written.
    cast_before = (client.server.studio.config.cast_file).read_text(encoding="utf-8")
    slower = client.json(
        "POST", "/api/cast/characters/Mika/sample", {"voice": "girl", "rate_wpm": 120}
    )
    assert slower["url"] not in (first["url"], other["url"])
    assert client.server.studio.config.cast_file.read_text(encoding="utf-8") == cast_before
    status, _, payload = client.request(
        "POST", "/api/cast/characters/Mika/sample", {"rate_wpm": 9000}
    )
    assert status == 400 and "rate_wpm" in json.loads(payload)["error"]
    status, headers, audio = client.request("GET", first["url"])
    assert status == 200 and headers["Content-Type"] == "audio/mpeg" and len(audio) > 1000
    status, headers, part = client.request("GET", first["url"], headers={"Range": "bytes=10-19"})
    assert status == 206 and part == audio[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(audio)}"


# ---------------------------------------------------------------- listen


@pytest.mark.ffmpeg
def test_render_from_the_page_then_its_audio_and_cues(client: Client) -> None:
    listen = client.json("GET", "/api/listen")
    assert [c["audio"] for c in listen["chapters"]] == [False]
    assert client.request("GET", "/api/chapters/1/cues")[0] == 400
    assert client.json("POST", "/api/render", {})["state"] == "running"
    job = _finish_render(client)
    assert job["state"] == "done", job
    assert job["clips_done"] == job["clips_total"] > 0
    listen = client.json("GET", "/api/listen")
    assert listen["chapters"][0]["audio"] and listen["chapters"][0]["current"]
    cues = client.json("GET", "/api/chapters/1/cues")["cues"]
    assert {c["speaker"] for c in cues} >= {"Narrator", "Mika", "Daichi"}
    assert all(a["end_ms"] <= b["start_ms"] for a, b in itertools.pairwise(cues))
    status, headers, audio = client.request("GET", "/media/chapters/1.mp3")
    assert status == 200 and headers["Content-Type"] == "audio/mpeg" and audio[:3] == b"ID3"
    assert client.request("GET", "/media/chapters/2.mp3")[0] == 400


# ---------------------------------------------------------------- the command


def test_versions_are_content_hashes(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    assert file_version(path) == "absent"
    path.write_text("x = 1\n")
    first = file_version(path)
    path.write_text("x = 2\n")
    assert file_version(path) != first


def test_studio_command_prints_the_address_first_and_stops_on_ctrl_c(
    chapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def serve_forever(self: StudioServer, poll_interval: float = 0.5) -> None:
        seen.append(self.url)
        raise KeyboardInterrupt

    monkeypatch.setattr(StudioServer, "serve_forever", serve_forever)
    result = runner.invoke(app, ["studio", str(chapter), "--engine", "fake"])
    assert result.exit_code == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert first_line == seen[0]
    assert first_line.startswith("http://127.0.0.1:") and "/?token=" in first_line
    assert "stopped" in result.stderr


def test_studio_command_on_a_missing_input_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["studio", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: ") and len(result.stderr.splitlines()) == 1


def _two_chapters(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "01.txt").write_text(
        'Chapter One\n\n"Where is it?" Mika asked.\n\n"Gone," said Daichi.\n', encoding="utf-8"
    )
    (book / "02.txt").write_text(
        'Chapter Two\n\n"Found it," Daichi said.\n\n"Good," said Mika.\n', encoding="utf-8"
    )
    return book


def _finish_render(client: Client) -> dict:
    deadline = time.monotonic() + 60
    while (job := client.json("GET", "/api/render"))["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return job


@pytest.mark.ffmpeg
def test_one_chapter_of_a_book_renders_alone(tmp_path: Path) -> None:
    server = start(StudioConfig(_two_chapters(tmp_path), out_dir=tmp_path / "out", engine="fake"))
    try:
        client = Client(server)
        assert client.request("POST", "/api/render", {"chapter": "2"})[0] == 400
        client.json("POST", "/api/render", {"chapter": 2})
        job = _finish_render(client)
        assert job["state"] == "done" and job["message"] == "chapter 2 rendered"
        chapters = client.json("GET", "/api/listen")["chapters"]
        assert [(c["number"], c["audio"]) for c in chapters] == [(1, False), (2, True)]
        assert client.json("GET", "/api/chapters/2/cues")["cues"]
        client.json("POST", "/api/render", {"chapter": 9})
        job = _finish_render(client)
        assert job["state"] == "failed" and "no chapter 9" in job["message"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_folder_of_chapters_opens_chapter_by_chapter(tmp_path: Path) -> None:
    book = _two_chapters(tmp_path)
    server = start(StudioConfig(book, engine="fake"))
    try:
        client = Client(server)
        script = client.json("GET", "/api/script")
        assert [len(ch["segments"]) > 0 for ch in script["chapters"]] == [True, True]
        line = next(s for s in script["chapters"][1]["segments"] if s["speaker"] == "Mika")
        client.json("PUT", f"/api/lines/{line['id']}", {"speaker": "Daichi"})
    finally:
        server.shutdown()
        server.server_close()
    assert tomllib.loads((book / "lines.toml").read_text())[line["id"]]["speaker"] == "Daichi"


def test_the_real_command_serves_until_ctrl_c(chapter: Path, tmp_path: Path) -> None:
    narrator = Path(sys.executable).with_name("narrator")
    process = subprocess.Popen(
        [str(narrator), "studio", str(chapter), "--engine", "fake"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        port = int(url.split(":")[2].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", url.split(str(port), 1)[1])
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopped" in stderr and "Traceback" not in stderr


def test_the_page_needs_nothing_from_elsewhere(client: Client) -> None:
    static = ROOT / "narrator" / "studio" / "static"
    names = sorted(path.name for path in static.iterdir())
    assert names == ["index.html", "studio.css", "studio.js"]
    for name in names:
        text = (static / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, name
        assert "@import" not in text and "url(" not in text, name
    page = (static / "index.html").read_text(encoding="utf-8")
    for reference in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert reference.startswith("/static/"), reference
        assert client.request("GET", reference)[0] == 200
    _, headers, _ = client.request("GET", "/")
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
