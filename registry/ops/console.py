"""The `samenop` console script: the command line of registry.ops.cli on an app of its own."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.cli import FlaskGroup

from registry.app import create_app


def _create_app(*_args: Any) -> Flask:
    return create_app()


def main() -> None:
    cli = FlaskGroup(
        name="samenop",
        help="Samen Op: handelingskaders, raadplegen en terugkoppeling.",
        create_app=_create_app,
        add_default_commands=False,
        load_dotenv=False,
        set_debug_flag=False,
    )
    cli.main(prog_name="samenop")
