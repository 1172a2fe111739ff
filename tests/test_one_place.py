"""One parameter, one place: a config section reaches its stage whole, and every stage says what it takes.

- A new MUSIC setting, added the way docs/METHOD.md says (the value object, the schema, the config), reaches
  every stage that builds MUSIC's settings, with no other file touched: the rules pass sections whole and
  the stages validate them into :class:`~musicsom.music.MusicParams`.
- Every stage's usage line names the stage as it is run, and every option has a help text.
- A section with a missing or unknown key, or that is not JSON, is refused with the section's name.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import json
import re
import shutil

import pytest

from conftest import ROOT, copy_repository, snakemake

MUSIC_SECTIONS = ("gmm", "mnist", "faces")


def _changed_files(copy, original) -> list[str]:
    changed = []
    for path in sorted(p for p in copy.rglob("*") if p.is_file()):
        rel = path.relative_to(copy)
        if not (original / rel).exists() or not filecmp.cmp(path, original / rel, shallow=False):
            changed.append(str(rel))
    return changed


@pytest.mark.slow
def test_a_new_music_setting_touches_three_files_and_reaches_every_stage(tmp_path):
    repo = copy_repository(tmp_path / "repo", ("Snakefile", "config.yaml", "workflow", "profiles", "src"))
    # 1. the value object
    music = repo / "src" / "musicsom" / "music.py"
    text = music.read_text()
    anchor = '    solver: str = "auto"\n'
    assert text.count(anchor) == 1
    music.write_text(text.replace(anchor, anchor + "    demo_setting: float = 0.0\n"))
    # 2. the schema: the pipeline's default, in every MUSIC section
    schema = repo / "workflow" / "schemas" / "config.schema.yaml"
    text = schema.read_text()
    solver = re.compile(r"^( +)solver: \{enum: \[auto, direct, iterative, primal, dual\].*\n", re.M)
    assert len(solver.findall(text)) == len(MUSIC_SECTIONS)
    schema.write_text(solver.sub(lambda m: m.group(0) + f"{m.group(1)}demo_setting: {{type: number, default: 0.0}}\n", text))
    # 3. the config: a value for MNIST
    config = repo / "config.yaml"
    text = config.read_text()
    config.write_text(re.sub(r"^(mnist:\n(?:  .*\n)*?  music: \{)", r"\1demo_setting: 0.25, ", text, count=1, flags=re.M))
    assert "demo_setting: 0.25" in config.read_text()
    assert _changed_files(repo, ROOT) == ["config.yaml", "src/musicsom/music.py", "workflow/schemas/config.schema.yaml"]

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(config, work / "config.yaml")
    out = snakemake(work, "-n", "-p", "--forceall", snakefile=repo / "Snakefile",
                    env={"PYTHONPATH": str(repo / "src")}, timeout=600).stdout
    sections = {}
    for line in out.splitlines():
        m = re.search(r"python -m musicsom\.pipeline\.(\w+)\.\S+ .*--music '(\{[^']*\})'", line)
        if m:
            sections.setdefault(m.group(1), set()).add(m.group(2))
    assert set(sections) >= {"gmm", "mnist", "faces", "kmeans"}, sorted(sections)
    for experiment, values in sections.items():
        for value in values:
            expected = 0.0 if experiment in ("gmm", "faces") else 0.25  # mnist.music: MNIST, k-means, the D table
            assert json.loads(value)["demo_setting"] == expected, (experiment, value)

    # the stage's own validation builds it into the value object of the copied library
    probe = ("import json, sys; from musicsom.music import MusicParams; from musicsom.pipeline.sections import build; "
             "print(build(MusicParams, json.loads(sys.argv[1]), 'mnist.music').demo_setting)")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", probe, next(iter(sections["mnist"]))], capture_output=True, text=True,
                          env={"PYTHONPATH": str(repo / "src"), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "0.25", proc.stdout + proc.stderr


class _Parsed(Exception):
    """Raised in place of parsing, carrying the stage's parser."""


def _stage_parser(monkeypatch, name: str) -> argparse.ArgumentParser:
    def capture(self, *args, **kwargs):
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    module = importlib.import_module(f"musicsom.pipeline.{name}")
    with pytest.raises(_Parsed) as caught:
        module.main([])
    monkeypatch.undo()
    return caught.value.args[0]


def test_every_stage_names_itself_and_documents_every_option(monkeypatch):
    from musicsom.pipeline.cli import stages

    names = sorted(stages())
    assert len(names) > 40
    problems = []
    for name in names:
        parser = _stage_parser(monkeypatch, name)
        if parser.prog != f"python -m musicsom.pipeline.{name}":
            problems.append(f"{name}: usage names {parser.prog!r}")
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
                problems.append(f"{name}: {'/'.join(action.option_strings) or action.dest} has no help text")
    assert not problems, "\n".join(problems)


def test_a_section_with_a_missing_or_unknown_key_is_refused_with_its_name():
    from musicsom.music import MusicParams
    from musicsom.pipeline.files import InputError
    from musicsom.pipeline.sections import build, require

    full = {f: getattr(MusicParams(), f) for f in MusicParams.__dataclass_fields__}
    assert build(MusicParams, full, "mnist.music") == MusicParams()
    with pytest.raises(InputError, match=r"mnist\.music lacks the keys \['alpha'\]"):
        build(MusicParams, {k: v for k, v in full.items() if k != "alpha"}, "mnist.music")
    with pytest.raises(InputError, match=r"mnist\.music has keys its stage does not know: \['alpah'\]"):
        build(MusicParams, {**full, "alpah": 0.5}, "mnist.music")
    with pytest.raises(InputError, match=r"mnist\.music: .*alpha"):
        build(MusicParams, {**full, "alpha": 1.5}, "mnist.music")
    with pytest.raises(InputError, match=r"gmm\.trajectories lacks the keys \['component'\]"):
        require({"n_starts": 3, "n_steps": 5}, "gmm.trajectories", ("n_starts", "n_steps", "component"))


def test_a_section_that_is_not_a_json_object_is_refused_by_the_stage(capsys):
    from musicsom.pipeline.gmm import trajectories

    with pytest.raises(SystemExit):
        trajectories.main(["--data", "d.npz", "--som", "s.npz", "--trajectories", "[1, 2]", "--music", "{",
                           "--seed", "0", "--out", "o.npz", "--metrics", "m.csv"])
    err = capsys.readouterr().err
    assert "gmm.trajectories must be a JSON object" in err or "gmm.music is not valid JSON" in err, err

