"""figures: text in, figure records out. Pure: no I/O, no database, no configuration."""

from newsmon.figures.extract import extract_figures
from newsmon.figures.quantities import assign_quantities, unit_lemma
from newsmon.figures.record import Figure

__all__ = ["Figure", "assign_quantities", "extract_figures", "unit_lemma"]
