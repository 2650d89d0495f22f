"""A typer group whose subcommands are imported only when one of them runs.

``regwatch --help`` lists every command with a one-line help from a registry (name ->
``"module:attribute"`` and that line) without importing any service; ``regwatch notices
parse`` imports ``services.ingestor.cli`` and nothing of the other services. The attribute is a
``typer.Typer`` (a group: ``notices``) or a command function (``status``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer's own copy of click, which its commands are built on
    from typer._click import Command, Context


@dataclass(frozen=True)
class Lazy:
    """Where a command is (``"services.ops_cli:status"``) and its one line of help."""

    target: str
    help: str


def load(name: str, target: str) -> Command:
    """The click command of ``target``: a Typer as a group, a function as a command."""
    module_name, _, attribute = target.partition(":")
    found: typer.Typer | Callable[..., Any] = getattr(
        importlib.import_module(module_name), attribute
    )
    if isinstance(found, typer.Typer):
        # a group even with one command: ``regwatch portal link`` stays ``portal link``
        return plain_flags(typer.main.get_group(found))
    single = typer.Typer()
    single.command(name)(found)
    return plain_flags(typer.main.get_command(single))


def plain_flags(command: Command) -> Command:
    """Show flags (``--json``, ``--help``) in help as flags, without the ``<bool>`` typer gives
    every option; on this command and the commands under it."""
    context = typer.Context(command, **command.context_settings)
    for param in [*command.params, command.get_help_option(context)]:
        if getattr(param, "is_flag", False) and param is not None and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        if not isinstance(sub, LazyCommand):
            plain_flags(sub)
    return command


class LazyCommand(TyperCommand):
    """Stands in for a command in the group's listing; imports it when it is run (or asked for
    its own help), then hands over to it."""

    def __init__(self, name: str, lazy: Lazy) -> None:
        super().__init__(name, help=lazy.help, short_help=lazy.help, add_help_option=False)
        self.target = lazy.target
        self._loaded: Command | None = None

    def resolve(self) -> Command:
        if self._loaded is None:
            assert self.name is not None
            self._loaded = load(self.name, self.target)
        return self._loaded

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        return self.resolve().make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """A ``TyperGroup`` with the commands of ``lazy`` (set by a subclass) after its own."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        plain_flags(self)
        for name, lazy in self.lazy.items():
            self.commands.setdefault(name, LazyCommand(name, lazy))
