"""Handelingskaders: immutable versions, sharing, validation, the registrant's UI and API."""
