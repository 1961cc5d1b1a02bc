"""Who may be called: destination safety and the do-not-call list."""
