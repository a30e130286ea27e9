"""dladvisor: is deep learning worth it for this dataset, at these stakes, at this cost?

The pipeline is load -> profile -> benchmark -> cost -> explain -> recommend -> report; `assess` runs it all:

    import dladvisor
    assessment = dladvisor.assess(df, target="label", stakes="high", time_budget="2m")
    assessment.passed(), assessment.to_json(), assessment.write("reports/mine")
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["AssessConfig", "Assessment", "UserError", "__version__", "assess"]


def __getattr__(name: str):
    # Lazy, so `import dladvisor` (and `dladvisor --help`) stays instant.
    if name == "assess":
        from dladvisor.api import assess

        return assess
    if name == "Assessment":
        from dladvisor.assessment import Assessment

        return Assessment
    if name == "AssessConfig":
        from dladvisor.config import AssessConfig

        return AssessConfig
    if name == "UserError":
        from dladvisor.errors import UserError

        return UserError
    raise AttributeError(name)
