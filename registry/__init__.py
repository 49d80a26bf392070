"""The system of record: organisations, accounts, plans, reports, audit log and feedback."""
