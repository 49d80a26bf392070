"""Follow-up tasks of the caller's organisation: list the open ones, mark one done."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from registry.core.db import db
from registry.tasks import operations
from registry.tasks.schemas import TaskDoneArgs, TaskListSchema, TaskSchema
from registry.web import pagination
from registry.web.api import ApiError, api_user, parse, require_token
from registry.web.openapi import describe

bp = Blueprint("tasks_api", __name__, url_prefix="/api/v1/tasks")

_tasks = TaskListSchema()
_task = TaskSchema()


@bp.get("")
@describe(
    "The organisation's follow-up tasks not done yet, the earliest due first",
    response=TaskListSchema,
    query=pagination.QUERY,
    operation_id="listTasks",
)
@require_token(*operations.ROLES)
def index() -> dict[str, Any]:
    user = api_user()
    page = pagination.paginate(
        operations.open_tasks(db.session, user.organisation_id),
        lambda task: (pagination.key_part(task.due_at), str(task.id)),
    )
    operations.audit_list(db.session, user, page.items, "api")
    return _tasks.dump({"tasks": page.items, "next_cursor": page.next_cursor})


@bp.post("/<task_id>/done")
@describe(
    "Mark a follow-up task done, with a note",
    body=TaskDoneArgs,
    response=TaskSchema,
    operation_id="completeTask",
)
@require_token(*operations.ROLES)
def done(task_id: str) -> dict[str, Any]:
    args = parse(TaskDoneArgs())
    try:
        task = operations.mark_done(db.session, api_user(), uuid.UUID(task_id), args["note"])
    except (ValueError, operations.NotFound):
        raise ApiError(404, "not_found", "Deze taak bestaat niet of hoort niet bij uw organisatie.") from None
    return _task.dump(task)
