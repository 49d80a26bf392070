"""Webhooks: an organisation's own system told of feedback, spoedmeldingen, acknowledgements and
expiring plans by a signed HTTP POST from the outbox (ids and links only)."""
