"""Registering, listing and making grpo-gym environments (a thin layer over Gymnasium's registry).

Every env lives in Gymnasium's own registry, so ``gymnasium.make("grpo_gym/Arithmetic-v0")``
works after ``import grpo_gym.envs``. This module adds:

* ``register(id, entry_point, ...)`` — validated ``gymnasium.register`` for ``TextEnv`` classes;
* ``list_envs()`` — typed ``EnvRecord`` rows (id, description, reward kind, multi-turn, version);
* ``load_plugins()`` — third-party envs from the ``grpo_gym.envs`` entry-point group;
* ``make`` / ``make_vec`` — ``gymnasium.make`` / ``make_vec`` that also accept an id without the
  ``grpo_gym/`` namespace, Gymnasium's ``"module:Name-v0"`` form (import ``module``, whose import
  registers the env, then make it), and answer an unknown id with the close matches.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from .base import TextEnv

NAMESPACE = "grpo_gym"
_ID_RE = re.compile(r"^(?:(?P<ns>[\w:.-]+)/)?(?P<name>[A-Za-z][\w.-]*?)-v(?P<version>\d+)$")

#: Where an env comes from (``EnvRecord.source``).
SOURCES = ("built-in", "benchmark", "reasoning-gym", "plugin", "user")


@dataclass(frozen=True)
class _Extra:
    """Facts about an env registered through ``register`` that Gymnasium's spec does not keep."""

    description: str | None
    source: str
    family: str | None = None
    plugin: str | None = None


_EXTRA: dict[str, _Extra] = {}


class UnknownEnvError(gym.error.UnregisteredEnv):
    """No env with this id; the message lists close matches."""


@dataclass(frozen=True)
class EnvRecord:
    """One row of ``list_envs()``.

    Attributes:
        id: the full Gymnasium id, e.g. ``"grpo_gym/Arithmetic-v0"``.
        description: one line saying what the task is.
        reward_kind: what the reward measures (``"math"``, ``"format"``, ...).
        multi_turn: whether an episode allows more than one attempt.
        version: the ``-vN`` number.
        entry_point: ``"module:Class"`` of the env class.
        source: where it comes from: ``"built-in"``, ``"benchmark"``, ``"reasoning-gym"``,
            ``"plugin"`` or ``"user"`` (registered by the user's own code).
        family: the group it is listed under (``"math"``, ``"instruction following"``, a
            reasoning-gym category, ...); default: the reward kind.
        plugin: the entry-point name of the plugin that registered it (None otherwise).
    """

    id: str
    description: str
    reward_kind: str
    multi_turn: bool
    version: int
    entry_point: str
    source: str
    family: str = ""
    plugin: str | None = None


def _env_class(entry_point: Any) -> type | None:
    """The class an entry point names, or None if it is not a class (a factory function)."""
    if isinstance(entry_point, str):
        module, _, attr = entry_point.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        entry_point = obj
    return entry_point if isinstance(entry_point, type) else None


def register(
    id: str,
    entry_point: type[TextEnv] | str | Callable[..., TextEnv],
    *,
    kwargs: Mapping[str, Any] | None = None,
    description: str | None = None,
    force: bool = False,
    source: str = "user",
    family: str | None = None,
    **spec_kwargs: Any,
) -> EnvSpec:
    """Register a text env with Gymnasium and return its spec.

    Args:
        id: ``"[namespace/]Name-vN"``; the version is required (e.g. ``"myorg/Parity-v0"``).
        entry_point: a ``TextEnv`` subclass, a ``"module:Class"`` string, or a factory.
        kwargs: default constructor kwargs (``gymnasium.make(id, **more)`` overrides them).
        description: one line for ``grpo-gym envs list`` (default: the class's ``description``).
        force: replace an env already registered under ``id`` (otherwise that is an error).
        source: one of ``SOURCES`` (what ``grpo-gym envs list`` groups by).
        family: the group within the source (default: the class's ``family`` or reward kind).
        spec_kwargs: passed on to ``gymnasium.register`` (e.g. ``max_episode_steps``).
    """
    match = _ID_RE.match(id) if isinstance(id, str) else None
    if match is None:
        raise ValueError(
            f"bad env id {id!r}: use 'namespace/Name-vN', e.g. '{NAMESPACE}/MyTask-v0'"
        )
    if id in gym.registry and not force:
        raise ValueError(
            f"env id {id!r} is already registered; bump the version or pass force=True"
        )
    if isinstance(entry_point, str):
        if ":" not in entry_point:
            raise ValueError(
                f"entry_point {entry_point!r} must look like 'package.module:ClassName'"
            )
    elif isinstance(entry_point, type):
        if not issubclass(entry_point, TextEnv):
            raise TypeError(
                f"entry_point {entry_point.__name__} must subclass grpo_gym.envs.TextEnv"
            )
    elif not callable(entry_point):
        raise TypeError(
            f"entry_point must be a TextEnv subclass, 'module:Class' or a callable, got {entry_point!r}"
        )
    source = "built-in" if source == "builtin" else source  # the older spelling
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: use one of {SOURCES}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"kwargs must be a mapping, got {type(kwargs).__name__}")
    if id in gym.registry:
        del gym.registry[id]
    gym.register(id=id, entry_point=entry_point, kwargs=dict(kwargs or {}), **spec_kwargs)
    _EXTRA[id] = _Extra(description, source, family)
    return gym.spec(id)


def _record(spec: EnvSpec) -> EnvRecord | None:
    try:
        cls = _env_class(spec.entry_point)
    except Exception:  # an entry point that does not import is not a listable env
        return None
    if cls is None or not issubclass(cls, TextEnv):
        if spec.id not in _EXTRA:
            return None
        cls = TextEnv
    extra = _EXTRA.get(spec.id) or _Extra(
        None, "built-in" if cls.__module__.startswith("grpo_gym.") else "user"
    )
    description = extra.description
    if not description:
        description = cls.description or (cls.__doc__ or "").strip().split("\n")[0]
    turns = spec.kwargs.get("max_turns", getattr(cls, "max_turns", 1))
    ep = (
        spec.entry_point
        if isinstance(spec.entry_point, str)
        else f"{cls.__module__}:{cls.__qualname__}"
    )
    return EnvRecord(
        id=spec.id,
        description=description,
        reward_kind=cls.reward_kind,
        multi_turn=int(turns) > 1,
        version=int(spec.version or 0),
        entry_point=ep,
        source=extra.source,
        family=extra.family or getattr(cls, "family", None) or cls.reward_kind,
        plugin=extra.plugin,
    )


def list_envs(namespace: str | None = None) -> list[EnvRecord]:
    """Every registered text env, sorted by id: the ``grpo_gym`` namespace, envs registered
    through ``register`` or by plugins, and ``TextEnv`` classes given to ``gymnasium.register``.

    ``namespace`` restricts the list (e.g. ``"grpo_gym"`` for the built-in suite).
    """
    rows = []
    for env_id, spec in sorted(gym.registry.items()):
        if namespace is not None and spec.namespace != namespace:
            continue
        if spec.namespace != NAMESPACE and env_id not in _EXTRA and not _maybe_text_env(spec):
            continue
        record = _record(spec)
        if record is not None:
            rows.append(record)
    return rows


def _maybe_text_env(spec: EnvSpec) -> bool:
    """Outside our namespace, list only TextEnv classes registered directly (never import the
    modules behind other packages' string entry points, e.g. Gymnasium's own envs)."""
    ep = spec.entry_point
    return isinstance(ep, type) and issubclass(ep, TextEnv)


def resolve_id(env_id: str) -> str:
    """The registered id for ``env_id`` (``"Arithmetic-v0"`` -> ``"grpo_gym/Arithmetic-v0"``).

    Gymnasium's ``"module:Name-v0"`` form imports ``module`` first (so an env registered by the
    user's own code can be named anywhere an id is taken), then resolves ``Name-v0``.
    Raises ``UnknownEnvError`` naming the closest registered ids.
    """
    if env_id in gym.registry:
        return env_id
    if ":" in env_id:
        module, _, rest = env_id.partition(":")
        import_env_module(module, env_id)
        return resolve_id(rest)
    namespaced = f"{NAMESPACE}/{env_id}"
    if "/" not in env_id and namespaced in gym.registry:
        return namespaced
    known = [r.id for r in list_envs()]
    short = {k.split("/", 1)[-1].lower(): k for k in known}
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
    close += [
        short[m]
        for m in difflib.get_close_matches(
            env_id.split("/", 1)[-1].lower(), list(short), n=3, cutoff=0.5
        )
    ]
    close = list(dict.fromkeys(close))[:3]
    hint = (
        f"did you mean {', '.join(close)}?" if close else "run 'grpo-gym envs list' to see all ids"
    )
    raise UnknownEnvError(f"unknown env id {env_id!r}: {hint}")


def import_env_module(module: str, env_id: str) -> None:
    """Import the module a ``"module:Name-v0"`` id names (it registers its envs on import).

    A module that is not importable but sits in the working folder (``./module.py``) is imported
    from there, as ``python -m`` would; a module that fails is an ``UnknownEnvError`` saying why.
    """
    here, top = Path.cwd(), module.split(".", 1)[0]
    try:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            in_cwd = (here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file()
            if exc.name != top or not in_cwd or str(here) in sys.path:
                raise
            sys.path.append(str(here))
            importlib.import_module(module)
    except Exception as exc:
        raise UnknownEnvError(
            f"env id {env_id!r}: importing module {module!r} failed ({type(exc).__name__}: {exc}); "
            "put the folder holding it on PYTHONPATH, or install it"
        ) from None


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` with id resolution (namespace optional) and close-match errors."""
    return gym.make(resolve_id(env_id), **kwargs)


def make_vec(
    env_id: str, num_envs: int, vectorization_mode: str = "sync", **kwargs: Any
) -> gym.vector.VectorEnv:
    """``gymnasium.make_vec`` for one GRPO group of ``num_envs`` copies (see ``TextEnv``).

    Reset with ``seed=[s] * num_envs`` so every copy sees the same prompt.
    """
    return gym.make_vec(
        resolve_id(env_id), num_envs=num_envs, vectorization_mode=vectorization_mode, **kwargs
    )


# ---- plugins --------------------------------------------------------------------------------
PLUGIN_GROUP = "grpo_gym.envs"
_plugins_loaded = False


class PluginWarning(UserWarning):
    """A ``grpo_gym.envs`` entry point failed to load; its envs are missing."""


def load_plugins(*, reload: bool = False) -> list[str]:
    """Load every entry point in the ``grpo_gym.envs`` group (done once, on ``import grpo_gym.envs``).

    An entry point names either a **callable** (``"pkg.envs:register_envs"``), which is called
    with no arguments and registers envs, or a **module** (``"pkg.envs"``), whose import
    registers them. Either way, register with ``grpo_gym.envs.register`` (or
    ``gymnasium.register``). A plugin that raises is skipped with a ``PluginWarning`` naming it.
    Returns the ids the plugins added.
    """
    global _plugins_loaded
    if _plugins_loaded and not reload:
        return []
    _plugins_loaded = True
    added: list[str] = []
    for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        before = set(gym.registry)
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type):
                obj()
        except Exception as exc:
            warnings.warn(
                f"grpo_gym.envs plugin {ep.name!r} ({ep.value}) failed to load and was skipped: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        for env_id in sorted(set(gym.registry) - before):
            old = _EXTRA.get(env_id) or _Extra(None, "plugin")
            _EXTRA[env_id] = _Extra(old.description, "plugin", old.family, ep.name)
            added.append(env_id)
    return added
