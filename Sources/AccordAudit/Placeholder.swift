// Placeholder so the target exists in every checkout; the module's files replace it.
