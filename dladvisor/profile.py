"""Profile stage: what kind of data is this, and what in it needs a human's attention?

`profile_dataset` reads a `Dataset` and returns a frozen `DatasetProfile`: one `ColumnProfile` per feature, the
dataset-level facts (size, duplicates, class balance, time columns, leakage suspects, data sufficiency for deep
learning) and a list of `Alert`s, each with a severity and one sentence on what to do.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from dladvisor._frozen import Frozen
from dladvisor.load import IMAGE_SUFFIXES, ColumnScan, Dataset, row_hashes

ColumnKind = Literal[
    "numeric", "categorical", "boolean", "datetime", "text", "image_path", "id_like", "constant"
]
Severity = Literal["info", "warning", "critical"]

# Kinds the tabular candidates learn from; the rest are set aside (or left to modality-specific candidates).
TABULAR_KINDS = ("numeric", "boolean", "categorical", "datetime")
BOOLEAN_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|idx|index)$|[a-z]Id$|^id", re.IGNORECASE)
DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?\s*$")
# A single column whose cross-validated score alone reaches this is almost surely derived from the target...
LEAKAGE_AUC = 0.99
LEAKAGE_R2 = 0.98
# ...and one that reaches this is strong enough that someone should confirm it exists at prediction time
# (in the nassCDS crash data, injury severity, recorded after the outcome, reaches 0.98 alone).
# Honest strong features sit below: the best single breast-cancer measurement reaches 0.93 on all 569 rows.
SUSPECT_AUC = 0.975
SUSPECT_R2 = 0.95
# A column this strong on its own is worth a second look after training: the benchmark refits the best model
# without it and the recommendation blocks when the rest of the data cannot come close (a leak); a SHAP-dominant
# column is a critical suspect only above it. Honest strong features clear it too (breast cancer's best single
# measurement: 0.93), which is why it is a screen for measurement, not a verdict.
STRONG_SINGLE_AUC = 0.9
STRONG_SINGLE_R2 = 0.8
# A categorical with this many levels, each repeated, may name an entity (a customer, a case) spanning rows.
ENTITY_MIN_LEVELS = 100
# An identifier should carry no signal; above this its order predicts the target.
ID_SIGNAL_AUC = 0.65
ID_SIGNAL_R2 = 0.10
# Above this many rows the single-column screens (leakage, strongest columns, identifiers with signal) read a seeded
# sample of this size: a ROC-AUC measured on 20,000 rows has a standard error below 0.005, small beside the
# 0.975 / 0.99 cuts.
LEAKAGE_SAMPLE_ROWS = 20_000
# The screens score each column alone with a tree of depth SCREEN_DEPTH, leaves of >= SCREEN_MIN_LEAF rows, over
# SCREEN_FOLDS folds: scikit-learn's tree, which the cuts above were calibrated with, rebuilt in numpy on the target
# summed per distinct value (a histogram), so `dladvisor profile` does not import scikit-learn (~90 MB and 2-3 s).
# tests/perf/screen_agreement.py compares the two on real tables.
SCREEN_FOLDS = 3
SCREEN_DEPTH = 8
SCREEN_MIN_LEAF = 5
# A text column's kind (true/false words, dates, image paths, free text) is read from this many of its values.
KIND_SAMPLE_VALUES = 500
HIGH_MISSING_SHARE = 0.5
IMBALANCE_WARNING_RATIO = 10.0
# Rules of thumb for whether deep learning has enough data to be worth a try (cited in the report).
TABULAR_DEEP_MIN_ROWS = 10_000
PRETRAINED_MIN_ROWS_PER_CLASS = 100
FROZEN_MIN_ROWS_PER_CLASS = 20


class ColumnProfile(Frozen):
    name: str
    kind: ColumnKind
    dtype: str
    missing_share: float
    cardinality: int
    note: str = ""
    cardinality_capped: bool = False  # a streamed table: more distinct values than `cardinality`, counting stopped


class Alert(Frozen):
    code: str
    severity: Severity
    message: str
    column: str | None = None
    candidate: str | None = None  # set when the finding concerns one model, not the data


class UnivariateScore(Frozen):
    """How well one column alone predicts the target, cross-validated (3 folds)."""

    column: str
    metric: Literal["roc_auc", "r2"]
    score: float


def is_strong(score: UnivariateScore) -> bool:
    return score.score >= (STRONG_SINGLE_AUC if score.metric == "roc_auc" else STRONG_SINGLE_R2)


class SampledCheck(Frozen):
    """A profile check that read a seeded sample of the rows; every other check read all of them."""

    check: str
    rows: int  # rows (or values) it read ...
    of_rows: int  # ... of this many


class DataSufficiency(Frozen):
    verdict: Literal["insufficient", "limited", "adequate"]
    reason: str


class DatasetProfile(Frozen):
    rows: int
    feature_columns: int
    target: str
    task: str
    task_rule: str
    columns: tuple[ColumnProfile, ...]
    duplicate_rows: int
    conflicting_duplicate_rows: int
    class_counts: dict[str, int] | None = None
    imbalance_ratio: float | None = None
    min_rows_per_class: int | None = None
    target_summary: dict[str, float] | None = None
    target_histogram: tuple[tuple[float, ...], tuple[int, ...]] | None = None
    datetime_columns: tuple[str, ...] = ()
    leakage_suspects: tuple[UnivariateScore, ...] = ()
    strongest_single_columns: tuple[UnivariateScore, ...] = ()
    data_sufficiency: DataSufficiency
    alerts: tuple[Alert, ...] = ()
    sampled_checks: tuple[SampledCheck, ...] = ()

    def columns_of(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def tabular_columns(self) -> list[str]:
        return self.columns_of(*TABULAR_KINDS)


def profile_dataset(dataset: Dataset, *, seed: int = 0) -> DatasetProfile:
    """Profile the features and target of a loaded dataset.

    A streamed table (`dataset.scan`) is profiled from the facts its scan gathered about every row (size, missing
    and distinct values, duplicates, the target) and from its row sample (what kind each column holds, the
    single-column screens); `sampled_checks` says which read the sample."""
    frame, scan = dataset.features, dataset.scan
    rows = scan.rows if scan is not None else len(frame)
    y = scan.y if scan is not None else dataset.y  # every row's target
    columns = tuple(
        profile_column(frame[name], n_rows=len(frame), scan=scan.columns[name] if scan is not None else None,
                       scanned_rows=rows)
        for name in frame.columns
        if name != dataset.group_column
    )
    alerts: list[Alert] = [Alert(code=note.code, severity="warning", message=note.message, column=note.column)
                           for note in dataset.notes]
    alerts += _column_alerts(columns)

    keys = scan.row_keys if scan is not None else row_hashes(frame)
    duplicate_rows, conflicting = _duplicates(keys, y)
    if duplicate_rows:
        alerts.append(Alert(
            code="duplicate_rows", severity="warning",
            message=f"{duplicate_rows} rows ({duplicate_rows / rows:.1%}) repeat another row exactly; "
            "duplicates can sit on both sides of a fold and inflate scores, so remove them or group them.",
        ))
    if conflicting:
        alerts.append(Alert(
            code="conflicting_labels", severity="warning",
            message=f"{conflicting} rows share identical features but disagree on '{dataset.target_name}'; "
            "check the labelling, since no model can be right on all of them.",
        ))

    class_counts = imbalance = min_per_class = target_summary = target_histogram = None
    if dataset.is_classification:
        counts = np.bincount(y, minlength=len(dataset.classes))
        class_counts = {name: int(n) for name, n in zip(dataset.classes, counts, strict=True)}
        min_per_class = int(counts.min())
        imbalance = float(counts.max() / max(counts.min(), 1))
        if imbalance >= IMBALANCE_WARNING_RATIO:
            rare = dataset.classes[int(counts.argmin())]
            alerts.append(Alert(
                code="class_imbalance", severity="warning",
                message=f"Classes are imbalanced {imbalance:.0f}:1 (rarest '{rare}': {min_per_class} rows); "
                "judge models by balanced accuracy or ROC-AUC, not accuracy.",
            ))
    else:
        target_summary = {
            "mean": float(y.mean()), "std": float(y.std()), "min": float(y.min()), "max": float(y.max())
        }
        counts, edges = np.histogram(y, bins=30)
        target_histogram = (tuple(float(e) for e in edges), tuple(int(c) for c in counts))

    datetime_columns = tuple(c.name for c in columns if c.kind == "datetime")
    if datetime_columns and dataset.time_column is None:
        alerts.append(Alert(
            code="time_columns", severity="warning", column=datetime_columns[0],
            message=f"Date column(s) {', '.join(datetime_columns)} found: if rows arrive over time, random folds "
            f"let the model peek at the future; pass --time-col {datetime_columns[0]} for time-ordered folds.",
        ))

    scores, id_scores = _univariate_scores(dataset, columns, seed=seed)
    leaks = tuple(s for s in scores if _leak_severity(s))
    for leak in leaks:
        critical = _leak_severity(leak) == "critical"
        strength = "predicts the target almost perfectly" if critical else "is suspiciously predictive"
        score = f"{_metric_label(leak.metric)} {leak.score:.3f}"
        if leak.column in dataset.trusted_columns:
            alerts.append(Alert(
                code="leakage_suspect", severity="info", column=leak.column,
                message=f"'{leak.column}' alone {strength} ({score}); you confirmed it is known at prediction "
                "time (--known-at-prediction), so it is kept and does not block.",
            ))
            continue
        alerts.append(Alert(
            code="leakage_suspect", severity=_leak_severity(leak), column=leak.column,
            message=f"'{leak.column}' alone {strength} ({score}); confirm it is known when predictions are made "
            f"and is not recorded after or derived from the outcome, else remove it with --drop {leak.column}.",
        ))
    for id_score in id_scores:
        if (id_score.metric == "roc_auc" and id_score.score >= ID_SIGNAL_AUC) or (
            id_score.metric == "r2" and id_score.score >= ID_SIGNAL_R2
        ):
            alerts.append(Alert(
                code="id_with_signal", severity="warning", column=id_score.column,
                message=f"Identifier '{id_score.column}' predicts the target ({_metric_label(id_score.metric)} "
                f"{id_score.score:.2f}): rows were probably sorted or numbered by outcome; it is excluded from "
                "the models, but check how the file was built.",
            ))

    sufficiency = _data_sufficiency(rows, columns, min_per_class)
    if sufficiency.verdict == "insufficient":
        alerts.append(Alert(code="little_data", severity="warning", message=sufficiency.reason))

    return DatasetProfile(
        rows=rows,
        feature_columns=len(columns),
        target=dataset.target_name,
        task=dataset.task,
        task_rule=dataset.task_rule,
        columns=columns,
        duplicate_rows=duplicate_rows,
        conflicting_duplicate_rows=conflicting,
        class_counts=class_counts,
        imbalance_ratio=imbalance,
        min_rows_per_class=min_per_class,
        target_summary=target_summary,
        target_histogram=target_histogram,
        datetime_columns=datetime_columns,
        leakage_suspects=leaks,
        strongest_single_columns=tuple(sorted(scores, key=lambda s: -s.score)[:5]),
        data_sufficiency=sufficiency,
        alerts=tuple(sorted(alerts, key=lambda a: ("critical", "warning", "info").index(a.severity))),
        sampled_checks=_sampled_checks(frame, columns, scores + id_scores, rows=rows, streamed=scan is not None),
    )


def _sampled_checks(
    frame: pd.DataFrame, columns: tuple[ColumnProfile, ...], screens: list[UnivariateScore], *, rows: int,
    streamed: bool
) -> tuple[SampledCheck, ...]:
    """Which checks read a sample of the `rows`, and how many, so the report can say so. A streamed table's frame
    is its row sample."""
    sampled = []
    if screens and (len(frame) > LEAKAGE_SAMPLE_ROWS or streamed):
        sampled.append(SampledCheck(check="single-column screens (leakage, strongest columns, identifiers)",
                                    rows=min(LEAKAGE_SAMPLE_ROWS, len(frame)), of_rows=rows))
    if streamed:
        sampled.append(SampledCheck(check="kind of each column (rows, missing values, distinct values, duplicates "
                                    "and classes read every row)", rows=len(frame), of_rows=rows))
    if any(_read_as_text(frame[c.name]) and frame[c.name].count() > KIND_SAMPLE_VALUES
           for c in columns if c.kind != "constant"):
        sampled.append(SampledCheck(check="kind of each text column (true/false words, dates, free text, paths)",
                                    rows=KIND_SAMPLE_VALUES, of_rows=rows))
    return tuple(sampled)


def _read_as_text(column: pd.Series) -> bool:
    """Whether `_infer_kind` reads the column's values as text (a sample of them)."""
    return not (pd.api.types.is_bool_dtype(column) or pd.api.types.is_datetime64_any_dtype(column)
                or pd.api.types.is_numeric_dtype(column))


def _duplicates(keys: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    """Rows that repeat another row exactly (target included), and rows whose features repeat with another target.

    Rows are compared by a 64-bit hash of their features (`load.row_hashes`), one pass over every row: two different
    rows of a 1,000,000-row table share a hash with odds of about 1 in 30 million, and comparing the columns
    themselves (`DataFrame.duplicated`, twice) took 2 s there. Only rows whose hash repeats are looked at further.
    """
    ordered = np.sort(keys)
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    if len(repeats) == 0:
        return 0, 0
    rows = np.isin(keys, repeats)
    keys, y = keys[rows], y[rows]
    order = np.lexsort((y, keys))
    keys, y = keys[order], y[order]
    new_key = np.r_[True, keys[1:] != keys[:-1]]
    new_pair = new_key | np.r_[True, y[1:] != y[:-1]]
    duplicate_rows = int(len(keys) - new_pair.sum())
    key_number = np.cumsum(new_key) - 1
    targets_per_key = np.bincount(key_number[new_pair])
    conflicting = int(np.bincount(key_number)[targets_per_key > 1].sum())
    return duplicate_rows, conflicting


def profile_column(
    column: pd.Series, *, n_rows: int, scan: ColumnScan | None = None, scanned_rows: int = 0
) -> ColumnProfile:
    """Infer one column's kind from its values (and, for identifiers, its name). With the `scan` of every one of
    `scanned_rows` rows (a streamed table, `column` its row sample), the missing share and distinct values are those
    of every row, and the kind is read from the sample where the scan does not tell it."""
    values = column.dropna()
    if scan is None:
        cardinality = int(values.nunique())
        present, unique_share = len(values), cardinality / len(values) if len(values) else 0.0
        missing_share = float(column.isna().mean()) if n_rows else 0.0
    else:
        cardinality, present = scan.distinct, scanned_rows - scan.missing
        # past the cap, the sample's share of distinct values stands in for the table's
        unique_share = values.nunique() / len(values) if scan.distinct_capped and len(values) else (
            cardinality / present if present else 0.0)
        missing_share = scan.missing / scanned_rows
    kind, note = _infer_kind(column, values, cardinality, present=present, unique_share=unique_share, scan=scan)
    return ColumnProfile(
        name=str(column.name),
        kind=kind,
        dtype=str(column.dtype),
        missing_share=missing_share,
        cardinality=cardinality,
        note=note,
        cardinality_capped=scan is not None and scan.distinct_capped,
    )


def _infer_kind(
    column: pd.Series, values: pd.Series, cardinality: int, *, present: int, unique_share: float,
    scan: ColumnScan | None
) -> tuple[ColumnKind, str]:
    n = present
    if cardinality <= 1:
        return "constant", "all missing" if n == 0 else "a single value"
    if pd.api.types.is_bool_dtype(column):
        return "boolean", ""
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime", ""
    if pd.api.types.is_numeric_dtype(column):
        if cardinality == 2 and set(np.unique(values)) <= {0, 1}:
            return "boolean", "0/1"
        if scan is not None:
            integer = scan.integer_valued
        else:
            integer = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        if integer and unique_share == 1.0 and n > 20:
            ordered = scan.consecutive if scan is not None else np.all(np.diff(values.to_numpy()) == 1)
            if ordered or ID_NAME.search(str(column.name)):
                return "id_like", "every value unique" + (", consecutive" if ordered else "")
        return "numeric", ""

    sample = (values.sample(KIND_SAMPLE_VALUES, random_state=0) if len(values) > KIND_SAMPLE_VALUES
              else values).astype(str)
    lowered = set(sample.str.strip().str.lower().unique())
    if cardinality == 2 and lowered <= BOOLEAN_WORDS:
        return "boolean", ""
    if sample.str.lower().str.strip().str.endswith(IMAGE_SUFFIXES).mean() >= 0.9:
        return "image_path", ""
    if sample.str.match(DATE_LIKE).mean() >= 0.95:
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() >= 0.95:
            return "datetime", "parsed from text"
    words = sample.str.split().str.len()
    if words.mean() >= 4 and unique_share >= 0.3:
        return "text", f"{words.mean():.0f} words on average"
    if unique_share >= 0.98 and n > 20:
        return "id_like", "nearly every value unique"
    return "categorical", ""


def _column_alerts(columns: tuple[ColumnProfile, ...]) -> list[Alert]:
    alerts = []
    for col in columns:
        if col.kind == "constant":
            alerts.append(Alert(
                code="constant_column", severity="info", column=col.name,
                message=f"'{col.name}' is constant ({col.note}) and carries no information; it is ignored.",
            ))
        elif col.kind == "id_like":
            alerts.append(Alert(
                code="id_column", severity="info", column=col.name,
                message=f"'{col.name}' looks like an identifier ({col.note}); it is excluded from the models.",
            ))
        elif col.kind in ("text", "image_path"):
            what = "free text" if col.kind == "text" else "image paths"
            alerts.append(Alert(
                code=f"{col.kind}_column", severity="info", column=col.name,
                message=f"'{col.name}' holds {what}; the tabular candidates do not read it, so its signal is "
                "not in these scores.",
            ))
        elif col.kind == "categorical" and col.cardinality >= ENTITY_MIN_LEVELS:
            alerts.append(Alert(
                code="many_levels", severity="info", column=col.name,
                message=f"'{col.name}' has {'over ' if col.cardinality_capped else ''}{col.cardinality:,} levels, so "
                "one-hot encoding keeps only the most frequent; if it names an entity spanning several rows (a "
                f"customer, a case), pass --group-col {col.name} so one entity never sits on both sides of a fold.",
            ))
        if col.missing_share >= HIGH_MISSING_SHARE and col.kind != "constant":
            alerts.append(Alert(
                code="high_missing", severity="warning", column=col.name,
                message=f"'{col.name}' is {col.missing_share:.0%} missing; it is imputed with a missing-flag, "
                "but ask why it is missing, since the reason may itself leak the outcome.",
            ))
    return alerts


def _univariate_scores(
    dataset: Dataset, columns: tuple[ColumnProfile, ...], *, seed: int
) -> tuple[list[UnivariateScore], list[UnivariateScore]]:
    """Cross-validated score of each single column, for tabular columns and identifiers."""
    y = dataset.y
    rows = np.arange(len(y))
    if len(rows) > LEAKAGE_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, LEAKAGE_SAMPLE_ROWS, replace=False))
    y = y[rows]
    if dataset.is_classification and np.bincount(y).min() < SCREEN_FOLDS:
        return [], []
    folds = _screen_folds(y, dataset.is_classification, seed)

    scores, id_scores = [], []
    for col in columns:
        if col.kind not in (*TABULAR_KINDS, "id_like"):
            continue
        values = dataset.features[col.name].iloc[rows].reset_index(drop=True)
        score = _single_column_score(values, y, col.kind, dataset.task, folds, len(dataset.classes))
        metric = "r2" if dataset.task == "regression" else "roc_auc"
        result = UnivariateScore(column=col.name, metric=metric, score=round(score, 4))
        (id_scores if col.kind == "id_like" else scores).append(result)
    return scores, id_scores


def _screen_folds(y: np.ndarray, stratified: bool, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`SCREEN_FOLDS` (train, test) row splits: the very folds scikit-learn's StratifiedKFold (classification) or KFold
    (regression) with shuffle=True and random_state=seed draws, which the cuts were calibrated on."""
    rng = np.random.RandomState(seed)
    if stratified:  # each class's fold numbers, dealt round-robin over the sorted labels, then shuffled
        _, first_row, codes = np.unique(y, return_index=True, return_inverse=True)
        codes = np.unique(first_row, return_inverse=True)[1][codes]  # classes numbered by first appearance
        dealt = np.sort(codes)
        allocation = np.array([np.bincount(dealt[k::SCREEN_FOLDS], minlength=len(first_row))
                               for k in range(SCREEN_FOLDS)])
        fold = np.empty(len(y), dtype=np.int64)
        for label in range(len(first_row)):
            folds_of_class = np.arange(SCREEN_FOLDS).repeat(allocation[:, label])
            rng.shuffle(folds_of_class)
            fold[codes == label] = folds_of_class
    else:  # shuffled rows cut into consecutive folds, the first ones a row longer
        order = np.arange(len(y))
        rng.shuffle(order)
        sizes = np.full(SCREEN_FOLDS, len(y) // SCREEN_FOLDS)
        sizes[: len(y) % SCREEN_FOLDS] += 1
        fold = np.empty(len(y), dtype=np.int64)
        fold[order] = np.arange(SCREEN_FOLDS).repeat(sizes)
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(SCREEN_FOLDS)]


def _single_column_score(
    values: pd.Series, y: np.ndarray, kind: str, task: str, folds: list, n_classes: int
) -> float:
    """ROC-AUC (one-vs-rest for several classes) or R² of out-of-fold predictions from this column alone: a tree's
    (`_tree_predictions`), or a category's class shares."""
    as_codes = kind == "categorical" or (kind == "id_like" and not pd.api.types.is_numeric_dtype(values))
    if kind == "datetime":
        x = pd.to_datetime(values, errors="coerce", format="mixed").astype("int64").astype(float).to_numpy()
    elif as_codes or kind == "boolean" and not pd.api.types.is_numeric_dtype(values):
        x = pd.Series(pd.Categorical(values.astype("string")).codes, dtype=float).replace(-1, np.nan).to_numpy()
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    # Identifiers get coarse leaves so a tree cannot memorise noise in a random ordering.
    min_leaf = max(20, len(y) // 100) if kind == "id_like" else SCREEN_MIN_LEAF
    regression = task == "regression"
    predictions = np.zeros(len(y)) if regression else np.zeros((len(y), n_classes))
    for train, test in folds:
        if as_codes and not regression:
            predictions[test] = _category_rates(x[train], y[train], x[test], n_classes)
        else:
            predictions[test] = _tree_predictions(x[train], y[train], x[test], n_classes=0 if regression else n_classes,
                                                  min_leaf=min_leaf)
    if regression:
        return _r2(y, predictions)
    if n_classes == 2:
        return _roc_auc(y == 1, predictions[:, 1])
    return float(np.mean([_roc_auc(y == k, predictions[:, k]) for k in range(n_classes)]))


def _category_rates(train_codes: np.ndarray, y: np.ndarray, test_codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Class frequencies per category, learnt on the training fold (Laplace-smoothed); unseen -> prior."""
    train_codes = np.nan_to_num(train_codes, nan=-1).astype(int) + 1
    test_codes = np.nan_to_num(test_codes, nan=-1).astype(int) + 1
    size = max(train_codes.max(), test_codes.max()) + 1
    counts = np.zeros((size, n_classes))
    np.add.at(counts, (train_codes, y), 1)
    prior = np.bincount(y, minlength=n_classes) / len(y)
    rates = (counts + prior) / (counts.sum(axis=1, keepdims=True) + 1)
    return rates[test_codes]


def _tree_predictions(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, *, n_classes: int, min_leaf: int
) -> np.ndarray:
    """Fit a depth-`SCREEN_DEPTH` tree on one column of the training fold and predict the test fold: class shares
    (n_classes > 0) or the mean target of the leaf.

    It grows as scikit-learn's DecisionTreeClassifier/Regressor(max_depth=8, min_samples_leaf) grows on one feature
    (values read as float32, Gini or squared error, the first best split, missing values sent to the better side or
    split off alone, else to the larger child), on the target summed per distinct value."""
    x = train_x.astype(np.float32).astype(float)
    missing = np.isnan(x)
    cuts = _split_points(x[~missing])
    codes = np.searchsorted(cuts, x[~missing], side="left")
    n_bins = len(cuts) + 1
    if n_classes:
        rows = np.eye(n_classes)[train_y]
        centre = 0.0
    else:  # count, sum, squared sum of the centred target (centred: the sums stay precise)
        centre = float(train_y.mean())
        shifted = train_y - centre
        rows = np.column_stack([np.ones(len(x)), shifted, shifted ** 2])
    per_bin = np.zeros((n_bins, rows.shape[1]))
    np.add.at(per_bin, codes, rows[~missing])
    prefix = np.vstack([np.zeros(rows.shape[1]), np.cumsum(per_bin, axis=0)])
    missing_rows = rows[missing].sum(axis=0)

    leaf_of_bin = np.zeros(n_bins, dtype=np.int64)
    leaves: list[np.ndarray] = []
    missing_leaf = 0
    # (first bin, end bin, holds the missing rows, is where a missing value would go, depth)
    stack = [(0, n_bins, bool(missing.any()), True, 0)]
    while stack:
        lo, hi, with_missing, missing_path, depth = stack.pop()
        node = prefix[hi] - prefix[lo] + (missing_rows if with_missing else 0)
        count = node.sum() if n_classes else node[0]
        split = None
        if depth < SCREEN_DEPTH and count >= 2 * min_leaf and hi > lo and not _pure(node, n_classes):
            split = _best_split(prefix, lo, hi, missing_rows if with_missing else None, n_classes, min_leaf)
        if split is None:
            leaf_of_bin[lo:hi] = len(leaves)
            if missing_path:
                missing_leaf = len(leaves)
            leaves.append(node / count if n_classes else np.array([node[1] / count + centre]))
            continue
        cut, missing_left = split  # cut == hi: every value left, the missing rows alone right
        if not with_missing:  # no missing rows here: a missing value would follow the larger side
            left = prefix[cut] - prefix[lo]
            left_count = left.sum() if n_classes else left[0]
            missing_left = left_count > count - left_count
        stack.append((cut, hi, with_missing and not missing_left, missing_path and not missing_left, depth + 1))
        stack.append((lo, cut, with_missing and missing_left, missing_path and missing_left, depth + 1))
    test = test_x.astype(np.float32).astype(float)
    leaf = np.where(np.isnan(test), missing_leaf, leaf_of_bin[np.searchsorted(cuts, test, side="left")])
    values = np.array(leaves)[leaf]
    return values if n_classes else values[:, 0]


def _split_points(present: np.ndarray) -> np.ndarray:
    """Thresholds a tree may split at: halfway between consecutive distinct values (a value within 1e-7 of the
    previous one counts as the same, as in scikit-learn)."""
    present = np.sort(present)
    starts = np.flatnonzero(present[1:] > present[:-1] + 1e-7) + 1  # rows that begin a new value
    return present[starts - 1] / 2.0 + present[starts] / 2.0


def _pure(node: np.ndarray, n_classes: int) -> bool:
    if n_classes:
        return int((node > 0).sum()) <= 1
    return node[2] / node[0] - (node[1] / node[0]) ** 2 <= np.finfo(float).eps


def _best_split(
    prefix: np.ndarray, lo: int, hi: int, missing: np.ndarray | None, n_classes: int, min_leaf: int
) -> tuple[int, bool] | None:
    """The first best (cut, missing rows go left) of a node holding bins lo..hi-1 (and the missing rows, if given),
    in scikit-learn's order: missing rows right at each cut, then alone on the right, then left at each cut."""
    cuts = np.arange(lo + 1, hi)
    left, right = prefix[cuts] - prefix[lo], prefix[hi] - prefix[cuts]
    missing_left = np.zeros(len(cuts), dtype=bool)
    if missing is not None:
        every = prefix[hi] - prefix[lo]
        left = np.vstack([left, every, left + missing])
        right = np.vstack([right + missing, missing, right])
        missing_left = np.concatenate([missing_left, [False], ~missing_left])
        cuts = np.concatenate([cuts, [hi], cuts])
    if len(cuts) == 0:
        return None
    if n_classes:
        n_left, n_right = left.sum(axis=1), right.sum(axis=1)
    else:
        n_left, n_right = left[:, 0], right[:, 0]
    valid = (n_left >= min_leaf) & (n_right >= min_leaf)
    if not valid.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        if n_classes:  # scikit-learn's proxy for the Gini decrease
            gini_left = 1.0 - (left ** 2).sum(axis=1) / (n_left * n_left)
            gini_right = 1.0 - (right ** 2).sum(axis=1) / (n_right * n_right)
            proxy = -n_right * gini_right - n_left * gini_left
        else:  # ... and for the squared-error decrease
            proxy = left[:, 1] ** 2 / n_left + right[:, 1] ** 2 / n_right
    best = int(np.argmax(np.where(valid, proxy, -np.inf)))
    return int(cuts[best]), bool(missing_left[best])


def _roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive row outscores a negative one, ties counting half."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return float((_average_ranks(score)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing their average rank (as `scipy.stats.rankdata`)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _r2(y: np.ndarray, predictions: np.ndarray) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - predictions) ** 2).sum()) / total if total > 0 else 0.0


def _leak_severity(score: UnivariateScore) -> Severity | None:
    critical, suspect = (LEAKAGE_AUC, SUSPECT_AUC) if score.metric == "roc_auc" else (LEAKAGE_R2, SUSPECT_R2)
    if score.score >= critical:
        return "critical"
    return "warning" if score.score >= suspect else None


def _metric_label(metric: str) -> str:
    return {"roc_auc": "ROC-AUC", "r2": "R²"}[metric]


def _data_sufficiency(rows: int, columns: tuple[ColumnProfile, ...], min_per_class: int | None) -> DataSufficiency:
    kinds = {c.kind for c in columns}
    per_class = f"{min_per_class} rows in the rarest class" if min_per_class is not None else ""
    if kinds & {"text", "image_path"}:
        if min_per_class is None or min_per_class >= PRETRAINED_MIN_ROWS_PER_CLASS:
            return DataSufficiency(
                verdict="adequate",
                reason=f"{rows:,} rows{', ' + per_class if per_class else ''}: enough to fine-tune a "
                f"pretrained model (rule of thumb: ≥ {PRETRAINED_MIN_ROWS_PER_CLASS} per class).",
            )
        if min_per_class >= FROZEN_MIN_ROWS_PER_CLASS:
            return DataSufficiency(
                verdict="limited",
                reason=f"{per_class}: frozen pretrained embeddings with a simple head are realistic; full "
                f"fine-tuning usually wants ≥ {PRETRAINED_MIN_ROWS_PER_CLASS} per class.",
            )
        return DataSufficiency(
            verdict="insufficient",
            reason=f"Only {per_class}: too few for deep learning (rule of thumb: ≥ {FROZEN_MIN_ROWS_PER_CLASS} "
            "per class even with pretrained embeddings); collect more labelled examples first.",
        )
    if rows >= TABULAR_DEEP_MIN_ROWS:
        return DataSufficiency(
            verdict="adequate",
            reason=f"{rows:,} rows of tabular data: enough for a deep tabular model to be worth "
            f"measuring (below ~{TABULAR_DEEP_MIN_ROWS:,} rows tree ensembles usually win).",
        )
    return DataSufficiency(
        verdict="limited",
        reason=f"{rows:,} rows of tabular data: below ~{TABULAR_DEEP_MIN_ROWS:,} rows gradient-boosted "
        "trees usually match or beat deep models (Grinsztajn et al., NeurIPS 2022), so expect little lift.",
    )
