"""Meldingen: one acute call and its shared record, the five core questions."""
