"""The command-line reference of the docs (docs/cli.md) is generated from the parsers: every
subcommand and every option of ``skmatnet`` is on the page, with its help text.

The page is rendered here by a small Sphinx project holding only the directive (a few
seconds), not the whole site; tests/test_docs.py checks the page of the real site.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from docs_site import DOCS

from skmatnet.cli import build_parser

sys.path.insert(0, str(DOCS / "_ext"))
from cli_reference import commands


def _walk(parser: argparse.ArgumentParser):
    """(prog, parser) of the command and every subcommand, read from argparse directly."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _walk(child)


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        out += action.option_strings or [action.metavar or action.dest]
    return out


def test_every_subcommand_and_option_is_listed_with_its_help():
    listed = {command.prog: command for command in commands()}
    walked = dict(_walk(build_parser()))
    assert set(listed) == set(walked)
    assert {"skmatnet", "skmatnet benchmark", "skmatnet train", "skmatnet predict",
            "skmatnet screen"} <= set(listed)
    for prog, parser in walked.items():
        command = listed[prog]
        flags = " ".join(option.flags for option in command.options)
        for option in _option_strings(parser):
            assert option in flags, (prog, option)
        if prog != "skmatnet":
            assert command.summary and command.usage.startswith(prog), prog
    train = {option.flags: option for option in listed["skmatnet train"].options}
    assert train["-o FILE, --output FILE"].help.startswith("model file to write")
    assert train["--model {elemnet,irnet,bnet,brnet,fcmnr,fcunet}"].group == "model"
    # %(default)s and %% are expanded as --help expands them
    protocol = next(o for o in listed["skmatnet benchmark"].options
                    if o.flags.startswith("--protocol"))
    assert "9%" in protocol.help and "%%" not in protocol.help


def test_the_directive_renders_every_command_and_option(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'cli_reference']\n"
    )
    (source / "index.md").write_text("# Reference\n\n```{skmatnet-cli}\n```\n")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "text", str(source),
         str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = " ".join((tmp_path / "out" / "index.txt").read_text().split())
    for prog, parser in _walk(build_parser()):
        assert prog in text, prog
        for option in _option_strings(parser):
            assert option in text, (prog, option)
    # the help, the examples and the group titles are there too
    assert "model file to write (default: MODEL.skmatnet" in text
    assert "skmatnet train jarvis_formation_energy --model brnet" in text
    assert "Training (as for 'skmatnet benchmark')" in text
