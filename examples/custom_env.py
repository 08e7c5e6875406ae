"""A custom environment in a few lines: subclass TextEnv, register it, train or evaluate on it.

python examples/custom_env.py
"""

import gymnasium as gym

import grpo_gym.envs as ge
from grpo_gym.rewards import RewardResult, Task


class Vowels(ge.TextEnv):
    """Count the vowels in a word."""

    description = "Count the vowels in a random word"
    reward_kind = "exact"

    def generate_task(self, rng):
        word = "".join(
            rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=int(rng.integers(4, 10)))
        )
        answer = str(sum(c in "aeiou" for c in word))
        return Task(
            prompt=f"How many vowels are in '{word}'? Put the final answer in \\boxed{{}}.",
            answer=answer,
        )

    def score(self, reply, task):
        ok = f"\\boxed{{{task.answer}}}" in reply.replace(" ", "")
        return RewardResult(
            score=float(ok),
            components={"correct": float(ok)},
            reason=None if ok else "wrong or unboxed",
        )


ge.register("examples/Vowels-v0", Vowels)

if __name__ == "__main__":
    env = gym.make("examples/Vowels-v0")
    prompt, info = env.reset(seed=0)
    print(prompt)
    print("reference:", info["reference"], "->", env.step(info["reference"])[1])
