"""Accounts and two-factor authentication: passwords, TOTP, web sessions, API tokens, roles."""
