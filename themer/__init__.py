"""themer: NPS feedback theming -- tag comments with product areas and theme types, then measure.

The library is importable without side effects; nothing is loaded at import time.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
