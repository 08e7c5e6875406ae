"""Generate argparse flags from typed config dataclasses (one source of truth).

Each dataclass field becomes ``--field-name``; its help text comes from
``field(metadata={"help": ...})``. Types supported: bool, int, float, str, Optional of
those, ``Literal[...]`` (choices) and ``tuple[...]`` / ``list[...]`` (comma-separated). A field
that is itself a dataclass (``GRPOConfig.sampling``) contributes its own fields as flat flags
(``--temperature``), gathered back into it. Validation stays in the dataclasses'
``__post_init__``; this module only converts text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _converter(tp: Any) -> tuple[Any, list[Any] | None]:
    """Return (callable that parses one string, choices or None)."""
    tp, optional = _unwrap_optional(tp)
    origin = get_origin(tp)
    if origin is Literal:
        choices = list(get_args(tp))
        kind = type(choices[0])
        return kind, choices
    if origin in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        inner = args[0] if args else str
        inner_conv, _ = _converter(inner)

        def parse_seq(text: str) -> Any:
            items = [s.strip() for s in text.split(",") if s.strip()]
            try:
                vals = [inner_conv(s) for s in items]
            except (ValueError, argparse.ArgumentTypeError) as exc:
                raise argparse.ArgumentTypeError(f"bad list {text!r}: {exc}") from exc
            return tuple(vals) if origin is tuple else vals

        return parse_seq, None
    if tp is bool:
        return _bool, None
    if tp in (int, float, str):
        if optional:

            def parse_opt(text: str, _tp: Any = tp) -> Any:
                return None if text.lower() in ("none", "null", "") else _tp(text)

            return parse_opt, None
        return tp, None
    raise TypeError(f"flags: unsupported field type {tp!r}")


class _ExtendAction(argparse.Action):
    """Repeated flags of a sequence field accumulate: ``--env A --env B,C`` -> (A, B, C)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        ns: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        previous = getattr(ns, self.dest, None)
        merged = (*previous, *values) if isinstance(previous, (tuple, list)) else tuple(values)
        setattr(ns, self.dest, type(values)(merged) if isinstance(values, list) else merged)


def _nested(cls: type) -> dict[str, type]:
    """Fields of ``cls`` that are dataclasses themselves: name -> their class."""
    hints = typing.get_type_hints(cls)
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(cls)
        if isinstance(hints[f.name], type) and dataclasses.is_dataclass(hints[f.name])
    }


def add_dataclass_args(
    parser: argparse.ArgumentParser, cls: type, *, skip: tuple[str, ...] = ()
) -> None:
    """Add one ``--flag`` per field of dataclass ``cls`` to ``parser`` (defaults suppressed)."""
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(cls.__name__)
    nested = _nested(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init or f.metadata.get("cli", True) is False:
            continue
        if f.name in nested:
            add_dataclass_args(parser, nested[f.name], skip=skip)
            continue
        conv, choices = _converter(hints[f.name])
        conv = f.metadata.get("parse", conv)  # a field's own text -> value (e.g. --problems all)
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else None  # type: ignore[misc]
            )
        )
        help_text = f.metadata.get("help", "")
        shown = ",".join(map(str, default)) if isinstance(default, (tuple, list)) else default
        tp, _ = _unwrap_optional(hints[f.name])
        extra: dict[str, Any] = {}
        if tp is bool:  # `--resume` alone means true; `--resume false` also works
            extra = {"nargs": "?", "const": True}
        elif get_origin(tp) in (tuple, list):  # `--env A --env B` or `--env A,B`
            extra = {"action": _ExtendAction}
        group.add_argument(
            _flag(f.name),
            dest=f.name,
            type=conv,
            choices=choices,
            default=argparse.SUPPRESS,
            metavar=None if choices else f.name.upper(),
            help=f"{help_text} (default: {shown})",
            **extra,
        )


def dataclass_from_args(cls: type[T], ns: argparse.Namespace, base: T | None = None) -> T:
    """Build ``cls`` from the flags the user actually gave, on top of ``base`` (or defaults)."""
    given: dict[str, Any] = {}
    for name, sub in _nested(cls).items():
        inner = {f.name for f in dataclasses.fields(sub)} & set(vars(ns))
        if inner:
            given[name] = dataclass_from_args(
                sub, ns, getattr(base, name) if base is not None else None
            )
    given.update(
        {
            f.name: getattr(ns, f.name)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.name not in given and hasattr(ns, f.name)
        }
    )
    if base is not None:
        return dataclasses.replace(base, **given)  # type: ignore[type-var]
    return cls(**given)


def load_config_file(path: Path, flag: str = "--config") -> dict[str, Any]:
    """The settings in a JSON, YAML (.yaml/.yml) or TOML (.toml) file, by extension; flags override them."""
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # each parser has its own error type; all mean the same to the user
        kind = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML"}.get(suffix, "JSON")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{flag} {path}: not valid {kind} ({first}); use .json, .yaml/.yml or .toml"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"{flag} {path}: expected a mapping of setting names to values, got {type(data).__name__}"
        )
    return data


def check_output_file(path: str | Path | None, flag: str) -> None:
    """Fail early when an output file cannot be written: its path runs through a file, or it is a folder."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{flag} {p}: is a folder; give a file path such as {p / 'report.json'}")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"{flag} {p}: {parent} is a file, not a folder; choose another path"
                )
            return


# A Python argument as the libraries' messages name it: ``resume=True``, ``output_dir=FOLDER``,
# ``device='cpu'``, ``k=`` (the name alone); a word of its own, not part of a path or URL.
_PY_ARG = re.compile(r"(?<![^\s(\[,;])([a-z][a-z0-9_]*)=(\"[^\"]*\"|'[^']*'|[^\s,;:()]*)")


def long_flags(parser: argparse.ArgumentParser) -> set[str]:
    """Every ``--flag`` of ``parser`` and of its subcommands."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= long_flags(sub)
    return found


def as_flags(message: str, flags: set[str]) -> str:
    """``message`` with the Python arguments it names written as the flags that set them.

    The libraries speak Python (``pass resume=True``); the CLI prints their errors through this
    (``pass --resume``). Names that are no flag stay as they are.
    """

    def flag(m: re.Match[str]) -> str:
        name = _flag(m.group(1))
        if name not in flags:
            return m.group(0)
        value = m.group(2).strip("\"'")
        return name if value in ("", "True") else f"{name} {value}"

    return _PY_ARG.sub(flag, message)
