"""Monitoring: the pilots' tables, computed from reports, lookups and acknowledgements."""
