"""The ``skmatnet-cli`` directive: the command-line reference, generated from the parsers.

``.. skmatnet-cli::`` walks :func:`skmatnet.cli.build_parser` at build time and renders the
``skmatnet`` command and every subcommand (nested ones too): a section each, with its
description, usage line, every argument and option by group (its flags, metavar, choices and
help text as ``--help`` prints it) and its examples. Nothing is written by hand, so the page
cannot drift from the parsers: a new subcommand or option appears on the next build.

:func:`commands` is what the directive renders, as plain data, for the tests.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

__all__ = ["Command", "Option", "commands", "setup"]


@dataclass
class Option:
    """One argument of a command, as its ``--help`` shows it."""

    flags: str  # "-o FILE, --output FILE", or a positional's metavar
    help: str
    group: str


@dataclass
class Command:
    """The ``skmatnet`` command or one of its subcommands."""

    prog: str  # "skmatnet train"
    summary: str  # the line of the parent's command list
    description: str
    usage: str
    options: list[Option] = field(default_factory=list)
    epilog: str = ""


def _help_text(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split()) if action.help else ""


def _flags(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return parser._get_formatter()._format_action_invocation(action)


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def commands(parser: argparse.ArgumentParser | None = None, summary: str = "") -> list[Command]:
    """The command of ``parser`` and its subcommands, depth first, in ``--help`` order.

    Parameters
    ----------
    parser : ArgumentParser, optional
        Default: ``skmatnet.cli.build_parser()``.
    summary : str
        The parent's one-line help of this command.
    """
    if parser is None:
        from skmatnet.cli import build_parser

        parser = build_parser()
    command = Command(prog=parser.prog, summary=summary,
                      description=" ".join((parser.description or "").split()),
                      usage=parser.format_usage().strip().removeprefix("usage: "),
                      epilog=(parser.epilog or "").strip("\n"))
    subparsers = _subparsers(parser)
    for group in parser._action_groups:
        for action in group._group_actions:
            if action.help == argparse.SUPPRESS or action is subparsers:
                continue
            command.options.append(Option(_flags(parser, action), _help_text(parser, action),
                                          group.title or ""))
    found = [command]
    if subparsers is not None:
        helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
        for name, child in subparsers.choices.items():
            found += commands(child, " ".join((helps.get(name) or "").split()))
    return found


def _anchor(prog: str) -> str:
    return nodes.make_id(prog.replace(" ", "-"))


class CommandLineReference(SphinxDirective):
    """``.. skmatnet-cli::``: a section per command, generated from ``build_parser()``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        found = commands()
        top, subcommands = found[0], found[1:]
        out: list[nodes.Node] = [self._command(top, subcommands)]
        out += [self._command(command, []) for command in subcommands]
        return out

    def _command(self, command: Command, children: list[Command]) -> nodes.section:
        section = nodes.section(ids=[_anchor(command.prog)])
        self.state.document.note_explicit_target(section)
        section += nodes.title("", "", nodes.literal(text=command.prog))
        if command.summary:
            section += nodes.paragraph(text=command.summary[:1].upper() + command.summary[1:]
                                       + ("" if command.summary.endswith(".") else "."))
        if command.description and command.description != command.summary:
            section += nodes.paragraph(text=command.description)
        section += nodes.literal_block(text=command.usage, language="text")
        if children:
            listing = nodes.bullet_list()
            for child in children:
                reference = nodes.reference("", "", nodes.literal(text=child.prog),
                                            internal=True, refid=_anchor(child.prog))
                item = nodes.paragraph("", "", reference, nodes.Text(f": {child.summary}"))
                listing += nodes.list_item("", item)
            section += nodes.rubric(text="Commands")
            section += listing
        groups: dict[str, list[Option]] = {}
        for option in command.options:
            groups.setdefault(option.group, []).append(option)
        for title, options in groups.items():
            section += nodes.rubric(text=title[:1].upper() + title[1:])
            listing = nodes.definition_list(classes=["skmatnet-cli-options"])
            for option in options:
                term = nodes.term("", "", nodes.literal(text=option.flags))
                definition = nodes.definition("", nodes.paragraph(text=option.help or "-"))
                listing += nodes.definition_list_item("", term, definition)
            section += listing
        if command.epilog:
            section += nodes.rubric(text="Examples")
            lines = command.epilog.splitlines()
            if lines and lines[0].strip().rstrip(":").lower() == "examples":
                lines = lines[1:]
            section += nodes.literal_block(text="\n".join(line.removeprefix("  ")
                                                          for line in lines),
                                           language="bash")
        return section


def setup(app):
    app.add_directive("skmatnet-cli", CommandLineReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
