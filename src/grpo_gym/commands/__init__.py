"""The ``grpo-gym`` subcommands (``grpo_gym.cli`` builds the parser from them)."""
