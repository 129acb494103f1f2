"""Media: decode any supported input into timed frames, encode timed frames back."""
