"""``field(metadata=help_text("..."))``: the help a config field shows as a command-line flag.

The config dataclasses (``GRPOConfig``, ``EvalConfig``, ``SamplingConfig``, the engines' and
LoRA's settings) keep their help text here, once; ``grpo_gym.commands.flags`` reads it.
"""


def help_text(text: str) -> dict[str, str]:
    """Field metadata holding ``text`` as the flag's help."""
    return {"help": text}
