"""Sample mails of a city's general mailbox for demos and tests."""
