"""One GRPO group = G copies of an env reset with the same seed.

python examples/grpo_group.py
"""

import gymnasium as gym

import grpo_gym.envs  # noqa: F401  (registers the grpo_gym/... ids)

G = 4
if __name__ == "__main__":  # "async" starts G worker processes: scoring runs in parallel
    envs = gym.make_vec("grpo_gym/ArithmeticEasy-v0", num_envs=G, vectorization_mode="async")
    prompts, infos = envs.reset(seed=[7] * G)  # G identical prompts
    print(prompts[0])
    answer = infos["task"][0].answer
    replies = [f"\\boxed{{{answer}}}", "\\boxed{0}", "I don't know.", f"The sum is {answer}."]
    _, rewards, terminated, _, infos = envs.step(replies)  # one reward per reply
    print("rewards:", rewards.tolist())
    print("advantages:", (rewards - rewards.mean()).round(2).tolist())
    envs.close()
