"""Which segments a commit merges: the merge policy, pure. storage.merge_tiers hands it whoosh's
segments (anything with doc_count(), the live documents, will do) and reads the chosen ones into
the segment being written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Merging: each write adds a segment. Segments fall in tiers by size (tier k: 4^k to 4^(k+1) - 1
# live documents); when a tier holds MERGE_FACTOR segments, they are merged, with every smaller
# one, into one segment of the next tier. whoosh merges at 0.2-0.4 ms per document with the writer
# lock held: a write's commit merges the highest full tier within MERGE_BUDGET documents (every
# fourth write a few dozen); the bigger merges are `samenop index compact` (cron, every few
# minutes). Only when MAX_SEGMENTS pile up (each slows searching) does a commit merge the cheapest
# full tier whatever it costs. The big segments of a rebuild are left alone. (whoosh's own
# MERGE_SMALL never merges mid-sized segments: past 8 segments every commit paid for a merge.
# Merging after the response instead, in a commit of its own, cost more CPU in all and made
# the writes slower under load: measured.)
MERGE_FACTOR = 4
MERGE_BUDGET = 160
MAX_SEGMENTS = 40


def _tier(segment: Any) -> int:
    return (max(1, segment.doc_count()).bit_length() - 1) // 2  # log4


def due(segments: Sequence[Any], budget: int | None) -> list[Any]:
    """The segments to merge: the highest full tier whose documents, with those of every
    smaller segment, fit in `budget` (None: no limit); when none fits and MAX_SEGMENTS are
    reached, the lowest full tier (the cheapest merge); else none."""
    tiers: dict[int, list[Any]] = {}
    for segment in sorted(segments, key=lambda segment: segment.doc_count()):
        tiers.setdefault(_tier(segment), []).append(segment)
    full: list[list[Any]] = []
    smaller: list[Any] = []
    for tier in sorted(tiers):
        members = tiers[tier]
        if len(members) >= MERGE_FACTOR:
            # the tier's smallest MERGE_FACTOR segments, and every segment of the tiers below
            full.append(smaller + members[:MERGE_FACTOR])
        smaller += members
    within = [group for group in full if budget is None or sum(s.doc_count() for s in group) <= budget]
    if within:
        return within[-1]
    if full and len(segments) >= MAX_SEGMENTS:
        return full[0]
    return []
