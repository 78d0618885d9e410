"""One build: what changed, parsing it into the state, rendering, publishing."""
