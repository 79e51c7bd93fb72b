"""Use cases shared by the CLI and (later) the API: each takes its inputs and returns results."""
