"""Follow-up tasks (Opvolging): the clocks a melding starts, shown to the organisation that owns them."""
