"""``--config FILE``: a JSON, YAML or TOML file of a config dataclass's fields, in the shapes people write.

- keys are the field names (``group_size``; ``group-size`` as on the command line works too);
- the fields of a nested dataclass (``GRPOConfig.sampling``, ``lora``, ``vllm``, ``distributed``)
  go flat, as their flags do (``temperature: 0.7``), or as a mapping under its name
  (``sampling: {temperature: 0.7}``);
- a list field takes a list or a comma-separated string (``env: grpo_gym/Arithmetic-v0``);
- ``env_kwargs`` takes a mapping (a YAML mapping, a TOML ``[env_kwargs]`` table): one env's
  settings, or per-env settings keyed by env id; a JSON string as on the command line works too;
- a float field takes YAML's ``1e-5`` (which YAML 1.1 reads as a string).

Any other value of the wrong type is one error naming the key, the file and the type it needs.
See ``examples/config.yaml``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn, get_origin

from grpo_gym.envs.settings import describe_type, describe_value, fits

from .flags import _nested, _unwrap_optional, load_config_file

#: Fields whose text is JSON on the command line and a mapping in a config file.
JSON_FIELDS = ("env_kwargs",)


def read_config(path: Path, cls: type, flag: str = "--config") -> dict[str, Any]:
    """The settings in ``path`` as ``cls.from_dict`` takes them; ValueError names a bad key."""
    return normalize(load_config_file(path, flag), cls, f"{flag} {path}")


def normalize(data: Mapping[str, Any], cls: type, where: str) -> dict[str, Any]:
    """``data`` (parsed from a file) with each value checked against ``cls``'s field types.

    Nested dataclass fields come back as mappings under their own name, except those of
    ``sampling``, which come back flat (``from_dict`` merges them over a preset's sampling).
    """
    hints = typing.get_type_hints(cls)
    nested = _nested(cls)
    own = {f.name for f in dataclasses.fields(cls) if f.init} - set(nested)
    owner = {f.name: name for name, sub in nested.items() for f in dataclasses.fields(sub)}
    out: dict[str, Any] = {}
    inner: dict[str, dict[str, Any]] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key in nested:
            if not isinstance(value, Mapping):
                raise ValueError(
                    f"{where}: {key!r} must be a mapping of {nested[key].__name__} settings "
                    f"(or give them flat, e.g. {next(iter(_field_names(nested[key])))}: ...), "
                    f"got {value!r} ({describe_value(value)})"
                )
            for sub_key, sub_value in value.items():
                name = str(sub_key).replace("-", "_")
                if owner.get(name) != key:
                    _unknown(name, _field_names(nested[key]), f"{where}: {key}")
                inner.setdefault(key, {})[name] = sub_value
        elif key in owner:
            inner.setdefault(owner[key], {})[key] = value
        elif key in own:
            out[key] = _convert(key, value, hints[key], where)
        else:
            _unknown(key, sorted(own | set(owner)), where)
    for name, values in inner.items():
        sub_hints = typing.get_type_hints(nested[name])
        checked = {k: _convert(k, v, sub_hints[k], where) for k, v in values.items()}
        if name == "sampling":
            out.update(checked)
        else:
            out[name] = checked
    return out


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


def _unknown(key: str, known: list[str], where: str) -> NoReturn:
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "the keys are the train flags' names"
    raise ValueError(f"{where}: unknown setting {key!r}: {hint}")


def _convert(key: str, value: Any, tp: Any, where: str) -> Any:
    """``value`` as field ``key`` of type ``tp`` takes it, or ValueError naming key, file and type."""
    bare, _ = _unwrap_optional(tp)
    if key in JSON_FIELDS:
        if isinstance(value, Mapping):
            return json.dumps(value)
        if not isinstance(value, str):
            raise ValueError(
                f"{where}: {key!r} must be a mapping (one env's settings, or settings keyed by "
                f"env id), got {value!r} ({describe_value(value)})"
            )
        return value
    if get_origin(bare) in (tuple, list) and isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]  # as the flag takes it
    if get_origin(bare) in (tuple, list) and isinstance(value, list):
        value = tuple(value) if get_origin(bare) is tuple else value
    if bare is float and isinstance(value, str):
        with contextlib.suppress(ValueError):  # YAML 1.1 reads 1e-5 (no dot) as a string
            value = float(value)
    if not fits(value, tp):
        expected = describe_type(tp)
        if key == "env":
            expected = "an env id or a list of env ids"
        raise ValueError(
            f"{where}: {key!r} must be {expected}, got {value!r} ({describe_value(value)})"
        )
    return value
