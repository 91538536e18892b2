"""One command trains, checks and packages the reader: ``python -m train`` (resumable).

python -m train            # data -> fit (checkpointed) -> ONNX export, int8, card
python -m train data       # only the pairs
python -m train export     # only the export of a finished run
python -m train pipeline   # the threshold through the answer path (validation split)
python -m train loco       # leave-one-corpus-out: the shipped calibration and threshold
python -m train constants  # the answer path's hand-set constants measured on validation data
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from rag.config import apply_offline_env
from train import log_to


def main(argv: list[str] | None = None) -> int:
    apply_offline_env()
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.splitlines()[0])
    parser.add_argument(
        "step",
        nargs="?",
        choices=("all", "data", "fit", "export", "pipeline", "loco", "constants"),
        default="all",
    )
    parser.add_argument(
        "--run", type=Path, default=Path("train/out/run"), help="first stage's run folder"
    )
    parser.add_argument(
        "--max-pairs", type=int, default=None, help="cap the training pairs (default 60,000)"
    )
    parser.add_argument("--layers", type=int, default=None, help="transformer layers kept")
    args = parser.parse_args(argv)
    args.run.mkdir(parents=True, exist_ok=True)
    log_to(args.run.parent / "train.log")
    if args.step == "loco":
        from train import loco

        return loco.main(["all"])
    if args.step == "constants":
        from train import constants

        return constants.main(["all"])
    from train import data, fit

    pairs = data.OUT / "pairs-train.jsonl"
    if args.step in ("all", "data") or not pairs.exists():
        logging.getLogger("train").info("data: %s", data.build())
    if args.step == "data":
        return 0
    overrides = {
        name: value
        for name, value in (("max_pairs", args.max_pairs), ("layers", args.layers))
        if value is not None
    }
    last = args.run
    for folder, stage in fit.STAGES:
        last = args.run.parent / folder
        if args.step in ("all", "fit"):
            fit.fit(data.OUT, last, dataclasses.replace(stage, **overrides))  # type: ignore[arg-type]
    if args.step in ("all", "export"):
        from train import export

        export.export(last / "final", data.OUT / "groups-val.jsonl")
    if args.step in ("all", "pipeline"):
        from train import pipeline

        pipeline.run()
        from train import loco

        # The calibration that ships: fitted leave-one-corpus-out over four corpora (it replaces
        # the pipeline's, which is fitted on two); corpora already asked by this model are kept.
        loco.main(["all"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
