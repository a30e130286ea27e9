"""Base class for the frozen result objects every stage returns."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """An immutable result; `model_dump(mode="json")` is its JSON form."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
