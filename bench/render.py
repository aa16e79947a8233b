#!/usr/bin/env python3
"""Render speed and memory of `narrator render` against the floor, measured in one run.

The input is a public-domain novel read in place from /work/shared/bench/pdnc/<Novel>/text.txt
(never copied into the repo): it is written, optionally cut to the first --words words (at the
end of the paragraph holding word N), into a temporary folder as ONE text file, and narrator's
loader splits it into chapters at its headings (the PDNC texts use bare roman numerals).

Runs, in this order, each timed with wall clock and watched for memory:
  floor       `espeak-ng -f text.txt -w floor.wav` (default voice), then
              `ffmpeg -i floor.wav -ac 1 -b:a 64k floor.mp3`: the two times summed
  cold        `narrator render text.txt --out OUT --jobs J --format both` with a fresh
              NARRATOR_CACHE_DIR and NARRATOR_STATE_DIR, a fresh output folder and no cast
              file (MP3s and an M4B: what narrator 0.1 made for 2+ chapters by default)
  rerun       the same command again, nothing changed
  cold-nom4b  as cold, with --format mp3 (the floor makes no M4B), fresh cache and folders
  rerun-nom4b the same again

Code: by default narrator runs from a snapshot of the last commit (`git archive HEAD narrator
voices`, run as `python -m narrator` with PYTHONPATH on it), so edits made to the working tree
during a long run cannot change the code between the cold run and the re-run; `--code live`
runs the working tree's `.venv/bin/narrator` instead. The commit is printed with the results.

Peak memory: a thread polls /proc every 50 ms for the process tree (the command and all its
descendants) and keeps the largest summed RSS ("tree", an upper bound: pages shared between
processes count once per process); "proc" is the largest single process's max RSS from wait4.
Audio durations come from ffprobe (narrator: the chapter MP3s summed). RTF = wall seconds per
second of audio; "cpu s" is user+sys time of the whole tree (less sensitive than wall time to
other work on the machine; the load average before and after is printed). Ratios: cold/floor,
rerun/cold.

usage: .venv/bin/python bench/render.py [--novel TheAwakening] [--words N] [--jobs 2]
                                        [--engine espeak|fake] [--code snapshot|live]
                                        [--markdown] [--keep] [--skip-nom4b]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_data import BENCH_DATA

# ../shared beside the checkout (read-only benchmark data; never copied into the repo).

REPO = Path(__file__).resolve().parent.parent
PDNC = BENCH_DATA / "pdnc"
NARRATOR = REPO / ".venv" / "bin" / "narrator"
PAGE = os.sysconf("SC_PAGE_SIZE")
POLL_S = 0.05


@dataclass
class Run:
    """One measured command (or pair of commands, for the floor)."""

    name: str
    command: str
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + sys of the process and its descendants
    tree_mb: float = 0.0  # largest summed RSS of the process tree seen by the poller
    proc_mb: float = 0.0  # largest max RSS of any single process (wait4)
    audio_s: float = 0.0
    stages: str = ""
    clips: str = ""
    parts: dict[str, float] = field(default_factory=dict)  # floor: seconds per command
    chapter_warnings: list[str] = field(default_factory=list)  # e.g. clips retried

    @property
    def rtf(self) -> float:
        return self.wall_s / self.audio_s if self.audio_s else float("nan")


class TreeWatcher:
    """Polls /proc for the summed RSS of a process and its descendants; keeps the maximum."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(POLL_S)

    def _sample(self) -> int:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue  # the process ended between listdir and open
            # Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        total, todo = 0, [self.root]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, ()))
            try:
                with open(f"/proc/{pid}/statm", "rb") as handle:
                    total += int(handle.read().split()[1]) * PAGE
            except OSError:
                continue
        return total


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    tree_bytes: int
    proc_bytes: int
    stdout: str
    stderr: str


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a command: wall and CPU seconds, peak tree RSS, max single-process RSS, stdout."""
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env)
        with TreeWatcher(proc.pid) as watcher:
            # wait4 gives the rusage of this child and the descendants it waited for.
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        stdout = out_file.read().decode("utf-8", "replace")
        stderr = err_file.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, watcher.peak_bytes, usage.ru_maxrss * 1024, stdout, stderr)


def probe_seconds(path: Path) -> float:
    """Duration of an audio file, from ffprobe's container duration."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def cut_words(text: str, words: int) -> str:
    """The text up to the end of the paragraph holding word number `words` (0: all of it)."""
    if words <= 0:
        return text
    for count, match in enumerate(re.finditer(r"\S+", text), 1):
        if count == words:
            end = text.find("\n\n", match.end())
            return text if end < 0 else text[:end] + "\n"
    return text


def run_floor(text_path: Path, work: Path) -> Run:
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    espeak = ["espeak-ng", "-f", str(text_path), "-w", str(wav)]
    ffmpeg = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1"]
    ffmpeg += ["-b:a", "64k", str(mp3)]
    run = Run(
        "floor",
        "espeak-ng -f text.txt -w floor.wav && ffmpeg -i floor.wav -ac 1 -b:a 64k floor.mp3",
    )
    for label, cmd in (("espeak-ng", espeak), ("ffmpeg", ffmpeg)):
        got = measure(cmd)
        run.parts[label] = got.wall_s
        run.wall_s += got.wall_s
        run.cpu_s += got.cpu_s
        run.tree_mb = max(run.tree_mb, got.tree_bytes / 2**20)
        run.proc_mb = max(run.proc_mb, got.proc_bytes / 2**20)
    run.audio_s = probe_seconds(mp3)
    return run


def snapshot_code(work: Path) -> Path:
    """The last commit's narrator package and voices, extracted to work/src."""
    src = work / "src"
    src.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "HEAD", "narrator", "voices"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return src


def code_version(args: argparse.Namespace) -> str:
    """The commit measured, and for live code whether narrator/ had uncommitted edits."""
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    version = commit.stdout.strip() or "unknown"
    if args.code == "live":
        status = [*git, "status", "--porcelain", "narrator", "voices"]
        dirty = subprocess.run(status, capture_output=True, text=True).stdout.strip()
        version += " + uncommitted edits (live)" if dirty else " (live, clean)"
    return version + " (snapshot)" if args.code == "snapshot" else version


def run_narrator(
    name: str,
    text_path: Path,
    out_dir: Path,
    cache_dir: Path,
    args: argparse.Namespace,
    m4b: bool,
    src: Path | None,
) -> Run:
    env = {**os.environ, "NARRATOR_CACHE_DIR": str(cache_dir)}
    # Render state (M4B parts, manifest) beside the cache, so that cold runs start fresh.
    env["NARRATOR_STATE_DIR"] = str(cache_dir.with_name(cache_dir.name + "-state"))
    if src is None:
        cmd = [str(NARRATOR)]
    else:
        cmd = [str(REPO / ".venv" / "bin" / "python"), "-m", "narrator"]
        env["PYTHONPATH"] = str(src)
    cmd += ["render", str(text_path), "--out", str(out_dir)]
    cmd += ["--jobs", str(args.jobs), "--engine", args.engine]
    # --format both is what 0.1 made for an arc by default (--m4b-format m4b: today's
    # default, the M4B alone); mp3 is 0.1's --no-m4b.
    audio_format = args.m4b_format if m4b else "mp3"
    cmd += ["--format", audio_format]
    got = measure(cmd, env)
    stdout = got.stdout
    shown = f"narrator render text.txt --out OUT --jobs {args.jobs} --format {audio_format}"
    if args.engine != "espeak":
        shown += f" --engine {args.engine}"
    run = Run(name, shown, got.wall_s, got.cpu_s, got.tree_bytes / 2**20, got.proc_bytes / 2**20)
    stages = re.search(r"^time per stage[^:]*: (.*)$", stdout, re.MULTILINE)
    clips = re.search(r"^(\d+ clips synthesized, \d+ reused)$", stdout, re.MULTILINE)
    run.stages = stages.group(1) if stages else "?"
    run.clips = clips.group(1) if clips else "?"
    # Per-chapter warnings (retried clips...) explain a re-run that is not a no-op.
    run.chapter_warnings = re.findall(r"^warning: (chapter \d+:.*)$", got.stderr, re.MULTILINE)
    # The chapter MP3s summed, else the M4B (book folders are Author/Series/Title now).
    mp3s = sorted(out_dir.rglob("*.mp3"))
    run.audio_s = sum(probe_seconds(path) for path in mp3s or sorted(out_dir.rglob("*.m4b")))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--novel", default="TheAwakening")
    parser.add_argument("--pdnc", type=Path, default=PDNC)
    parser.add_argument("--words", type=int, default=0, help="cut to the first N words (0: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engine", default="espeak", choices=["espeak", "fake"])
    parser.add_argument("--markdown", action="store_true", help="also print RESULTS.md rows")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--code", default="snapshot", choices=["snapshot", "live"])
    parser.add_argument("--skip-nom4b", action="store_true", help="only the M4B runs")
    parser.add_argument(
        "--m4b-format", default="both", choices=["both", "m4b"], help="--format of the M4B runs"
    )
    args = parser.parse_args()

    source = args.pdnc / args.novel / "text.txt"
    text = cut_words(source.read_text("utf-8"), args.words)
    word_count = len(text.split())
    work = Path(tempfile.mkdtemp(prefix="narrator-bench-render-"))
    version = code_version(args)
    load_before = os.getloadavg()[0]
    try:
        runs = measure_all(text, work, args)
        load_after = os.getloadavg()[0]
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(runs, args, word_count)
    print(f"narrator {version}; load average {load_before:.2f} before, {load_after:.2f} after")


def measure_all(text: str, work: Path, args: argparse.Namespace) -> list[Run]:
    def input_copy(label: str) -> Path:
        # One folder per cold run: narrator writes cast.toml beside its input.
        folder = work / f"in-{label}"
        folder.mkdir()
        path = folder / f"{args.novel}.txt"
        path.write_text(text, "utf-8")
        return path

    src = snapshot_code(work) if args.code == "snapshot" else None
    runs = [run_floor(input_copy("floor"), work)]
    print(f"floor      {runs[-1].wall_s:8.1f} s", file=sys.stderr, flush=True)
    configs = [("", True)] if args.skip_nom4b else [("", True), ("-nom4b", False)]
    for suffix, m4b in configs:
        text_path = input_copy(f"narrator{suffix}")
        out_dir, cache_dir = work / f"out{suffix}", work / f"cache{suffix}"
        for name in (f"cold{suffix}", f"rerun{suffix}"):
            runs.append(run_narrator(name, text_path, out_dir, cache_dir, args, m4b, src))
            print(f"{name:<11}{runs[-1].wall_s:8.1f} s", file=sys.stderr, flush=True)
    return runs


def report(runs: list[Run], args: argparse.Namespace, word_count: int) -> None:
    by_name = {run.name: run for run in runs}
    floor = by_name["floor"]

    def ratio(run: Run) -> str:
        if run.name.startswith("cold"):
            return f"{run.wall_s / floor.wall_s:.2f}x floor"
        if run.name.startswith("rerun"):
            cold = by_name["cold" + run.name.removeprefix("rerun")]
            return f"{run.wall_s / cold.wall_s:.3f}x cold"
        return ""

    hours = floor.audio_s / 3600
    print(
        f"{args.novel}: {word_count} words, floor audio {hours:.2f} h, jobs {args.jobs}, "
        f"engine {args.engine}, {os.cpu_count()} cores"
    )
    columns = ("wall s", "cpu s", "audio s", "RTF", "tree MB", "proc MB")
    print(f"{'run':<12}" + "".join(f"{c:>9}" for c in columns) + "  ratio")
    for run in runs:
        print(
            f"{run.name:<12}{run.wall_s:9.1f}{run.cpu_s:9.1f}{run.audio_s:9.0f}{run.rtf:9.4f}"
            f"{run.tree_mb:9.0f}{run.proc_mb:9.0f}  {ratio(run)}"
        )
    print("floor parts: " + ", ".join(f"{k} {v:.1f} s" for k, v in floor.parts.items()))
    for run in runs[1:]:
        print(f"{run.name}: {run.clips}; time per stage: {run.stages}")
        for warning in run.chapter_warnings:
            print(f"  warning: {warning}")
    if args.markdown:
        print()
        print("| words | run | wall s | cpu s | audio h | RTF | peak RSS tree / proc MB | ratio |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for run in runs:
            print(
                f"| {word_count} | {run.name} | {run.wall_s:.1f} | {run.cpu_s:.1f} | "
                f"{run.audio_s / 3600:.2f} | {run.rtf:.4f} | {run.tree_mb:.0f} / {run.proc_mb:.0f} "
                f"| {ratio(run)} |"
            )


if __name__ == "__main__":
    main()
