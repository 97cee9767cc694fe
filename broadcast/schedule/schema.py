"""The JSON Schema of schedule.yaml, which gives editors completion and error marks."""

from __future__ import annotations

from typing import Any

from broadcast.schedule.programs import Schedule

SCHEMA_FILE = "schedule.schema.json"


def schedule_json_schema() -> dict[str, Any]:
    """The JSON Schema of schedule.yaml, for editors (completion and error marks)."""
    schema = Schedule.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_FILE,
        **schema,
        "title": "broadcast schedule.yaml",
        "description": "A ward's loudspeaker broadcast schedule. See docs/schedule.md.",
    }
