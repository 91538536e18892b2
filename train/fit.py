"""Fine-tune the packaged all-MiniLM-L6-v2 as a one-logit cross-encoder (the reader).

Resumable: a checkpoint (weights, optimiser, schedule, step) is written every
``CHECKPOINT_EVERY`` steps; running the same command again continues from it. Fixed seed, one
pass over a fixed shuffle of the training pairs, progress on stderr and in ``train.log``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import model_dir
from rag.reader_input import MAX_TOKENS

log = logging.getLogger("train")
CHECKPOINT_EVERY = 200


@dataclass(frozen=True)
class FitConfig:
    layers: int = 4
    batch_size: int = 32
    learning_rate: float = 7e-5
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    max_pairs: int = 60_000
    seed: int = 13
    threads: int = 2
    # Matrix products in bfloat16 (autocast) where the CPU has it natively: about 2x faster here.
    bf16: bool = True
    # A later stage starts from an earlier stage's weights, on the pairs in another order.
    init: str = ""
    shuffle_seed: int | None = None
    # The pairs file in train/out/ (train/data.py writes both).
    pairs: str = "pairs-train.jsonl"


# Two stages: the second starts from the first's weights with a lower peak learning rate, on the
# pairs in another order plus off-topic negatives (train/data.py).
STAGES = (
    ("run", FitConfig()),
    (
        "run2",
        FitConfig(
            learning_rate=3e-5,
            warmup_share=0.02,
            init="run",
            shuffle_seed=29,
            pairs="pairs-stage2.jsonl",
        ),
    ),
)


def load_pairs(path: Path, limit: int) -> list[tuple[str, str, int]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows.append((row["a"], row["b"], int(row["label"])))
            if len(rows) >= limit:
                break
    return rows


def base_model(layers: int, init: Path | None = None) -> tuple[Any, Any]:
    """The packaged weights as a sequence classifier, cut to its first ``layers`` layers (or an
    earlier stage's weights, ``init``)."""
    import transformers
    from transformers import AutoTokenizer, BertForSequenceClassification

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    source = str(init or model_dir())
    model = BertForSequenceClassification.from_pretrained(
        source, num_labels=1, local_files_only=True
    )
    model.bert.encoder.layer = model.bert.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    return model, tokenizer


def encode(tokenizer: Any, batch: list[tuple[str, str, int]]) -> Any:
    """A batch of (question, sentence, label) pairs as the model reads them: padded tensors,
    the sentence side cut to MAX_TOKENS."""
    return tokenizer(
        [a for a, _, _ in batch],
        [b for _, b, _ in batch],
        truncation="only_second",
        max_length=MAX_TOKENS,
        padding=True,
        return_tensors="pt",
    )


def fit(data_dir: Path, run_dir: Path, config: FitConfig) -> Path:
    """Train (or resume) and save the final weights in ``run_dir/final``; returns that folder."""
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    final = run_dir / "final"
    if (final / "config.json").exists():
        log.info("Training already finished: %s", final)
        return final
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    pairs = load_pairs(data_dir / config.pairs, config.max_pairs)
    if config.shuffle_seed is not None:
        random.Random(config.shuffle_seed).shuffle(pairs)
    steps = math.ceil(len(pairs) / config.batch_size)
    init = run_dir.parent / config.init / "final" if config.init else None
    model, tokenizer = base_model(config.layers, init)
    decay = [
        p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n
    ]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
    )
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_share), steps)  # type: ignore[no-untyped-call]
    checkpoint = run_dir / "checkpoint.pt"
    start = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng"])
        start = state["step"]
        log.info("Resuming at step %d of %d", start, steps)
    (run_dir / "fit-config.json").write_text(json.dumps(asdict(config), indent=2))

    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    running = 0.0
    began = time.monotonic()
    bar = tqdm(total=steps, initial=start, desc="reader", unit="step", mininterval=5)
    for step in range(start, steps):
        batch = pairs[step * config.batch_size : (step + 1) * config.batch_size]
        encoded = encode(tokenizer, batch)
        labels = torch.tensor([float(y) for _, _, y in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            logits = model(**encoded).logits.squeeze(-1)
        loss = loss_fn(logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * float(loss) if step > start else float(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        done = step + 1
        if done % CHECKPOINT_EVERY == 0 or done == steps:
            rate = (done - start) * config.batch_size / (time.monotonic() - began)
            log.info("step %d/%d loss %.4f %.1f pairs/s", done, steps, running, rate)
            _save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "rng": torch.get_rng_state(),
                    "step": done,
                },
            )
    bar.close()
    model.eval()
    tmp = run_dir / "final.tmp"
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, final)
    return final


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
