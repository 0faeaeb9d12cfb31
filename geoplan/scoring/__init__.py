"""Target sheets, verdicts and :func:`check_city`."""
