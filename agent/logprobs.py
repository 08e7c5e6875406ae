"""Per-token log-probabilities of completion tokens, without a full-vocabulary float32 log-softmax.

Only the logits at the T completion label positions are computed (``logits_to_keep``), and
the log-softmax is evaluated chunk by chunk as ``logit[label] - logsumexp(logits)``, so peak
memory is one chunk of ``[rows, T, V]`` instead of ``[N, P+T, V]`` in float32.
"""

from __future__ import annotations

import torch
from torch import Tensor


def selective_log_softmax(logits: Tensor, labels: Tensor, *, chunk_rows: int = 8) -> tuple[Tensor, Tensor]:
    """log p(label) and entropy per position.

    Args:
        logits: ``[N, T, V]``.
        labels: ``[N, T]`` token ids.

    Returns:
        ``(logp, entropy)``, both ``[N, T]`` float32; entropy is detached.
    """
    logps, ents = [], []
    for start in range(0, logits.shape[0], chunk_rows):
        chunk = logits[start : start + chunk_rows].float()  # [n, T, V]
        lse = torch.logsumexp(chunk, dim=-1)  # [n, T]
        picked = chunk.gather(-1, labels[start : start + chunk_rows].unsqueeze(-1)).squeeze(-1)  # [n, T]
        logps.append(picked - lse)
        with torch.no_grad():
            p = torch.softmax(chunk, dim=-1)  # [n, T, V]
            ents.append(lse - (p * chunk).sum(-1))  # [n, T]
    return torch.cat(logps), torch.cat(ents)


def completion_logprobs(
    model: torch.nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor,
    completion_len: int,
    *,
    temperature: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """Log-probs of the last ``completion_len`` tokens of each row, given everything before.

    Args:
        input_ids, attention_mask: ``[N, P + T]`` = left-padded prompt then completion.
        completion_len: T.
        temperature: logits are divided by it, matching the sampling distribution.

    Returns:
        ``(logp, entropy)``, both ``[N, T]``.
    """
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # [N, P+T]
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        logits_to_keep=completion_len + 1,
        use_cache=False,
    )
    logits = out.logits[:, :-1, :]  # [N, T, V] predictions for the completion tokens
    if temperature != 1.0:
        logits = logits / temperature
    labels = input_ids[:, -completion_len:]  # [N, T]
    return selective_log_softmax(logits, labels)
