"""Pure domain core: records, scheduling rules, the browser mirror and reconciliation (no I/O, no Reflex)."""
