"""Options and output helpers shared by the commands."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from compliance.models.run_options import OPTION_KEY, option_spec, quiet_option, verbose_option

F = TypeVar("F", bound=Callable[..., Any])


def profile_option(func: F) -> F:
    return click.option(
        "--profile", "-p", "profiles", multiple=True, metavar="P",
        help="Profile to apply (repeatable; the strictest parameter wins). Default: every control.",
    )(func)


def catalog_option(func: F) -> F:
    return click.option(
        "--catalog", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
        help="Control catalog folder (default: the bundled one).",
    )(func)


def _field_type(hint: Any) -> tuple[Any, bool]:
    """(the scalar type, whether the field is a list) of a field's annotation."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _field_type(args[0])
    if origin in (list, tuple):
        return typing.get_args(hint)[0], True
    return hint, False


def click_options(options_type: type[Any]) -> Callable[[F], F]:
    """Click options for every field of a run's options dataclass that declares one.

    The decorated command receives each option under its field's name (lists as lists),
    ready for ``options_type(**kwargs)``.
    """
    hints = typing.get_type_hints(options_type)
    decorators: list[Callable[[F], F]] = []
    for item in dataclasses.fields(options_type):
        spec = option_spec(item.metadata)
        if spec is None:
            continue
        scalar, many = _field_type(hints[item.name])
        default = item.default if item.default is not dataclasses.MISSING else None
        kwargs: dict[str, Any] = {"help": spec.help, "metavar": spec.metavar, "show_default": spec.show_default}
        if scalar is bool:
            kwargs.update(is_flag=True, default=False)
            callback = (lambda _c, _p, v: not v) if spec.inverted else None
            kwargs["callback"] = callback
        elif many:
            kwargs.update(multiple=True, callback=lambda _c, _p, v: list(v))
        elif spec.choices:
            kwargs.update(type=click.Choice(list(spec.choices)), default=default)
        elif scalar is Path:
            kwargs.update(type=click.Path(file_okay=False, path_type=Path), default=default)
        elif scalar is float:
            kwargs.update(type=click.FloatRange(min=spec.minimum) if spec.minimum is not None else float, default=default)
        elif scalar is int:
            kwargs.update(type=click.IntRange(min=int(spec.minimum)) if spec.minimum is not None else int, default=default)
        else:
            kwargs.update(default=default)
        if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            kwargs["required"] = True
        decorators.append(click.option(*spec.flags, item.name, **kwargs))

    def apply(func: F) -> F:
        for decorate in reversed(decorators):
            func = decorate(func)
        return func

    return apply


def verbosity_options(func: F) -> F:
    """``--quiet`` / ``--verbose`` for a command whose options are not a run's model
    (the runs declare theirs: :func:`compliance.models.run_options.quiet_option`)."""
    quiet, verbose = quiet_option()[OPTION_KEY], verbose_option()[OPTION_KEY]
    func = click.option(*verbose.flags, "verbose", is_flag=True, help=verbose.help)(func)
    return click.option(*quiet.flags, "quiet", is_flag=True, help=quiet.help)(func)
