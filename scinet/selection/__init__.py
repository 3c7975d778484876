"""Selection mode: data from the trained agents, the encoder with selection neurons and its decoders."""
