"""`narrator review` and `narrator assign`: the doubtful lines, one line fixed, everywhere."""

from __future__ import annotations

import html
import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from epubfactory import EpubSpec, Page, build_epub
from typer.testing import CliRunner

from narrator import review
from narrator.analysis import REVIEW_THRESHOLD
from narrator.cli import app
from narrator.export import read_vtt

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "lines"
LINE_KEYS = {
    "id", "chapter", "start", "end", "kind", "speaker", "confidence", "evidence", "candidates",
    "corrected",
}  # fmt: skip

runner = CliRunner()


@pytest.fixture
def chapter(tmp_path: Path) -> Path:
    """The messy web-fiction chapter and its cast (one voice per character), in a tmp folder."""
    shutil.copy(DATA / "market.txt", tmp_path / "market.txt")
    shutil.copy(DATA / "market.cast.toml", tmp_path / "cast.toml")
    return tmp_path / "market.txt"


def _run(*args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _review(path: Path, *extra: str) -> dict[str, dict]:
    data = json.loads(_run("review", path, "--all", "--json", *extra))
    return {line["id"]: line for line in data["lines"]}


def _analyze(path: Path, *extra: str) -> dict[str, dict]:
    data = json.loads(_run("analyze", path, "--json", *extra))
    segments = data.get("segments") or [s for ch in data["chapters"] for s in ch["segments"]]
    return {s["id"]: s for s in segments}


def _id_of(lines: dict[str, dict], analysis: dict[str, dict], text: str) -> str:
    return next(i for i, s in analysis.items() if s["text"] == text and i in lines)


def _other(speaker: str | None) -> str:
    return "Sora" if speaker != "Sora" else "Mika"


def _one_line_error(result: object, *needles: str) -> None:
    output = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 1, output  # type: ignore[attr-defined]
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    for needle in needles:
        assert needle in lines[0]


def test_review_json_lists_every_speech_line_in_the_documented_format(chapter: Path) -> None:
    lines = _review(chapter)
    segments = _analyze(chapter)
    speech = {i for i, s in segments.items() if s["kind"] in ("dialogue", "thought")}
    assert set(lines) == speech and len(speech) == 11
    text = chapter.read_text(encoding="utf-8")
    for line_id, line in lines.items():
        assert set(line) == LINE_KEYS
        assert line["chapter"] == 1 and line["corrected"] is False
        assert text[line["start"] : line["end"]] == segments[line_id]["text"]
        assert line["speaker"] == segments[line_id]["speaker"]
        assert isinstance(line["evidence"], list) and isinstance(line["candidates"], list)
    # analyze --json segments carry the same ids and their evidence.
    assert all(set(s) >= {"id", "evidence"} for s in segments.values())


def test_review_lists_the_doubtful_lines_least_certain_first(chapter: Path) -> None:
    every = _review(chapter)
    threshold = sorted(line["confidence"] for line in every.values())[3] + 0.001
    doubtful = json.loads(_run("review", chapter, "--json", "--low", str(threshold)))["lines"]
    assert {d["id"] for d in doubtful} == {
        i for i, line in every.items() if line["confidence"] < threshold
    }
    shown = _run("review", chapter, "--low", str(threshold))
    listed = [row.split()[1] for row in shown.splitlines() if row.startswith("? ")]
    order = sorted(doubtful, key=lambda d: d["confidence"])
    assert listed == [d["id"] for d in order]
    assert f"narrator assign {chapter} {order[0]['id']} NAME" in shown


@pytest.mark.usefixtures("fake_encoder")
def test_three_assigns_change_those_lines_in_review_analyze_the_transcript_and_the_audio(
    chapter: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = runner.invoke(app, ["render", str(chapter), "--out", str(out), "--engine", "fake"])
    assert first.exit_code == 0, first.stderr
    vtt_path = next((out / "Market").glob("*.vtt"))
    cues_before = Counter((c.speaker, c.text) for c in read_vtt(vtt_path))
    before, segments = _review(chapter), _analyze(chapter)

    late = _id_of(before, segments, '"You\'re late."')
    onesan = _id_of(before, segments, '"Onesan but why? Because stealing is wrong, that\'s why."')
    buying = _id_of(before, segments, '"Are you buying or just looking?"')
    late_speaker = _other(before[late]["speaker"])
    _run("assign", chapter, late, late_speaker)
    _run("assign", chapter, onesan, "Mika", "--split-at", "Because", "--then", "Sora")
    told = _run("assign", chapter, buying, "the old vendor")
    assert buying in told and "the old vendor" in told

    after = _review(chapter)
    assert after[late]["speaker"] == late_speaker and after[late]["corrected"]
    assert after[onesan]["speaker"] == "Mika" and after[onesan + ".2"]["speaker"] == "Sora"
    assert after[buying]["speaker"] == "the old vendor" and after[buying]["confidence"] == 1.0
    assert {i for i, line in after.items() if line["corrected"]} == {
        late,
        onesan,
        onesan + ".2",
        buying,
    }
    consequences = {c.line_id for c, _ in review.review_input(chapter).changed}
    for line_id, line in before.items():
        if line_id not in (late, onesan, buying):
            assert after[line_id]["speaker"] == line["speaker"] or line_id in consequences
    analysed = _analyze(chapter)
    assert analysed[late]["speaker"] == late_speaker
    assert analysed[onesan + ".2"]["text"] == "Because stealing is wrong, that's why.\""

    second = runner.invoke(app, ["render", str(chapter), "--out", str(out), "--engine", "fake"])
    assert second.exit_code == 0, second.stderr
    cues_after = Counter((c.speaker, c.text) for c in read_vtt(vtt_path))
    new_cues = cues_after - cues_before
    assert (late_speaker, '"You\'re late."') in new_cues
    assert ("Mika", '"Onesan but why?') in new_cues and (
        "Sora",
        "Because stealing is wrong, that's why.\"",
    ) in new_cues
    assert ("the old vendor", '"Are you buying or just looking?"') in new_cues
    # Only the clips of those lines (and of lines changed in consequence) were synthesized:
    # every speaker has a voice of their own, so a changed cue is a changed clip.
    assert sum(new_cues.values()) == 4 + len(consequences)
    # Identical lines by the same voice (`"Yes."` twice) are one clip, and a line moved to a
    # voice that already says the same words elsewhere reuses that clip.
    fresh = [cue for cue in new_cues if cue not in cues_before]
    assert f"{len(fresh)} clips synthesized" in second.stdout
    # The new speaker joined the cast with a voice of their own.
    cast_text = (chapter.parent / "cast.toml").read_text(encoding="utf-8")
    assert 'name = "the old vendor"' in cast_text
    voices = {
        c["name"]: c["voice"] for c in json.loads(_run("analyze", chapter, "--json"))["characters"]
    }
    assert voices["the old vendor"] not in {v for n, v in voices.items() if n != "the old vendor"}


@pytest.mark.usefixtures("fake_encoder")
def test_a_correction_survives_edits_and_a_rewritten_line_is_reported_stale(
    chapter: Path, tmp_path: Path
) -> None:
    before, segments = _review(chapter), _analyze(chapter)
    late = _id_of(before, segments, '"You\'re late."')
    buying = _id_of(before, segments, '"Are you buying or just looking?"')
    _run("assign", chapter, late, _other(before[late]["speaker"]))
    _run("assign", chapter, buying, "Daichi")
    text = chapter.read_text(encoding="utf-8")
    text = "A paragraph added at the top.\n\n" + text.replace("Liar.", "Liar!")
    text = text.replace("Are you buying or just looking?", "So, what will it be today?")
    chapter.write_text(text, encoding="utf-8")

    result = runner.invoke(app, ["review", str(chapter), "--all", "--json"])
    assert result.exit_code == 0
    lines = {line["id"]: line for line in json.loads(result.stdout)["lines"]}
    assert lines[late]["corrected"] and lines[late]["speaker"] == _other(before[late]["speaker"])
    assert [i for i, line in lines.items() if line["corrected"]] == [late]
    assert f"stale correction {buying}" in result.stderr and "Are you buying" in result.stderr
    for command in ("analyze", "render"):
        args = [command, str(chapter)] + (
            ["--out", str(tmp_path / "o"), "--engine", "fake"] if command == "render" else []
        )
        other = runner.invoke(app, args)
        assert other.exit_code == 0 and f"stale correction {buying}" in other.stderr
    # --auto drops even a stale correction.
    _run("assign", chapter, buying, "--auto")
    assert buying not in (chapter.parent / "market.lines.toml").read_text(encoding="utf-8")


def test_kind_and_auto_round_trip(chapter: Path) -> None:
    before, segments = _review(chapter), _analyze(chapter)
    liar = _id_of(before, segments, '"Liar."')
    _run("assign", chapter, liar, "--kind", "narration")
    assert liar not in _review(chapter) and _analyze(chapter)[liar]["kind"] == "narration"
    _run("assign", chapter, liar, "--auto")
    assert _review(chapter)[liar] == before[liar]


def test_a_label_narrator_prints_works_as_an_alias_and_as_an_assign_target(
    chapter: Path,
) -> None:
    before, segments = _review(chapter), _analyze(chapter)
    buying = _id_of(before, segments, '"Are you buying or just looking?"')
    _run("assign", chapter, buying, "the small woman")
    assert _review(chapter)[buying]["speaker"] == "the small woman"
    cast = chapter.parent / "cast.toml"
    cast.write_text(
        cast.read_text(encoding="utf-8").replace(
            'aliases = ["Onesan"]', 'aliases = ["Onesan", "small woman"]'
        ),
        encoding="utf-8",
    )
    assert _review(chapter)[buying]["speaker"] == "Sora"


def test_the_lines_option_names_the_corrections_file(chapter: Path, tmp_path: Path) -> None:
    before, segments = _review(chapter), _analyze(chapter)
    late = _id_of(before, segments, '"You\'re late."')
    mine = tmp_path / "fixes" / "mine.toml"
    _run("assign", chapter, late, "Mika", "--lines", mine)
    assert mine.exists() and not (chapter.parent / "market.lines.toml").exists()
    assert _review(chapter, "--lines", str(mine))[late]["speaker"] == "Mika"
    result = runner.invoke(app, ["analyze", str(chapter), "--lines", str(tmp_path / "nope.toml")])
    _one_line_error(result, "nope.toml")


def test_bad_assigns_are_one_clear_line(chapter: Path) -> None:
    before, segments = _review(chapter), _analyze(chapter)
    late = _id_of(before, segments, '"You\'re late."')
    _one_line_error(
        runner.invoke(app, ["assign", str(chapter), "L000000", "Mika"]), "no line L000000"
    )
    _one_line_error(runner.invoke(app, ["assign", str(chapter), "hello", "Mika"]), "not a line id")
    _one_line_error(
        runner.invoke(
            app, ["assign", str(chapter), late, "Mika", "--split-at", "zebra", "--then", "Sora"]
        ),
        "zebra",
    )
    _one_line_error(
        runner.invoke(app, ["assign", str(chapter), late, "Mika", "--split-at", "late"]),
        "split_at and then go together",
    )
    _one_line_error(runner.invoke(app, ["assign", str(chapter), late]), "who speaks it")
    assert not (chapter.parent / "market.lines.toml").exists()
    broken = chapter.parent / "market.lines.toml"
    broken.write_text('[L3f9a2c]\nspeaker = "A"\nvoice = "x"\n', encoding="utf-8")
    _one_line_error(runner.invoke(app, ["review", str(chapter)]), "market.lines.toml:3", "voice")


@pytest.mark.ffmpeg
def test_render_ends_with_the_doubtful_count_and_the_command(chapter: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["render", str(chapter), "--out", str(tmp_path / "out"), "--engine", "fake"]
    )
    assert result.exit_code == 0, result.stderr
    doubtful = [line for line in _review(chapter).values() if line["confidence"] < REVIEW_THRESHOLD]
    assert doubtful
    assert result.stdout.strip().splitlines()[-1] == (
        f"{len(doubtful)} lines below confidence {REVIEW_THRESHOLD:.2f}; "
        f"list them with: narrator review {chapter}"
    )


FIRST_CHAPTER = (
    "The market opened at dawn, and by seven the square was loud with carts and gulls.\n\n"
    'Ann waved from the bakery door. "Hello there," Ann said. "Fresh bread today!"\n\n'
    '"Two loaves, please," said Tom, counting his coins twice before he handed them over.\n'
)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "arc"
    folder.mkdir()
    (folder / "1.txt").write_text(FIRST_CHAPTER, encoding="utf-8")
    shutil.copy(DATA / "market.txt", folder / "2.txt")
    shutil.copy(DATA / "market.cast.toml", folder / "cast.toml")
    return folder


def _epub(tmp_path: Path) -> Path:
    pages = []
    texts = [FIRST_CHAPTER, (DATA / "market.txt").read_text(encoding="utf-8")]
    for number, text in enumerate(texts, 1):
        body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
        pages.append(Page(f"ch{number}.xhtml", f"<h1>Part {number}</h1>{body}", f"Part {number}"))
    epub = build_epub(tmp_path / "market.epub", EpubSpec(pages=tuple(pages), title="Market"))
    shutil.copy(DATA / "market.cast.toml", tmp_path / "cast.toml")
    return epub


@pytest.mark.parametrize("make", [_folder, _epub], ids=["folder", "epub"])
def test_a_folder_and_an_epub_work_the_same(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = make(tmp_path)
    lines, segments = _review(book), _analyze(book)
    assert {line["chapter"] for line in lines.values()} == {1, 2}
    late = _id_of(lines, segments, '"You\'re late."')
    assert lines[late]["chapter"] == 2
    speaker = _other(lines[late]["speaker"])
    _run("assign", book, late, speaker)
    expected = book / "lines.toml" if book.is_dir() else tmp_path / "market.lines.toml"
    assert expected.exists()
    after = _review(book)
    assert after[late]["speaker"] == speaker and after[late]["corrected"]
    assert [i for i, line in after.items() if line["corrected"]] == [late]


def test_assign_and_review_say_which_other_lines_changed_in_consequence(
    chapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an attributor whose speakers alternate from the last certain line, fixing one
    line changes those after it: assign and review name exactly those."""
    from narrator import corrections as corrections_module

    def alternating(  # type: ignore[no-untyped-def]
        text,
        segments,
        characters,
        *,
        narrative_person=None,
        fixed=None,
        complete=None,
        idiolects=None,
        sieved=None,
    ):
        fixed = fixed or {}
        names, out, turn = ["Mika", "Daichi"], [], 0
        for s in segments:
            if s.kind.is_speech:
                if s.start in fixed:
                    turn = names.index(fixed[s.start]) if fixed[s.start] in names else turn
                speaker = fixed.get(s.start, names[turn % 2])
                s = replace(s, speaker=speaker, confidence=1.0 if s.start in fixed else 0.5)
                turn += 1
            out.append(s)
        return out

    monkeypatch.setattr(corrections_module, "attribute_speakers", alternating)
    before = list(_review(chapter).values())
    target = before[2]
    result = review.assign_line(chapter, target["id"], _flip(target["speaker"]))
    flipped = {line["id"] for line in before[3:]}
    assert {new.line_id for _, new in result.also_changed} == flipped
    assert all(old.speaker != new.speaker for old, new in result.also_changed)
    shown = _run("review", chapter, "--all")
    assert sum("changed by your corrections" in row for row in shown.splitlines()) == len(flipped)
    json_run = runner.invoke(app, ["review", str(chapter), "--all", "--json"])
    assert json.loads(json_run.stdout)["lines"] and "changed by your corrections" in json_run.stderr


def _flip(speaker: str) -> str:
    return "Daichi" if speaker == "Mika" else "Mika"


@pytest.mark.ffmpeg
def test_ids_from_review_apply_when_render_splits_one_text_into_chapters(tmp_path: Path) -> None:
    """`review` reads a text file whole, `render` splits it at chapter headings: the lines at
    the seams have other neighbours there, and their corrections apply all the same."""
    book = tmp_path / "Two Days.txt"
    book.write_text(
        "Chapter 1: Morning\n\nMika opened the shop.\n\n"
        '"Good morning," Daichi said. "Is the bread ready?" "Almost."\n\n'
        "Chapter 2: Evening\n\n"
        '"Closing time," said Sora. Mika swept the floor.\n',
        encoding="utf-8",
    )
    lines, segments = _review(book), _analyze(book)
    almost = _id_of(lines, segments, '"Almost."')
    closing = _id_of(lines, segments, '"Closing time,"')
    _run("assign", book, almost, "Mika")
    _run("assign", book, closing, "the old vendor")
    out = str(tmp_path / "out")
    # --format mp3: a transcript per chapter.
    result = runner.invoke(
        app, ["render", str(book), "--out", out, "--engine", "fake", "--format", "mp3"]
    )
    assert result.exit_code == 0, result.stderr
    assert "stale" not in result.stderr
    vtts = sorted((tmp_path / "out" / "Two Days").glob("*.vtt"))
    assert len(vtts) == 2
    assert ("Mika", '"Almost."') in {(c.speaker, c.text) for c in read_vtt(vtts[0])}
    assert ("the old vendor", '"Closing time,"') in {(c.speaker, c.text) for c in read_vtt(vtts[1])}


def test_a_printed_label_used_as_an_alias_exactly_as_printed_names_the_character(
    tmp_path: Path,
) -> None:
    chapter = tmp_path / "shop.txt"
    chapter.write_text(
        'A small woman came into the shop.\n\n"Good morning," said the small woman.\n\n'
        '"Hello," Tom said.\n',
        encoding="utf-8",
    )
    label = next(iter(_review(chapter).values()))["speaker"]
    assert label == "the small woman"
    cast = tmp_path / "mine.toml"
    cast.write_text(
        f'[[character]]\nname = "Hana"\naliases = ["{label}"]\ngender = "female"\n\n'
        '[[character]]\nname = "Tom"\ngender = "male"\n',
        encoding="utf-8",
    )
    assert next(iter(_review(chapter, "--cast", str(cast)).values()))["speaker"] == "Hana"
