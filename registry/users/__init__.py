"""Coordinators manage their organisation's accounts: create, enrol, unlock, deactivate."""
