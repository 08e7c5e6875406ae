"""reasoning-gym's task library as one env id per task: ``reasoning_gym/<task>-v0``.

The ids are registered from the table below, so ``grpo-gym envs list`` shows them without
importing reasoning-gym or generating any task (importing it loads every generator: ~3 s).
They are registered only where reasoning-gym is installed (``pip install
'grpo-gym[reasoning-gym]'``); ``grpo_gym/ReasoningGym-v0`` (``task=NAME``) is listed always.
``tests/test_reasoning_gym.py`` checks that the table matches the installed reasoning-gym's
``factory.DATASETS`` exactly, so an upgrade that adds or drops a task fails there first.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym

from .registry import register

NAMESPACE = "reasoning_gym"
ENTRY_POINT = "grpo_gym.envs.reasoning_gym:ReasoningGym"

#: reasoning-gym 0.1.25's tasks that have one gold answer, by reasoning-gym's category (its
#: sub-package): the env's family in ``grpo-gym envs list``.
# fmt: off
TASKS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "algebra": (
        "complex_arithmetic", "intermediate_integration", "polynomial_equations",
        "polynomial_multiplication", "simple_equations", "simple_integration",
    ),
    "algorithmic": (
        "ab", "base_conversion", "binary_alternation", "binary_matrix", "caesar_cipher",
        "count_primes", "cryptarithm", "game_of_life", "group_anagrams", "isomorphic_strings",
        "jugs", "letter_counting", "letter_jumble", "manipulate_matrix", "number_filtering",
        "number_sorting", "palindrome_generation", "palindrome_partitioning", "pool_matrix",
        "ransom_note", "rotate_matrix", "rotten_oranges", "sentence_reordering",
        "spell_backward", "spiral_matrix", "string_insertion", "string_manipulation",
        "string_splitting", "string_synthesis", "word_ladder", "word_sequence_reversal",
        "word_sorting",
    ),
    "arc": ("arc_1d", "arc_agi", "rearc"),
    "arithmetic": (
        "basic_arithmetic", "bitwise_arithmetic", "calendar_arithmetic", "chain_sum",
        "count_bits", "decimal_arithmetic", "decimal_chain_sum", "dice",
        "fraction_simplification", "gcd", "gsm_symbolic", "lcm", "leg_counting",
        "number_format", "power_function", "prime_factorization", "products", "time_intervals",
    ),
    "code": ("bf", "codeio"),
    "cognition": (
        "color_cube_rotation", "figlet_font", "modulo_grid", "needle_haystack",
        "number_sequence", "rectangle_count",
    ),
    "games": (
        "countdown", "emoji_mystery", "futoshiki", "kakurasu", "knight_swap", "mahjong_puzzle",
        "maze", "mini_sudoku", "n_queens", "puzzle24", "sokoban", "sudoku", "survo",
        "tower_of_hanoi", "tsumego",
    ),
    "geometry": ("advanced_geometry", "simple_geometry"),
    "graphs": (
        "course_schedule", "family_relationships", "largest_island", "path_star",
        "quantum_lock", "shortest_path",
    ),
    "induction": ("acre", "list_functions"),
    "logic": (
        "aiw", "circuit_logic", "knights_knaves", "self_reference", "syllogism", "zebra_puzzles",
    ),
    "probability": ("coin_flip",),
}
# fmt: on

#: reasoning-gym's tasks without an id here, and why (``ReasoningGym-v0`` refuses them too,
#: except ``game_of_life_halting``, which it accepts with a warning in its docstring).
EXCLUDED: dict[str, str] = {
    "boxnet": "no single gold answer (its checker accepts several plans)",
    "graph_color": "no single gold answer (any valid colouring scores 1)",
    "propositional_logic": "no single gold answer (any valid conclusion scores 1)",
    "rubiks_cube": "no single gold answer (any solving move sequence scores 1)",
    "rush_hour": "no single gold answer (any solving move sequence scores 1)",
    "composite": "a mixture of other tasks (name them with ReasoningGym-v0's task= instead)",
    "game_of_life_halting": "its score_answer gives every answer full marks (reasoning-gym 0.1.25)",
}


#: Tasks whose generator depends on the process's hash seed (``PYTHONHASHSEED``): the same
#: reset seed gives another task in another process (measured: seeds 0-2 under hash seeds 1 and
#: 2; every other task gave identical prompts). Scoring stays right (the worker scores the item
#: the prompt came from), but a run's prompts are reproducible only with PYTHONHASHSEED fixed.
HASH_SEED_DEPENDENT = ("isomorphic_strings", "polynomial_multiplication", "ransom_note")


def task_category() -> dict[str, str]:
    """Each task that has an id, and its reasoning-gym category."""
    return {task: cat for cat, tasks in TASKS_BY_CATEGORY.items() for task in tasks}


def task_env_id(task: str) -> str:
    return f"{NAMESPACE}/{task}-v0"


def register_task_envs() -> int:
    """Register ``reasoning_gym/<task>-v0`` for every task of the table (idempotent), if
    reasoning-gym is installed; returns how many ids are registered."""
    if importlib.util.find_spec("reasoning_gym") is None:
        return 0
    for task, category in task_category().items():
        env_id = task_env_id(task)
        if env_id not in gym.registry:
            register(
                env_id,
                ENTRY_POINT,
                kwargs={"task": task},
                description=f"reasoning-gym's {task} task, scored by its score_answer",
                source="reasoning-gym",
                family=category,
            )
    return len(task_category())
