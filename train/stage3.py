"""A third, short training stage: the documentation pairs, from the shipped reader's weights.

The shipped reader (stages 1 and 2 of train/fit.py) never saw train/data.py's documentation
pairs (Click and Flask's rst, headings asked as questions). Its torch weights are rebuilt from
the int8 file (train/from_onnx.py), then trained one pass over the documentation training pairs
(with their off-topic negatives) mixed with a replay sample of the older pairs, ``REPLAY``
older pairs per documentation pair, so that it does not forget them; at a low learning rate.

    python -m train.stage3 [fit [run3b]]    # rebuild, mix, fit (checkpointed) -> train/out/run3
    python -m train.stage3 package [run3b]  # train/out/run3/{int8,fp32}: packaged reader folders
    python -m train.stage3 validate [folder]  # validation figures of a packaged reader folder

The FAQ variants (run4, run4b) train on train/faq_data.py's pairs instead: questions that
documentation authors wrote (FAQ entries, question headings) with the first paragraph below
them, mixed with REPLAY times as many of the older pairs the shipped reader was trained on
(Click and Flask's pseudo-question pairs left out: those pages are validation data).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import sys
from pathlib import Path

from train import log_to
from train.data import OUT
from train.fit import FitConfig

log = logging.getLogger("train")
REPLAY = 2
SEED = 31
STAGE3 = FitConfig(
    learning_rate=2e-5,
    warmup_share=0.06,
    init="shipped",
    shuffle_seed=None,
    pairs="pairs-stage3.jsonl",
)
FAQ_STAGE = dataclasses.replace(STAGE3, pairs="pairs-stage3-faq.jsonl")
# The variants tried (run folder in train/out/ -> config), chosen on validation figures only.
VARIANTS = {
    "run3": STAGE3,
    "run3b": dataclasses.replace(STAGE3, learning_rate=5e-5),
    "run4": FAQ_STAGE,
    "run4b": dataclasses.replace(FAQ_STAGE, learning_rate=5e-5),
}
FAQ_VARIANTS = ("run4", "run4b")


def mix(out: Path = OUT) -> dict[str, int]:
    """pairs-stage3.jsonl: every documentation training pair of stage 2's file (held-out pages
    are not in it) and REPLAY times as many of its other pairs, drawn at random, shuffled."""
    rows = [json.loads(line) for line in (out / "pairs-stage2.jsonl").open(encoding="utf-8")]
    docs = [r for r in rows if str(r["source"]).startswith("docs")]
    rest = [r for r in rows if not str(r["source"]).startswith("docs")]
    rng = random.Random(SEED)
    chosen = docs + rng.sample(rest, min(len(rest), REPLAY * len(docs)))
    rng.shuffle(chosen)
    return _write_mix(out / STAGE3.pairs, chosen)


def mix_faq(out: Path = OUT) -> dict[str, int]:
    """pairs-stage3-faq.jsonl: every FAQ training pair (train/faq_data.py, held-out pages not
    in it) and REPLAY times as many older pairs of stage 2's file, never a documentation pair
    (the shipped reader never saw those, and their pages are the manual validation set's)."""
    rows = [json.loads(line) for line in (out / "faq-train.jsonl").open(encoding="utf-8")]
    older = [json.loads(line) for line in (out / "pairs-stage2.jsonl").open(encoding="utf-8")]
    rest = [r for r in older if not str(r["source"]).startswith("docs")]
    rng = random.Random(SEED)
    chosen = rows + rng.sample(rest, min(len(rest), REPLAY * len(rows)))
    rng.shuffle(chosen)
    return _write_mix(out / FAQ_STAGE.pairs, chosen)


def _write_mix(path: Path, chosen: list[dict[str, object]]) -> dict[str, int]:
    with path.open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in chosen:
        counts[str(row["source"])] = counts.get(str(row["source"]), 0) + 1
    return counts


def package(final: Path, run: Path) -> None:
    """The trained weights as two reader folders, int8 (as train/export.py quantises) and fp32,
    with the shipped reader.json's calibration and the new file's sha256 (the calibration is
    refitted by ``python -m train loco`` once the model ships)."""
    import shutil

    from rag.embeddings import quantize_onnx
    from rag.reader import MODEL_DIR
    from train.export import VARIANTS, export_onnx, sha256

    card = json.loads((MODEL_DIR / "reader.json").read_text(encoding="utf-8"))
    fp32, int8 = run / "fp32", run / "int8"
    for folder in (fp32, int8):
        folder.mkdir(parents=True, exist_ok=True)
        # The shipped tokenizer file: same vocabulary, and the truncation the Reader sets.
        shutil.copy(MODEL_DIR / "tokenizer.json", folder / "tokenizer.json")
        shutil.copy(MODEL_DIR / "offtopic.txt", folder / "offtopic.txt")
    export_onnx(final, fp32 / "model.onnx")
    quantize_onnx(fp32 / "model.onnx", int8 / "model-int8.onnx", VARIANTS["model-int8.onnx"])
    for folder, name in ((fp32, "model.onnx"), (int8, "model-int8.onnx")):
        out = {**card, "model_file": name, "sha256": sha256(folder / name)}
        (folder / "reader.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    from rag.config import apply_offline_env

    apply_offline_env()
    log_to(OUT / "train.log")
    name = argv[1] if len(argv) > 1 and argv[0] in ("fit", "package") else "run3"
    run = OUT / name
    if argv and argv[0] == "validate":
        # The validation figures of a packaged reader folder (the shipped one by default).
        from rag.reader import MODEL_DIR, Reader
        from train.export import metrics, score_groups, validation_groups

        folder = Path(argv[1]) if len(argv) > 1 else MODEL_DIR
        groups = validation_groups(OUT / "groups-val.jsonl")
        if (OUT / "faq-val.jsonl").exists():  # train/faq_data.py's held-out pages
            groups += validation_groups(OUT / "faq-val.jsonl")
        scored = score_groups(Reader(folder), groups)
        figures = metrics(scored)
        (OUT / f"validation-{folder.parent.name}-{folder.name}.json").write_text(
            json.dumps(figures, indent=2) + "\n"
        )
        log.info("validation of %s: %s", folder, json.dumps(figures))
        return 0
    if argv and argv[0] == "package":
        package(run / "final", run)
        return 0
    from train import data, fit, from_onnx

    if not (OUT / "pairs-stage2.jsonl").exists():
        log.info("data: %s", data.build())
    if not (OUT / "shipped" / "final" / "config.json").exists():
        from_onnx.rebuild(target=OUT / "shipped" / "final")
    if name in FAQ_VARIANTS:
        from train import faq_data

        log.info("faq data: %s", faq_data.build())
        log.info("stage 3 pairs (faq): %s", mix_faq())
    else:
        log.info("stage 3 pairs: %s", mix())
    fit.fit(OUT, run, VARIANTS[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
