"""narrator studio in a real browser: Debian's chromium, headless, driven through chromedriver.

Skipped when chromium or chromedriver is missing (`scripts/setup.sh --dev` installs both).
On failure a screenshot is saved beside the test's files and named in the error.
"""

from __future__ import annotations

import shutil
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from narrator.studio import Studio, StudioConfig, StudioServer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "lines"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,  # samples and renders are MP3s
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None, reason="chromium/chromedriver not installed"
    ),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WAIT_S = 30


@pytest.fixture
def book(tmp_path: Path) -> Path:
    shutil.copy(DATA / "market.txt", tmp_path / "market.txt")
    shutil.copy(DATA / "market.cast.toml", tmp_path / "cast.toml")
    return tmp_path / "market.txt"


@pytest.fixture
def server(book: Path, tmp_path: Path) -> Iterator[StudioServer]:
    studio = Studio(StudioConfig(book, out_dir=tmp_path / "out", engine="fake"))
    server = StudioServer(studio, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium must not look for drivers online
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Callable[[Any], Any], what: str, shot: Path) -> Any:
    try:
        return WebDriverWait(
            driver, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition)
    except TimeoutException:
        driver.save_screenshot(str(shot))
        raise AssertionError(f"timed out waiting for {what}; screenshot: {shot}") from None


def test_review_cast_and_listen_in_the_browser(
    browser: Any, server: StudioServer, book: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "studio-failure.png"
    driver = browser

    def wait(condition: Callable[[Any], Any], what: str) -> Any:
        return _wait(driver, condition, what, shot)

    try:
        driver.get(server.url)
        wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#script .seg.speech"), "the script")
        assert "token" not in driver.current_url  # dropped from the address at once

        # Script: a doubtful line is flagged and shows its evidence.
        doubtful = driver.find_elements(By.CSS_SELECTOR, "#script .seg.doubtful")
        assert doubtful and "confidence" in doubtful[0].get_attribute("title")

        # Reassign a line with a click, then the next one with the keyboard.
        line = driver.find_elements(By.CSS_SELECTOR, "#script .seg.speech")[0]
        line_id = line.get_attribute("data-id")
        was = line.find_element(By.CSS_SELECTOR, ".who").text
        line.click()
        wait(lambda d: d.find_element(By.ID, "line-id").text == line_id, "the inspector")
        buttons = driver.find_elements(By.CSS_SELECTOR, "#speaker-buttons button")
        names = [b.get_attribute("data-name") for b in buttons]
        target = next(name for name in names if name != was)
        buttons[names.index(target)].click()
        wait(lambda d: "Saved" in d.find_element(By.ID, "message").text, "the save")
        lines_path = book.with_name("market.lines.toml")
        assert tomllib.loads(lines_path.read_text())[line_id]["speaker"] == target
        shown = wait(
            lambda d: d.find_element(By.CSS_SELECTOR, f'.seg[data-id="{line_id}"] .who'),
            "the line again",
        )
        assert shown.text == target

        speech = driver.find_elements(By.CSS_SELECTOR, "#script .seg")
        ids = [node.get_attribute("data-id") for node in speech]
        next_id = ids[ids.index(line_id) + 1]
        driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
        wait(lambda d: d.find_element(By.ID, "line-id").text == next_id, "moving down")
        driver.switch_to.active_element.send_keys("2")
        wait(
            lambda d: next_id in tomllib.loads(lines_path.read_text()),
            "the keyboard assignment",
        )
        assert tomllib.loads(lines_path.read_text())[next_id]["speaker"] == names[1]

        # Cast: change a voice, save, audition it.
        driver.find_element(By.ID, "tab-cast").click()
        row = wait(
            lambda d: d.find_element(By.CSS_SELECTOR, '#cast-table tr[data-name="Mika"]'),
            "the cast",
        )
        Select(row.find_element(By.CSS_SELECTOR, "select.voice")).select_by_value("old-woman")
        row.find_element(By.CSS_SELECTOR, "button.save").click()
        wait(lambda d: "Saved Mika" in d.find_element(By.ID, "message").text, "the cast save")
        cast = tomllib.loads((book.parent / "cast.toml").read_text())
        assert next(c for c in cast["character"] if c["name"] == "Mika")["voice"] == "old-woman"
        row = wait(
            lambda d: d.find_element(By.CSS_SELECTOR, '#cast-table tr[data-name="Mika"]'),
            "the cast again",
        )
        row.find_element(By.CSS_SELECTOR, "button.sample").click()
        wait(
            lambda d: d.execute_script(
                "const a = document.getElementById('sample-audio');"
                "return a.src.endsWith('.mp3') && a.readyState >= 2 && a.duration > 0;"
            ),
            "the sample to load",
        )

        # Listen: render, open the chapter, play, the transcript follows; click to seek.
        driver.find_element(By.ID, "tab-listen").click()
        driver.find_element(By.ID, "render").click()
        wait(
            lambda d: d.execute_script(
                "return document.getElementById('render-state').textContent.includes('rendered')"
                " && document.querySelector('#chapters button:not([disabled])') !== null;"
            ),
            "the render",
        )
        chapter = driver.find_element(By.CSS_SELECTOR, "#chapters button:not([disabled])")
        assert driver.execute_script(
            "const p = document.getElementById('render-progress'); return p.value === p.max;"
        )
        chapter.click()
        cues = wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li"), "the cues")
        assert len(cues) > 3
        driver.execute_script("document.getElementById('player').play()")
        wait(
            lambda d: d.execute_script("return document.getElementById('player').currentTime > 0"),
            "playing",
        )
        wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li.active"), "a highlight")
        driver.find_element(By.CSS_SELECTOR, "body").send_keys(" ")  # Space: pause
        wait(
            lambda d: d.execute_script("return document.getElementById('player').paused"),
            "pause",
        )
        cues[3].click()
        start_s = server.studio.cues(1)["cues"][3]["start_ms"] / 1000  # type: ignore[index]
        wait(
            lambda d: (
                abs(
                    d.execute_script("return document.getElementById('player').currentTime")
                    - start_s
                )
                < 0.5
            ),
            "the seek",
        )
        wait(
            lambda d: (
                "active"
                in d.find_elements(By.CSS_SELECTOR, "#transcript li")[3].get_attribute("class")
            ),
            "the clicked line highlighted",
        )
    except Exception:
        driver.save_screenshot(str(shot))
        raise
