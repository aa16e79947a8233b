"""Tests for narrator.voices: loading, overriding, validating and checking voice profiles."""

from __future__ import annotations

import itertools
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from narrator.errors import ConfigError
from narrator.model import Gender, VoiceFigures, VoiceProfile
from narrator.voices import (
    VOICE_LEVEL_LUFS,
    check_engine_voice,
    check_profile_voices,
    find_key_line,
    level_gain_db,
    load_profile,
    load_profiles,
    measured_settings,
    project_voices_dir,
    split_engine_voice,
    user_voices_dir,
    voice_distance,
    weighting_db,
)

ROOT = Path(__file__).resolve().parent.parent
FIELDS = (
    "description", "engine_voice", "rate_wpm", "pitch", "volume", "gain_db", "gender", "age",
    "measured",
)  # fmt: skip

GOOD = """\
description = "A test voice"
engine_voice = "gmw/en-us+f3"
rate_wpm = 170
pitch = 60
volume = 0.9
gain_db = -1.5
gender = "female"
age = "young"
"""


def parse_variant_listing(listing: str) -> frozenset[str]:
    """Variant names from the output of `espeak-ng --voices=variant` (the "!v/..." files)."""
    names = set()
    for line in listing.splitlines():
        match = re.search(r"!v/(\S(?:.*?\S)?)(?:\s{2,}|\s*$)", line)
        if match:
            names.add(match.group(1))
    return frozenset(names)


def write(folder: Path, stem: str, text: str = GOOD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def with_line(key: str, value: str) -> str:
    """GOOD with `key = value` replacing (or added after) the key's line."""
    lines = [ln for ln in GOOD.splitlines() if not ln.startswith(f"{key} =")]
    return "\n".join([*lines, f"{key} = {value}"]) + "\n"


# ---------------------------------------------------------------- shipped profiles


def test_project_voices_dir_is_the_repository_folder() -> None:
    assert project_voices_dir() == ROOT / "voices"


def test_shipped_profiles_cover_genders_and_ages() -> None:
    profiles = load_profiles()
    characters = {pid: p for pid, p in profiles.items() if pid != "narrator"}
    assert "narrator" in profiles
    assert len(characters) >= 12
    for gender in Gender:
        assert sum(p.gender == gender for p in characters.values()) >= 5, gender
    for gender, age in itertools.product(Gender, ("child", "young", "adult", "old")):
        assert any(p.gender == gender and p.age == age for p in characters.values()), (gender, age)


def test_shipped_profiles_write_every_field_and_ids_are_stems() -> None:
    for path in sorted((ROOT / "voices").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert sorted(data) == sorted(FIELDS), path.name
        profile = load_profile(path)
        assert profile.id == path.stem
        assert profile.description and "\n" not in profile.description
        # Measured with the settings in the file (bench/measure_voices.py --write).
        assert profile.measured is not None, f"{path.name}: figures missing or stale"


def test_shipped_profiles_are_spread_apart() -> None:
    # Issue 12: no voice within 3 semitones and 15% pace of the narrator's; two profiles on
    # the same engine voice and variant are told apart by pitch or pace.
    profiles = load_profiles()
    narrator = profiles["narrator"].measured
    assert narrator is not None
    for profile in profiles.values():
        assert profile.measured is not None
        if profile.id != "narrator":
            assert voice_distance(profile.measured, narrator) >= 1.0, profile.id
    for a, b in itertools.combinations(profiles.values(), 2):
        if a.engine_voice == b.engine_voice:
            assert a.measured and b.measured
            assert voice_distance(a.measured, b.measured) >= 1.0, (a.id, b.id)


def test_shipped_narrator_speaks_at_an_audiobook_pace() -> None:
    # Issue 12: 150-165 words per minute measured on its lines (espeak-ng calibrated).
    narrator = load_profiles()["narrator"].measured
    assert narrator is not None
    assert 150 <= narrator.pace_wpm <= 165


def test_shipped_voices_land_at_one_level() -> None:
    # Gains from measured loudness: every voice at VOICE_LEVEL_LUFS, none needing a positive
    # gain (espeak-ng clips already reach full scale).
    for profile in load_profiles().values():
        assert profile.measured is not None
        gain = level_gain_db(profile)
        assert gain <= 0.0, profile.id
        assert profile.measured.loudness_lufs + gain == pytest.approx(VOICE_LEVEL_LUFS, abs=0.01)


def test_readme_documents_every_field_and_profile() -> None:
    readme = (ROOT / "voices" / "README.md").read_text(encoding="utf-8")
    for name in FIELDS:
        assert f"`{name}`" in readme, name
    for profile_id in load_profiles():
        assert f"| {profile_id} |" in readme, profile_id


def test_profiles_are_listed_sorted_by_id() -> None:
    ids = list(load_profiles())
    assert ids == sorted(ids)


# ---------------------------------------------------------------- folders and overrides


def test_user_dir_comes_from_env_or_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert user_voices_dir() == tmp_path / "config" / "narrator" / "voices"
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "mine"))
    assert user_voices_dir() == tmp_path / "mine"


def test_later_folders_override_by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_dir, extra_dir = tmp_path / "user", tmp_path / "extra"
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(user_dir))
    write(user_dir, "woman", with_line("description", '"user woman"'))
    write(user_dir, "robot", with_line("description", '"user robot"'))
    write(extra_dir, "robot", with_line("description", '"extra robot"'))
    profiles = load_profiles([extra_dir])
    assert profiles["woman"].description == "user woman"
    assert profiles["woman"].path == user_dir / "woman.toml"
    assert profiles["robot"].description == "extra robot"
    assert profiles["man"].path == ROOT / "voices" / "man.toml"  # untouched project profile


def test_missing_user_dir_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "nothing-here"))
    assert "narrator" in load_profiles()


def test_missing_extra_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing-here: voices folder does not exist"):
        load_profiles([tmp_path / "nothing-here"])


def test_files_other_than_toml_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "solo")
    (tmp_path / "README.md").write_text("# notes\n", encoding="utf-8")
    (tmp_path / "solo.toml.bak").write_text("garbage = [", encoding="utf-8")
    assert load_profiles([tmp_path])["solo"].engine_voice == "gmw/en-us+f3"


def test_good_profile_loads_all_fields(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "test-voice"))
    assert profile == VoiceProfile(
        id="test-voice",
        description="A test voice",
        engine_voice="gmw/en-us+f3",
        rate_wpm=170,
        pitch=60,
        volume=0.9,
        gain_db=-1.5,
        gender=Gender.FEMALE,
        age="young",
        path=tmp_path / "test-voice.toml",
    )


MEASURED = """
[measured]
settings = "gmw/en-us+f3 rate 170 pitch 60 volume 0.9"
pitch_hz = 210.5
pace_wpm = 168.0
loudness_lufs = -19.5
weighting_db = 0.6
"""


def test_measured_figures_are_read_and_set_the_gain(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "test-voice", GOOD + MEASURED))
    assert profile.measured == VoiceFigures(210.5, 168.0, -19.5, 0.6)
    assert measured_settings(profile) == "gmw/en-us+f3 rate 170 pitch 60 volume 0.9"
    # At VOICE_LEVEL_LUFS, plus the file's own gain_db (-1.5) as a trim.
    assert level_gain_db(profile) == pytest.approx(VOICE_LEVEL_LUFS + 19.5 - 1.5)
    assert weighting_db(profile) == 0.6


def test_figures_measured_with_other_settings_are_ignored(tmp_path: Path) -> None:
    edited = GOOD.replace("pitch = 60", "pitch = 70") + MEASURED
    profile = load_profile(write(tmp_path, "test-voice", edited))
    assert profile.measured is None
    assert level_gain_db(profile) == -1.5  # only the trim: not calibrated
    assert weighting_db(profile) == 0.8


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("pace_wpm = 168.0", "measured.pace_wpm: missing"),
        ("pitch_hz = 210.5", "measured.pitch_hz: missing"),
        ("loudness_lufs = -19.5", "measured.loudness_lufs: missing"),
    ],
)
def test_incomplete_measured_table_is_an_error(tmp_path: Path, change: str, expected: str) -> None:
    path = write(tmp_path, "test-voice", GOOD + MEASURED.replace(change, ""))
    with pytest.raises(ConfigError, match=expected):
        load_profile(path)


def test_bad_measured_values_name_the_line(tmp_path: Path) -> None:
    text = GOOD + MEASURED.replace("pitch_hz = 210.5", 'pitch_hz = "high"')
    path = write(tmp_path, "test-voice", text)
    with pytest.raises(ConfigError, match=r"test-voice\.toml:12: measured\.pitch_hz: must be"):
        load_profile(path)
    path = write(tmp_path, "test-voice", GOOD + MEASURED + "colour = 1\n")
    with pytest.raises(ConfigError, match=r"measured\.colour: unknown field"):
        load_profile(path)


def test_voice_distance_is_pitch_or_pace_in_threshold_units() -> None:
    base = VoiceFigures(100.0, 150.0, -20.0, 0.8)
    assert voice_distance(base, base) == 0.0
    three_semitones = VoiceFigures(100.0 * 2 ** (3 / 12), 150.0, -20.0, 0.8)
    assert voice_distance(base, three_semitones) == pytest.approx(1.0)
    faster = VoiceFigures(101.0, 150.0 * 1.15, -20.0, 0.8)
    assert voice_distance(base, faster) == pytest.approx(1.0)
    assert voice_distance(faster, base) == pytest.approx(voice_distance(base, faster))


def test_optional_fields_take_defaults(tmp_path: Path) -> None:
    text = 'description = "Bare"\nengine_voice = "gmw/en"\n'
    profile = load_profile(write(tmp_path, "bare", text))
    assert (profile.rate_wpm, profile.pitch, profile.volume, profile.gain_db) == (175, 50, 1.0, 0.0)
    assert profile.gender is None and profile.age == "adult"


# ---------------------------------------------------------------- validation messages


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("rate_wpm", "900", "rate_wpm: must be 80..450, got 900"),
        ("rate_wpm", "170.5", "rate_wpm: must be a whole number 80..450, got 170.5"),
        ("pitch", "120", "pitch: must be 0..99, got 120"),
        ("pitch", '"high"', "pitch: must be a whole number 0..99, got 'high'"),
        ("pitch", "true", "pitch: must be a whole number 0..99, got True"),
        ("volume", "1.5", "volume: must be 0..1, got 1.5"),
        ("volume", '"loud"', "volume: must be a number 0..1, got 'loud'"),
        ("gain_db", "45", "gain_db: must be -30..30, got 45"),
        ("gender", '"m"', 'gender: must be "male" or "female", got "m"'),
        ("age", '"teen"', 'age: must be "child" or "young" or "adult" or "old", got "teen"'),
        ("description", '""', "description: must be a non-empty string"),
        ("description", '"""one\ntwo"""', "description: must be one line"),
        ("engine_voice", "7", "engine_voice: must be a non-empty string, got 7"),
        ("engine_voice", '"en us;rm"', "engine_voice: must look like"),
        ("rate", "150", "rate: unknown field; allowed: description, engine_voice, rate_wpm"),
        ("extra", "{ a = 1 }", "extra: unknown field"),
    ],
)
def test_field_errors_name_file_line_and_field(
    tmp_path: Path, key: str, value: str, expected: str
) -> None:
    text = with_line(key, value)
    path = write(tmp_path, "old-man", text)
    line = find_key_line(text, key)
    assert line is not None
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {expected}"), message
    assert "\n" not in message


def test_field_errors_show_path_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "voices", "old-man", with_line("rate_wpm", "900"))
    with pytest.raises(
        ConfigError, match=r"^voices/old-man\.toml:\d+: rate_wpm: must be 80\.\.450"
    ):
        load_profiles([Path("voices")])


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, "v", 'description = "no engine voice"\n')
    with pytest.raises(ConfigError, match=r"v\.toml: engine_voice: missing \(required\)"):
        load_profile(path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken", 'description = "x"\nengine_voice = "gmw/en"\npitch = = 3\n')
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML: .*line 3"):
        load_profile(path)


def test_file_stem_must_be_a_plain_id(tmp_path: Path) -> None:
    path = write(tmp_path, "Old Man")
    with pytest.raises(ConfigError, match="file name must be a voice id"):
        load_profile(path)


def test_voices_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "voices"
    not_a_dir.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="voices: not a folder"):
        load_profiles([not_a_dir])


# ---------------------------------------------------------------- engine voices

INSTALLED = ["gmw/en", "gmw/en-us", "gmw/en-gb-x-rp", "gmw/en-us-nyc"]
VARIANTS = {"f3", "m7", "Andrea", "Mr serious"}


@pytest.mark.parametrize(
    "engine_voice",
    ["gmw/en-us", "gmw/en-us+f3", "GMW/EN-US+m7", "en-us+Andrea", "gmw/en+Mr serious"],
)
def test_installed_engine_voices_pass(engine_voice: str) -> None:
    check_engine_voice(engine_voice, INSTALLED, VARIANTS)


@pytest.mark.parametrize(
    ("engine_voice", "expected"),
    [
        ("gmw/en-uss", "engine voice 'gmw/en-uss' is not installed; did you mean 'gmw/en-us'"),
        ("gmw/en-us+zzz", "espeak-ng variant 'zzz' (in 'gmw/en-us+zzz') does not exist"),
        ("gmw/en-us+F3", "variant 'F3' (in 'gmw/en-us+F3') does not exist; did you mean 'f3'?"),
        ("gmw/en-us+andrea", "did you mean 'Andrea'?"),
    ],
)
def test_unknown_engine_voices_fail(engine_voice: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_engine_voice(engine_voice, INSTALLED, VARIANTS)
    assert expected in str(caught.value)


def test_check_profile_voices_names_the_profile_file(tmp_path: Path) -> None:
    path = write(tmp_path, "odd", with_line("engine_voice", '"gmw/en-us+f9"'))
    profile = load_profile(path)
    line = find_key_line(path.read_text(encoding="utf-8"), "engine_voice")
    with pytest.raises(ConfigError, match=rf"odd\.toml:{line}: engine_voice: .*variant 'f9'"):
        check_profile_voices([profile], INSTALLED, VARIANTS)


def test_split_engine_voice() -> None:
    assert split_engine_voice("gmw/en-us+f3") == ("gmw/en-us", "f3")
    assert split_engine_voice("gmw/en") == ("gmw/en", None)


def test_parse_variant_listing() -> None:
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  variant         --/M      Mr_Serious         !v/Mr serious        \n"
        " 5  variant         --/M      Storm              !v/Storm             (en-us 5)\n"
        " 5  variant         70/F      female1            !v/f1\n"
        " 5  variant         --/F      Auntie             !v/aunty             \n"
    )
    assert parse_variant_listing(listing) == {"Mr serious", "Storm", "f1", "aunty"}


def _espeak_voice_ids() -> list[str]:
    listing = subprocess.run(
        ["espeak-ng", "--voices"], capture_output=True, text=True, check=True
    ).stdout
    ids = []
    for line in listing.splitlines()[1:]:
        match = re.match(r"\s*\d+\s+\S+\s+\S+\s+\S+\s+(\S+)", line)
        if match:
            ids.append(match.group(1).lower())
    return ids


@pytest.mark.espeak
def test_shipped_profiles_use_installed_espeak_voices() -> None:
    variants = parse_variant_listing(
        subprocess.run(
            ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert len(variants) > 50
    check_profile_voices(load_profiles().values(), _espeak_voice_ids(), variants)
