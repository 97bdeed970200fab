"""Process 'posteingang': the digital mail room that routes the general mailbox to the departments."""
