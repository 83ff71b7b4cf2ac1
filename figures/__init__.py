"""figures: text in, figure records out. Pure: no I/O, no database, no configuration."""

from figures.extract import extract_figures
from figures.quantities import assign_quantities, unit_lemma
from figures.record import Figure

__all__ = ["Figure", "assign_quantities", "extract_figures", "unit_lemma"]
