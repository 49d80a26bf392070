"""A task going out, and the note that marks it done coming in."""

from __future__ import annotations

from marshmallow import fields

from registry.core.vocabulary import TaskKind
from registry.web.schemas import Choice, DutchSchema, Text, next_cursor_field


class TaskDoneArgs(DutchSchema):
    note = Text(load_default="", max_length=4000)


# --- output -----------------------------------------------------------------------------------


class TaskSchema(DutchSchema):
    id = fields.UUID()
    kind = Choice(TaskKind)
    melding_id = fields.UUID()
    report_id = fields.UUID()
    plan_id = fields.UUID(allow_none=True)  # null: a melding without a handelingskader
    incident_ref = fields.String()
    occurred_at = fields.AwareDateTime(format="iso")
    due_at = fields.AwareDateTime(format="iso")
    remind_at = fields.AwareDateTime(format="iso", allow_none=True)
    overdue = fields.Boolean()
    done_at = fields.AwareDateTime(format="iso", allow_none=True)
    done_by = fields.String(allow_none=True)
    note = fields.String()


class TaskListSchema(DutchSchema):
    tasks = fields.List(fields.Nested(TaskSchema))
    next_cursor = next_cursor_field()
