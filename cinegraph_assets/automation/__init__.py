"""The automation room."""
