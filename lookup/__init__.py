"""The control-room side: search index, lookups and recording what was done."""
