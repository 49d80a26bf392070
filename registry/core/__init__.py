"""The core every feature shares: configuration, database, data model, vocabularies, rules, audit."""
