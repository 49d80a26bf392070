"""Running the system: the command line, the production server, backups, retention, demo data, mail."""
