"""Type checks for settings given as data (env kwargs, config files) against dataclass annotations.

An env's settings are the fields of its ``config_class`` (a typed dataclass). Values from JSON,
YAML, TOML or the command line reach it untyped, so ``{"digits": "two"}`` used to fail deep in
``__post_init__`` with a ``TypeError`` about ``<=`` and ``{"digits": 2.5}`` passed silently.
``check_settings(config_class, settings, owner)`` rejects a value whose type does not fit its
field, naming the setting, the type it needs, its default and its documented range, before the
dataclass is built. The check is generic: ``int`` (not ``bool``), ``float`` (an int is fine),
``bool``, ``str``, ``tuple``/``list``/``set`` of those (a JSON list), ``Optional``/unions,
``Literal`` and mappings; ``Any`` and types it does not know pass.

``check_env_settings(env_id, settings)`` does it for a registered id without making the env.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

import gymnasium as gym

from .base import EnvSettingsError

__all__ = ["check_env_settings", "check_settings", "describe_type", "describe_value", "fits"]

_SEQUENCES = (tuple, list, set, frozenset)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def fits(value: object, tp: Any) -> bool:
    """Whether ``value`` (as JSON, YAML or TOML give it) fits the annotation ``tp``."""
    if tp is Any or isinstance(tp, (str, typing.TypeVar)):  # unresolved or generic: no check
        return True
    if tp is None or tp is type(None):
        return value is None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(fits(value, arm) for arm in get_args(tp))
    if origin is Literal:
        return any(value == c and type(value) is type(c) for c in get_args(tp))
    if origin is typing.ClassVar:
        return True
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return _is_int(value)
    if tp is float:
        return _is_real(value)
    if tp is str:
        return isinstance(value, (str, os.PathLike))
    if origin in _SEQUENCES or tp in _SEQUENCES:
        if not isinstance(value, (list, tuple, set, frozenset)):
            return False
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:  # tuple[int, str]: fixed length
            return len(value) == len(args) and all(
                fits(v, a) for v, a in zip(value, args, strict=True)
            )
        inner = args[0] if args else Any
        return all(fits(v, inner) for v in value)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return isinstance(value, Mapping)
    if tp in (dict, Mapping):
        return isinstance(value, Mapping)
    if origin is Callable or tp is Callable:
        return callable(value)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True  # an annotation this check does not know


def describe_type(tp: Any) -> str:
    """``tp`` in words: ``an integer``, ``a list of strings``, ``one of 'a', 'b'``..."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        arms = [a for a in get_args(tp) if a is not type(None)]
        text = " or ".join(describe_type(a) for a in arms)
        return f"{text} or null" if len(arms) < len(get_args(tp)) else text
    if origin is Literal:
        return "one of " + ", ".join(repr(c) for c in get_args(tp))
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if origin in _SEQUENCES or tp in _SEQUENCES:
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return "a list of " + ", ".join(_bare(describe_type(a)) for a in args)
        if not args:
            return "a list"
        return f"a list of {_plural(describe_type(args[0]))}"
    if (origin is not None and isinstance(origin, type) and issubclass(origin, Mapping)) or tp in (
        dict,
        Mapping,
    ):
        return "a mapping"
    if isinstance(tp, type):
        return f"a {tp.__name__}"
    return str(tp)


def _bare(text: str) -> str:
    return re.sub(r"^an? ", "", text)


def _plural(text: str) -> str:
    word = _bare(text)
    if word.startswith("one of "):
        return f"values ({word})"
    if word == "true or false":
        return "booleans"
    return word + "s"


def describe_value(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, (list, tuple)) else f"a {type(value).__name__}"
    )


def _doc_line(cls: type, name: str) -> str:
    """The first sentence of ``name``'s entry in ``cls``'s docstring ("Attributes: name: ..."), if any."""
    lines = (cls.__doc__ or "").splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"^(\s*){re.escape(name)}:\s*(.+)$", line)
        if not m:
            continue
        indent, text = len(m.group(1)), [m.group(2).strip()]
        for more in lines[i + 1 :]:  # continuation lines are indented deeper
            if not more.strip() or len(more) - len(more.lstrip()) <= indent:
                break
            text.append(more.strip())
        entry = " ".join(text).replace("``", "")
        return re.split(r"(?<=[.])\s(?=[A-Z])", entry, maxsplit=1)[0].rstrip(".")
    return ""


@functools.cache
def _hints(config_class: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(config_class)
    except Exception:  # an annotation naming something only imported for type checkers
        return {}


def check_settings(config_class: type | None, settings: Mapping[str, Any], owner: str) -> None:
    """Raise ``EnvSettingsError`` if a value in ``settings`` does not fit its field's type.

    ``owner`` names the env in the message (an env id or a class name). Unknown names are left
    to the constructor, which lists the settings there are; ranges to ``__post_init__``.
    """
    if config_class is None or not dataclasses.is_dataclass(config_class):
        return
    hints = _hints(config_class)
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    for name, value in settings.items():
        if name not in fields or name not in hints or fits(value, hints[name]):
            continue
        f = fields[name]
        default = f" (default {f.default!r})" if f.default is not dataclasses.MISSING else ""
        doc = _doc_line(config_class, name)
        raise EnvSettingsError(
            f"{owner} setting {name!r} must be {describe_type(hints[name])}{default}, "
            f"got {value!r} ({describe_value(value)})" + (f"; {name}: {doc}" if doc else "")
        )


def env_class(env_id: str) -> Any:
    """The class (or creator) registered for ``env_id`` (already resolved), without making it."""
    from gymnasium.envs.registration import load_env_creator

    entry = gym.spec(env_id).entry_point
    return load_env_creator(entry) if isinstance(entry, str) else entry


def check_env_settings(env_id: str, settings: Mapping[str, Any]) -> None:
    """``check_settings`` for the env registered as ``env_id`` (namespace optional)."""
    from .registry import resolve_id

    full = resolve_id(env_id)
    check_settings(getattr(env_class(full), "config_class", None), settings, full)
