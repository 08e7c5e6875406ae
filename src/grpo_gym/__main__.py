"""``python -m grpo_gym ...`` runs the ``grpo-gym`` command line."""

import sys

from grpo_gym.cli import main

if __name__ == "__main__":
    sys.exit(main())
