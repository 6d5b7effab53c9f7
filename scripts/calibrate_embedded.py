"""Fit the embedded model's confidence calibration on the dev split (issue 25 §4).

    python scripts/calibrate_embedded.py           # rewrite the shipped table
    python scripts/calibrate_embedded.py --check   # exit 1 if the shipped table is stale

Reads only the ``dev`` documents of ``examples/eval/real`` (as ``eightflow eval`` reads
them: through ``document_analysis``'s loaders), answers them with the embedded model,
marks each sentiment answer and each entity found right or wrong against the manifest's
labels (the evaluator's rules), and fits
:func:`eightflow.embedded.calibration.fit_steps` per kind of answer. The result is
deterministic: the same model and labels give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASET = ROOT / "examples" / "eval" / "real"
HEADER = """\
# The embedded model's confidence calibration (see eightflow/embedded/calibration.py).
# Fit on the dev split of examples/eval/real ({documents} documents) by
# scripts/calibrate_embedded.py; never edit by hand, rerun the script.
# role group upper accuracy count
"""


def fit(dataset: Path = DATASET) -> str:
    """The calibration file's text, fit on ``dataset``'s dev split."""
    from eightflow.embedded.calibration import fit_steps, format_steps
    from eightflow.embedded.confidence import (
        MENTIONS_CAP,
        raw_sentiment_confidence,
        sentiment_group,
    )
    from eightflow.embedded.entities import extract_entities
    from eightflow.embedded.sentiment import analyze_sentiment
    from eightflow.evaluation.real_set import load_real_set, real_entity_key
    from eightflow.registry import load_workflow

    workflow = load_workflow("document_analysis")
    pairs: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    documents = load_real_set(dataset, "dev")
    for doc in documents:
        loaded = workflow.inputs_from_path(str(doc.path)).get("document")
        text = str(getattr(loaded, "text", loaded))
        mood = analyze_sentiment(text)
        group = sentiment_group(mood["label"], mood["basis"])
        raw = raw_sentiment_confidence(mood["score"], mood["label"])
        pairs[("sentiment", group)].append((raw, mood["label"] == doc.sentiment))
        gold = set(doc.entities)
        for entity in extract_entities(text)["entities"]:
            mentions = float(min(entity["count"], MENTIONS_CAP))
            right = (real_entity_key(entity["text"]), entity["type"]) in gold
            pairs[("entities", entity["type"])].append((mentions, right))
    tables = {key: fit_steps(found) for key, found in pairs.items()}
    return HEADER.format(documents=len(documents)) + "\n".join(format_steps(tables)) + "\n"


def main(argv: list[str] | None = None) -> int:
    from eightflow.embedded.calibration import CALIBRATION

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the shipped table")
    args = parser.parse_args(argv)
    target = ROOT / "eightflow" / "embedded" / "data" / CALIBRATION
    text = fit()
    if args.check:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print("calibration table is up to date" if same else f"{target} is stale: rerun")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
