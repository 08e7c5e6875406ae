"""CPU speed-ups, kept apart so the algorithm files read as the algorithm.

Each is tested against the plain path it replaces, and each module's docstring gives its
measurement (2-core AMD EPYC dev VM, SmolLM2-135M). Three have a setting; the shared prefill has
none (the HF engine uses it whenever a prompt has several replies and the KV cache is dynamic):

    prepack   generation (and the frozen reference) on oneDNN-prepacked float32 weights
              (``SamplingConfig.cpu_prepack``; tests/test_sampling_fast_paths.py)
    prefill   one prefill per distinct prompt, its KV cache shared by the G replies (HF engine;
              tests/test_sampling_fast_paths.py)
    logprobs  completion log-probs with the LM head on real tokens only, shared prompts and a
              sparse tied-embedding gradient (``GRPOConfig.logprobs="fast"``; tests/test_logprobs.py)
    memory    keep freed memory in the process instead of page-faulting big tensors each step
              (``GRPOConfig.keep_cpu_memory``)
"""
