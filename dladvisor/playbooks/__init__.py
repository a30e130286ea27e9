"""Playbooks: versioned YAML that says what a deployment at given stakes requires of the measurements.

The bundled playbooks are `NAME.yaml` files in this package's folder (package data, so a wheel carries them). A
playbook named on the command line is looked for there first, then in the user folders (`user_dirs`: each folder of
`$DLADVISOR_PLAYBOOKS`, then `$XDG_CONFIG_HOME/dladvisor/playbooks`, by default `~/.config/dladvisor/playbooks`);
any YAML file can also be given by its path. A playbook is read with `yaml.safe_load` (tags are never executed), may
reuse another with `include: NAME` (its criteria are merged key by key, the including file winning), and is
validated with errors that name the key and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_serializer, field_validator

from dladvisor.criteria import CRITERIA, LEVELS  # noqa: F401  (re-exported: the criteria playbooks may name)
from dladvisor.errors import UserError

# The bundled playbooks sit beside this module as package data (pyproject.toml's package-data), in a wheel too.
BUNDLED_DIR = Path(__file__).resolve().parent
# Folders of user playbooks, separated like PATH; searched before the per-user config folder.
USER_DIRS_ENV = "DLADVISOR_PLAYBOOKS"
STAKES_PLAYBOOK = {"low": "low-stakes-automation", "medium": "default", "high": "high-stakes"}


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: float | str
    on_breach: Literal["FAIL", "WARN"] = "WARN"


class Risk(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    risk: str
    mitigation: str


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int
    stakes: Literal["low", "medium", "high"]
    description: str
    examples: tuple[str, ...] = ()
    intended_use: str = ""
    criteria: dict[str, Criterion] = {}
    risks: tuple[Risk, ...] = ()
    source: str = ""

    @field_validator("criteria")
    @classmethod
    def _known_criteria(cls, criteria: dict[str, Criterion]) -> dict[str, Criterion]:
        for name, criterion in criteria.items():
            if name not in CRITERIA:
                raise ValueError(f"unknown criterion '{name}'; known: {', '.join(CRITERIA)}")
            CRITERIA[name].validate_limit(criterion.limit)
        return criteria

    @field_serializer("source", when_used="json")
    def _shown_source(self, source: str) -> str:
        """In report.json: 'bundled: NAME.yaml', or the file relative to the working folder (its name when outside):
        a report is shared, and absolute paths say where someone's home folder is, not which playbook judged."""
        if not source:
            return source
        path = Path(source)
        if is_bundled(path):
            return f"bundled: {path.name}"
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return path.name


def user_dirs() -> list[Path]:
    """The folders searched for user playbooks, in order: each folder in `$DLADVISOR_PLAYBOOKS`, then the per-user
    config folder (`$XDG_CONFIG_HOME/dladvisor/playbooks`, `~/.config/dladvisor/playbooks` when unset)."""
    listed = [Path(d).expanduser() for d in os.environ.get(USER_DIRS_ENV, "").split(os.pathsep) if d.strip()]
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return [*listed, Path(config_home).expanduser() / "dladvisor" / "playbooks"]


def playbook_files() -> dict[str, Path]:
    """Every playbook found by name, name -> file. The bundled folder comes first and a name found twice keeps its
    first file, so a bundled name means the same criteria on every machine (a user file of that name is shadowed)."""
    found: dict[str, Path] = {}
    for folder in (BUNDLED_DIR, *user_dirs()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def shadowed() -> list[Path]:
    """User playbook files never reached by name because an earlier folder has a playbook of the same name."""
    kept = playbook_files()
    return [p for folder in user_dirs() if folder.is_dir() for p in sorted(folder.glob("*.yaml")) if kept[p.stem] != p]


def is_bundled(path: Path | str) -> bool:
    return Path(path).resolve().parent == BUNDLED_DIR


def available() -> list[str]:
    return sorted(playbook_files())


def resolve(name_or_file: str | None, *, stakes: str | None = None, modality: str = "tabular") -> Playbook:
    """The playbook named (or at the path) given, else the one that suits the stakes (medium text: `language`)."""
    if name_or_file:
        return load_playbook(name_or_file)
    if stakes is not None and stakes not in STAKES_PLAYBOOK:
        raise UserError(f"Unknown --stakes '{stakes}'; use low, medium or high.")
    if (stakes or "medium") == "medium" and modality == "text":
        return load_playbook("language")
    return load_playbook(STAKES_PLAYBOOK[stakes or "medium"])


def load_playbook(name_or_file: str, _seen: tuple[str, ...] = ()) -> Playbook:
    path = _locate(name_or_file)
    if str(path.resolve()) in _seen:
        raise UserError(f"Playbook {path}: 'include' loops back to it; remove the cycle.")
    raw = _read_yaml(path)
    include = raw.pop("include", None)
    if include is not None:
        if not isinstance(include, str):
            raise UserError(f"Playbook {path}: 'include' must be one playbook name; fix it, e.g. include: default.")
        if include.endswith((".yaml", ".yml")):
            include = str(path.parent / include)  # a file is found next to the playbook that includes it
        base = load_playbook(include, _seen=(*_seen, str(path.resolve()))).model_dump(exclude={"source"})
        if not isinstance(raw.get("criteria", {}), dict) or not isinstance(raw.get("risks", []), list):
            raise UserError(f"Playbook {path}: 'criteria' must be a mapping and 'risks' a list.")
        raw = {
            **base, **raw,
            "criteria": {**base["criteria"], **raw.get("criteria", {})},  # the including playbook wins per key
            "risks": [*base["risks"], *[r for r in raw.get("risks", []) if r not in base["risks"]]],
        }
    try:
        return Playbook(**raw, source=str(path))
    except ValidationError as exc:
        raise UserError(f"Playbook {path}: {_first_error(exc)}") from None
    except TypeError as exc:
        raise UserError(f"Playbook {path}: {exc}; the top level must be a mapping of keys.") from None


def _locate(name_or_file: str) -> Path:
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise UserError(f"Playbook file '{name_or_file}' not found; check the path.")
        return path
    found = playbook_files()
    if name_or_file not in found:
        import difflib

        close = difflib.get_close_matches(name_or_file, list(found), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UserError(f"Unknown playbook '{name_or_file}'; {hint}available: {', '.join(sorted(found))} (user "
                        "playbooks are read from the folders `dladvisor playbooks path` lists), or pass a YAML file.")
    return found[name_or_file]


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise UserError(f"Playbook {path} is not valid YAML{line}: {getattr(exc, 'problem', exc)}.") from None
    if not isinstance(raw, dict):
        raise UserError(f"Playbook {path} must be a mapping (name:, version:, stakes:, criteria: …).")
    return raw


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"key '{key}' is missing; add it."
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(Playbook.model_fields) if len(error["loc"]) == 1 else "limit, on_breach"
        return f"key '{key}' is not allowed; allowed keys here: {allowed}."
    return f"key '{key}': {message}."
