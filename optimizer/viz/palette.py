"""The one colour palette of every chart: Okabe-Ito, safe for the common colour-vision deficiencies.

Okabe, M. and Ito, K. (2008), *Color Universal Design*. Colours carry meaning consistently:
vermillion is always the adversary / exposed supply, blue the coalition / free supply, grey what
is missing (unmet demand, "other"). Categorical series (hosts, coalitions, stages) cycle through
the remaining colours; a chart never needs colour alone to be read (lines also differ in dash,
bars carry hover labels).
"""

from __future__ import annotations

from collections.abc import Sequence

# The eight Okabe-Ito colours.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"  # neutral, for "other" and unmet demand

OKABE_ITO: tuple[str, ...] = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)

# Semantic colours.
ADVERSARY = VERMILLION  # adversary countries, exposed (adversary-tainted) supply
COALITION = BLUE  # coalition members, free supply
THIRD_PARTY = SKY_BLUE  # third countries that are neither
UNMET = GREY
KNEE = VERMILLION

# Categorical order for series that have no semantic colour (vermillion last: it means "adversary").
CATEGORICAL: tuple[str, ...] = (BLUE, ORANGE, BLUISH_GREEN, SKY_BLUE, REDDISH_PURPLE, YELLOW, BLACK, VERMILLION)

STAGE_COLOURS: dict[str, str] = {
    "mine": ORANGE,
    "separation": BLUISH_GREEN,
    "metal_alloy": SKY_BLUE,
    "magnet": REDDISH_PURPLE,
}

DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")

FONT_FAMILY = "Helvetica Neue, Helvetica, Arial, DejaVu Sans, sans-serif"


def categorical(index: int) -> str:
    """The index-th categorical colour (cycling)."""
    return CATEGORICAL[index % len(CATEGORICAL)]


def colour_map(names: Sequence[str], other: str | None = "Other") -> dict[str, str]:
    """A stable name -> colour map in the given order; `other` (if present) is grey."""
    mapping: dict[str, str] = {}
    i = 0
    for name in names:
        if other is not None and name == other:
            mapping[name] = GREY
            continue
        mapping[name] = categorical(i)
        i += 1
    return mapping


def stage_colour(stage: str, index: int = 0) -> str:
    """A stage's colour (known stages fixed, others categorical by position)."""
    return STAGE_COLOURS.get(stage, categorical(index))


def with_alpha(hex_colour: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)' for translucent fills and Sankey links."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
