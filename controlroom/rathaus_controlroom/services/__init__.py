"""Business logic of the control room. Routes call these; every query lives here, filtered by city."""
