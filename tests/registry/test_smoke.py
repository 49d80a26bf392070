"""The scripted provisioning path of the contract, end to end through the CLI and the API."""

from __future__ import annotations

import pyotp

from registry.ops.cli import org_add, user_add


def test_provision_then_token(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(org_add, ["Meldkamer Test", "--kind", "police"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        user_add,
        [
            "operator1",
            "--org",
            "Meldkamer Test",
            "--role",
            "responder",
            "--password-stdin",
            "--print-totp-secret",
        ],
        input="nachtdienst zonder koffie gaat niet\n",
    )
    assert result.exit_code == 0, result.output
    secret = next(
        line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("totp_secret: ")
    )
    response = client.post(
        "/api/v1/auth/token",
        json={
            "username": "operator1",
            "password": "nachtdienst zonder koffie gaat niet",
            "otp": pyotp.TOTP(secret).now(),
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert set(body) == {"access_token", "token_type", "expires_at", "idle_timeout_seconds"}
