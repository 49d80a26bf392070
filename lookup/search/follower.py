"""The per-process index registry, and the Follower thread that applies the change feed after
a served request wrote."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from lookup.search.storage import SearchIndex

log = logging.getLogger(__name__)

_indexes: dict[str, SearchIndex] = {}
_indexes_lock = threading.Lock()


def index_for(directory: str) -> SearchIndex:
    """The process's index for a directory (opened after gunicorn forks, at first use)."""
    key = f"{os.getpid()}:{directory}"
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = SearchIndex(directory)
        return _indexes[key]


@atexit.register
def _close_all() -> None:
    """Close every open index as the process ends (its segment files, quietly), after the
    followers' running batches."""
    _stop_followers()
    with _indexes_lock:
        indexes = list(_indexes.values())
        _indexes.clear()
    for index in indexes:
        index.close()


def forget(directory: str) -> None:
    """Close and drop the process's index for a directory (an app that is done: tests)."""
    _stop_followers(directory)
    with _indexes_lock:
        index = _indexes.pop(f"{os.getpid()}:{directory}", None)
    if index is not None:
        index.close()


FOLLOW_RETRY = 1.0  # seconds before the follower tries again when it could not apply everything


class Follower:
    """Applies the change feed in a thread of its own, so that a plan write answers without
    waiting for the index (two thirds of a plan write's time at 1 000 000 persons).

    One per process and app, started by the first write a served request makes; every commit
    that changed plans wakes it, and what piled up while it was applying goes in one batch (one
    whoosh commit for several writes). Nothing is lost if the process ends: the feed is in the
    database. A plan is still found at once: a lookup applies the feed itself before it searches
    (lookup.operations.find), waiting for the follower's batch to finish if one is running.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="samenop-index-follower", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Let a batch that is running finish (its whoosh commit), then end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            if apply_feed(self.app) and not self._stopping:
                time.sleep(FOLLOW_RETRY)  # the writer lock was busy (a compaction): try again
                self._wake.set()


def apply_feed(app: Any) -> bool:
    """Apply the change feed to the process's index; whether it is still behind after (the
    writer lock was busy, or the feed could not be read)."""
    from registry.core.db import db

    try:
        # a read-only transaction: on SQLite it must not hold the write lock that every lookup's
        # audit row waits for while whoosh writes
        with app.app_context(), db.reading() as session:
            return index_for(app.config["INDEX_DIR"]).follow(session)
    except Exception:
        # the change is committed; the next lookup applies it (it checks the feed first)
        log.exception("search index could not follow the change feed now")
        return True


#: (process, index directory, app) -> its follower
_followers: dict[tuple[int, str, int], Follower] = {}


def _follower_for(app: Any) -> Follower:
    key = (os.getpid(), app.config["INDEX_DIR"], id(app))
    with _indexes_lock:
        if key not in _followers:
            _followers[key] = Follower(app)
        return _followers[key]


def _stop_followers(directory: str | None = None) -> None:
    with _indexes_lock:
        keys = [
            key for key in _followers if key[0] == os.getpid() and (directory is None or key[1] == directory)
        ]
        followers = [_followers.pop(key) for key in keys]
    for follower in followers:
        follower.stop()


def follow_registry(app: Any) -> None:
    """After every commit that changed plans (and after `samenop init`), apply the change feed:
    in the Follower thread when a served request wrote, else (the command line: the process
    ends when the command does) before going on."""
    from flask import has_request_context

    from registry.core import signals

    def _apply(sender: Any, **_extra: Any) -> None:
        if sender is not app:
            return
        if has_request_context():
            _follower_for(app).nudge()
        else:
            apply_feed(app)

    def _expunge(sender: Any, plan_ids: frozenset[Any] = frozenset(), **_extra: Any) -> None:
        if sender is not app:
            return
        expunge_purged(app, plan_ids)

    signals.plans_changed.connect(_apply, weak=False)
    signals.database_ready.connect(_apply, weak=False)
    signals.plans_purged.connect(_expunge, weak=False)


def expunge_purged(app: Any, plan_ids: Any) -> int:
    """After a retention purge: the feed applied (the plans' documents deleted), then the
    segments still holding their words rewritten, so the names are off the disk as well as out
    of the database. Runs where the purge ran (the command line), before it ends; returns the
    number of segments rewritten."""
    index = index_for(app.config["INDEX_DIR"])
    if apply_feed(app):
        # the writer lock stayed busy: the documents may not be deleted yet, rewriting would keep them
        log.error("search index could not apply the purge now; run `samenop index rebuild` to rewrite it")
        return 0
    return index.expunge(str(plan_id) for plan_id in plan_ids)
