"""The search index: finding candidates for names and free-text addresses, fast.

The index holds one document per address and per person of every active plan's current
version, with names and streets folded by lookup.normalise. It follows the database through
the change feed (registry.core.models.PlanChange): whoever holds whoosh's writer lock applies the
changes after the last one applied, in order, so several gunicorn workers (or app servers)
never lose an update and never show users a lock error. The index is only a way to find
candidates: every hit is checked against the database before anyone sees it.

Typos are not searched with whoosh's FuzzyTerm (an automaton per word per segment: 40–130 ms
at 100 000 households). Each process keeps the distinct words of the name and street fields
(a few thousand, read per segment, so only new segments are read after a write); rapidfuzz
picks the words within one or two edits in well under a millisecond. Street words are indexed
joined with the house number ('kerkstraat:14') and first names with surnames ('jan:jong'), so a
lookup reads a few short posting lists instead of intersecting long ones, and stops at the first
`limit` documents (the caller scores them).

One home for each part; the rest of the app imports only this module:

    documents.py   what the index holds, read from the database, and the change feed
    storage.py     the index on disk, the only module that imports whoosh: schema, codec,
                   SearchIndex (open, follow the feed, compact, rebuild, the long-lived
                   searcher and its vocabulary)
    merging.py     which segments a commit merges
    candidates.py  candidate generation over a SearchIndex: typo variants, posting lists
    scoring.py     how well a candidate matches what was said, and the thresholds
    follower.py    one index per process and directory, and the thread that follows the feed

How it is used (lookup.operations.by_person, by_address_text):

    index = index_for(app.config["INDEX_DIR"])  # the process's index
    index.follow(session)                        # apply what the change feed has
    query = normalise.query_name("Jan Jansen")
    for hit in index.find_persons(query):        # candidates, unscored
        person_score(query, <hit's name>, born, <hit's birth date>)  # None: not shown
    # then the hits that scored are checked against the database
"""

from lookup.search.candidates import Hit
from lookup.search.documents import NO_DATE, document_count, latest_change, unapplied
from lookup.search.follower import apply_feed, follow_registry, forget, index_for
from lookup.search.scoring import address_score, name_score, person_score, same_name
from lookup.search.storage import SearchIndex
from lookup.search.storage import _Codec as _Codec  # the name the index's segments are pickled with

__all__ = [
    "NO_DATE",
    "Hit",
    "SearchIndex",
    "address_score",
    "apply_feed",
    "document_count",
    "follow_registry",
    "forget",
    "index_for",
    "latest_change",
    "name_score",
    "person_score",
    "same_name",
    "unapplied",
]
