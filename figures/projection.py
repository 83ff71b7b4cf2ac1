"""Projection: whether a figure is a forecast or plan ("expected to reach 10,000 by December")
rather than a count of what is."""

from __future__ import annotations

import re

from newsmon.figures.clauses import clause_span

# Cues in the clause before the figure. Case matters: "may" is a modal, "May" a month.
_BEFORE = re.compile(
    r"\b(?:will|would|could|may|might|shall|expects?|(?<!than )expected|expecting|plans?\s+to"
    r"|planned|planning|aims?\s+to|aiming|target\s+of|targets?\s+to|projected|projects?|projections?"
    r"|(?<!than )forecasts?|predicted|predicts?|set\s+to|likely|going\s+to|intends?\s+to"
    r"|proposed|guidance|outlook|(?:is|are)\s+to\s+be|next\s+year|next\s+month"
    r"|(?:agreed|agrees|agree|pledged|pledges|promised|promises|vowed|vows|seeks?|wants?|hopes?"
    r"|intended|intends?|aimed|targets?|preparing|prepares|prepared|poised|ready|about|threatens?"
    r"|threatened)\s+to(?!\s+(?:a|an|the|its|their|his|her)\b)|considering|weighing)\b"
)
# Cues after the figure, in its own clause ("12,000 troops could be", "fans are expected").
_AFTER = re.compile(
    r"\b(?:will|would|could|may|might|(?:is|are|was|were)\s+(?:expected|set|due|likely|projected"
    r"|forecast|planned)|(?:had|have|has)\s+(?:forecast|expected|predicted|projected)"
    r"|by\s+(?:the\s+end\s+of|next|January|February|March|April|May|June|July|August|September"
    r"|October|November|December|20[2-9]\d))\b"
)
# After the figure, a relative clause belongs to the counted noun ("10,000 soldiers who are
# likely to join the fighting" is a count), so the search stops there.
_AFTER_STOP = re.compile(r"[,;.]|\b(?:who|which|that|whom|whose)\b")
# Before the figure, a cue governs it only when nothing in between starts another predicate:
# a reporting verb, a subordinating word, a comma, or a perfect infinitive ("likely to have sent").
_GOVERNANCE_BREAK = re.compile(
    r"\b(?:said|says|say|told|tells|reported|announced|added|noted|estimated|believes"
    r"|after|when|because|since|while|although|though|if|unless|once|until|as|to\s+have)\b"
)
_RELATIVE_OPENING = re.compile(r",\s+(?:which|who)\s+$")
_WINDOW = 200  # characters read either side of a figure, however long its clause
_CONJUNCTION_BEFORE = re.compile(r"\b(?:and|but|or)\s+$")


def is_projection(sentence: str, start: int, end: int) -> bool:
    """Whether the figure at [start, end) of `sentence` is forecast, planned or conditional."""
    c_start, c_end = clause_span(sentence, start, end)
    c_start, c_end = max(c_start, start - _WINDOW), min(c_end, end + _WINDOW)
    if _RELATIVE_OPENING.search(sentence, max(0, c_start - 9), c_start):
        comma = sentence.find(",", c_start, start)  # ", which plans to expand, employs 4,000"
        c_start = comma + 1 if comma >= 0 else c_start
    for brk in _GOVERNANCE_BREAK.finditer(sentence, c_start, start):
        c_start = brk.end()
    if _BEFORE.search(sentence, c_start, start):
        return True
    stop = _AFTER_STOP.search(sentence, end, c_end)
    after_end = stop.start() if stop else c_end
    for m in _AFTER.finditer(sentence, end, after_end):
        # "... homes without power and could dump ...": a new predicate, not this figure's
        if not _CONJUNCTION_BEFORE.search(sentence, max(end, m.start() - 5), m.start()):
            return True
    return False
