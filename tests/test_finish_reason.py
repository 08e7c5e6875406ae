"""How a reply ended reaches the scorer: ``Reply.finish_reason``, the truncation rule, stop strings.

Issue 30: every committed benchmark reply that our scorer credited after it hit the token limit
was wrong by hand (its last number was a fragment), and few-shot replies that ran on into an
invented "Question: ..." were scored on the invented question's answer.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence

import gymnasium as gym
import pytest
import torch

import grpo_gym.envs  # noqa: F401  (registers the envs)
from grpo_gym.agent.env_pool import EnvPool
from grpo_gym.agent.rollout import PromptRequest, collect
from grpo_gym.agent.sampling import Conversation, Generation, cut_at_stop_strings
from grpo_gym.envs.trl import EnvReward, TaskSpec
from grpo_gym.rewards import Reply, Task, finish_reason, is_truncated, math_reward
from grpo_gym.rewards.math_reward import TRUNCATED_NO_ANSWER


def test_a_reply_is_a_str_that_knows_how_it_ended() -> None:
    r = Reply("The answer is 4.", "length")
    assert r == "The answer is 4." and isinstance(r, str)
    assert finish_reason(r) == "length" and is_truncated(r)
    assert finish_reason(pickle.loads(pickle.dumps(r))) == "length"
    assert finish_reason("plain text") is None and not is_truncated("plain text")
    assert finish_reason(r[-5:]) is None  # a piece of a reply is not the reply
    with pytest.raises(ValueError, match="finish_reason must be one of"):
        Reply("x", "eos")  # type: ignore[arg-type]


# (reply cut at the token limit, gold): the fragments, all wrong by hand
FRAGMENTS = [
    ("Step 1: 96 + 15 = 111. Step 2: 111 + 15 =", "15"),  # GSM8K zero-shot #201
    ("He buys 3 packs of gum a week. He buys 2", "2"),  # GSM8K 5-shot #170
    ("The digits are 4166, 41", "41"),  # MATH-500 #388
    ("The answer is 15", "15"),  # maybe "150": unfinished
    ("<answer>15", "15"),  # unclosed tag
    ("so x = \\boxed{15", "15"),  # unclosed box
]


@pytest.mark.parametrize(("reply", "gold"), FRAGMENTS)
def test_a_truncated_reply_earns_nothing_from_a_fragment(reply: str, gold: str) -> None:
    task = Task("q", gold)
    cut = math_reward(Reply(reply, "length"), task)
    assert cut.score == 0.0 and cut.reason == TRUNCATED_NO_ANSWER


@pytest.mark.parametrize(
    "reply",
    [
        "so \\boxed{15} and then we check: 3 + 4",  # a closed box
        "The final answer is $15$. Let me also",  # a finished explicit sentence
        "Adding up, the answer is 15.\nNow, for the next part, 3",  # finished "answer is" line
        "96 + 15 = 111\n#### 15\nQuestion: what is 2",  # GSM8K's own format
        "<answer>15</answer> and more text about 7",
    ],
)
def test_a_truncated_reply_keeps_a_finished_explicit_answer(reply: str) -> None:
    assert math_reward(Reply(reply, "length"), Task("q", "15")).score == 1.0


def test_a_finished_reply_is_scored_as_before() -> None:
    for reply in ("Step 2: 111 + 15 =", "so 2 + 13 = 15"):
        assert math_reward(reply, Task("q", "15")).score == 1.0  # EOS: the last number counts
        assert math_reward(Reply(reply, "stop"), Task("q", "15")).score == 1.0


def test_env_step_reads_the_finish_reason_and_reports_it() -> None:
    env = gym.make("grpo_gym/Arithmetic-v0", digits=1)
    _, info = env.reset(seed=3)
    answer = info["task"].answer
    _, reward, *_, step_info = env.step(Reply(f"... so it is {answer}", "length"))
    assert reward == 0.0 and step_info["finish_reason"] == "length"
    env.reset(seed=3)
    _, reward, *_, step_info = env.step(Reply(f"so it is {answer}", "stop"))
    assert reward == 1.0 and step_info["finish_reason"] == "stop"


def test_truncated_policy_zero_scores_every_cut_reply_zero() -> None:
    env = gym.make("grpo_gym/Arithmetic-v0", digits=1)
    _, info = env.reset(seed=3)
    env.unwrapped.set_truncated_policy("zero")  # type: ignore[attr-defined]
    _, reward, *_, step_info = env.step(Reply(info["reference"], "length"))
    assert reward == 0.0 and "truncated_policy='zero'" in (step_info["reason"] or "")
    with pytest.raises(ValueError, match="unknown truncated policy 'none'"):
        env.unwrapped.set_truncated_policy("none")  # type: ignore[attr-defined]


def test_few_shot_gsm8k_stops_at_the_next_question() -> None:
    env = gym.make("grpo_gym/GSM8KFewShot-v0")
    assert env.unwrapped.stop_strings == ("Question:", "</s>", "<|im_end|>")  # type: ignore[attr-defined]
    assert gym.make("grpo_gym/GSM8K-v0").unwrapped.stop_strings == ()  # type: ignore[attr-defined]
    _, info = env.reset(seed=0, options={"split": "test"})
    gold = info["task"].answer
    run_on = (
        f"So the total is {gold}. The answer is {gold}.\n\nQuestion: Tom has 3 apples.\nAnswer: 7"
    )
    _, reward, *_, step_info = env.step(run_on)  # 5-shot #64: the invented question's 7 was read
    assert reward == 1.0 and step_info["extracted"] == gold


def test_a_generation_hands_out_replies_with_their_finish_reason() -> None:
    gen = Generation(
        torch.zeros((2, 1), dtype=torch.long),
        torch.ones((2, 1), dtype=torch.long),
        torch.zeros((2, 3), dtype=torch.long),
        torch.ones((2, 3), dtype=torch.long),
        torch.tensor([True, False]),
        ["cut off", "done"],
    )
    assert [finish_reason(t) for t in gen.texts] == ["length", "stop"]


def test_cut_at_stop_strings_keeps_only_sampled_tokens() -> None:
    ids = torch.tensor([[1, 2, 3, 4, 5, 0], [1, 2, 3, 0, 0, 0]])  # 0: padding after the stop
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])  # pad == eos: first pad counted
    truncated = torch.tensor([True, False])
    letters = {1: "Ans", 2: "wer", 3: ": 7", 4: "\nQue", 5: "stion:", 0: "<eos>"}

    def decode(tokens: list[int]) -> str:
        return "".join(letters[t] for t in tokens)

    cut_at_stop_strings(ids, mask, truncated, decode, ("Question:",))
    assert mask.tolist()[0] == [1, 1, 1, 1, 1, 0] and not truncated[0]  # ends at "stion:"
    assert mask.tolist()[1] == [1, 1, 1, 1, 0, 0]  # no stop string: unchanged


def test_the_hf_engine_stops_at_a_stop_string(tiny_policy) -> None:
    from grpo_gym.agent.engines import HFSampler
    from grpo_gym.agent.sampling import SamplingConfig

    model, tok = tiny_policy
    engine = HFSampler(model, tok, SamplingConfig(max_new_tokens=24, temperature=1.0))
    conv = [{"role": "user", "content": "Say something."}]
    torch.manual_seed(0)  # the same draws up to the stop in both calls
    free = engine.generate([conv])
    n_free = int(free.completion_mask[0].sum())
    assert n_free > 8, "the tiny model's reply should run on"
    ids = free.completion_ids[0, :n_free].tolist()
    text = tok.decode(ids, skip_special_tokens=False)
    # a stop string the sampled reply contains: three ASCII letters, past its first few tokens
    found = re.search(r"[A-Za-z]{3}", text[len(tok.decode(ids[:3])) :])
    assert found, f"no letters in the tiny model's reply {text!r}"
    stop = found.group(0)
    torch.manual_seed(0)
    stopped = engine.generate([conv], stop=(stop,))
    n = int(stopped.completion_mask[0].sum())
    kept = stopped.completion_ids[0, :n].tolist()
    assert kept == ids[:n] and n < n_free  # the same draws, cut short
    assert stop in tok.decode(kept, skip_special_tokens=False)
    assert stop not in tok.decode(kept[:-1], skip_special_tokens=False)
    assert not bool(stopped.truncated[0])
    assert finish_reason(stopped.texts[0]) == "stop"


class RecordingPolicy:
    """A scripted policy that records the stop strings it was given."""

    def __init__(self) -> None:
        self.stops: list[Sequence[str]] = []

    def __call__(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> list[str]:
        self.stops.append(stop)
        return [Reply("The answer is 1.\n\nQuestion: 2+2?\nThe answer is 4.", "stop")] * (
            len(conversations) * n
        )


def test_collect_passes_the_envs_stop_strings_and_old_policies_still_work() -> None:
    envs = EnvPool()
    req = [PromptRequest("grpo_gym/GSM8KFewShot-v0", 5, "test")]
    policy = RecordingPolicy()
    collect(policy, req, 2, envs)
    assert policy.stops == [("Question:", "</s>", "<|im_end|>")]

    def old_style(conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        return ["4"] * (len(conversations) * n)

    assert len(collect(old_style, req, 2, envs).episodes) == 2


def test_env_pool_applies_the_runs_truncated_policy() -> None:
    pool = EnvPool(truncated_policy="zero")
    assert pool.get("grpo_gym/Arithmetic-v0", 0).unwrapped.truncated_policy == "zero"  # type: ignore[attr-defined]
    assert EnvPool().get("grpo_gym/Arithmetic-v0", 0).unwrapped.truncated_policy == "explicit"  # type: ignore[attr-defined]


def test_grpo_config_checks_truncated_reward() -> None:
    from grpo_gym.agent import GRPOConfig

    assert GRPOConfig(env=("grpo_gym/Arithmetic-v0",)).truncated_reward == "explicit"
    with pytest.raises(ValueError, match="truncated_reward='none': use explicit or zero"):
        GRPOConfig(env=("grpo_gym/Arithmetic-v0",), truncated_reward="none")  # type: ignore[arg-type]


def test_trl_env_reward_reads_truncation_from_completion_ids() -> None:
    spec = TaskSpec("grpo_gym/Arithmetic-v0", 3, "train", {"digits": 1}).to_json()
    reward = EnvReward(max_completion_length=4, eos_token_id=0)
    env = gym.make("grpo_gym/Arithmetic-v0", digits=1)
    _, info = env.reset(seed=3)
    reply = f"it is {info['task'].answer}"
    full, cut = [9, 9, 9, 9], [9, 9, 9, 0]  # 4 tokens without EOS: cut; ending in EOS: finished
    assert reward(None, [reply, reply], task=[spec, spec], completion_ids=[full, cut]) == [
        0.0,
        1.0,
    ]
    assert EnvReward()(None, [reply], task=[spec], completion_ids=[full]) == [1.0]
    assert pickle.loads(pickle.dumps(reward)).max_completion_length == 4


@pytest.mark.parametrize(
    "env_id",
    [
        "grpo_gym/Arithmetic-v0",
        "grpo_gym/Fractions-v0",
        "grpo_gym/PolynomialRoots-v0",  # scores with extract_answer, not math_reward
        "grpo_gym/Derivative-v0",
        "grpo_gym/MultiTurnMath-v0",
    ],
)
def test_every_math_env_refuses_a_fragment_and_keeps_a_boxed_answer(env_id: str) -> None:
    env = gym.make(env_id)
    _, info = env.reset(seed=1)
    _, fragment, *_ = env.step(Reply(f"we get {info['task'].answer}", "length"))
    env.reset(seed=1)
    _, boxed, *_ = env.step(Reply(info["reference"], "length"))
    assert (fragment, boxed) == (0.0, 1.0)
