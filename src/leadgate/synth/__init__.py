"""Synthetic B2B data: accounts, leads, events and outcomes for demos, tests and benchmarks.

Everything is drawn with seeded NumPy generators and built column-wise, so a million leads
with twenty million events take seconds and the same seed always gives the same frames.
"""

from leadgate.synth.dataset import DEFAULT_AS_OF, SyntheticDataset, generate_dataset

__all__ = ["DEFAULT_AS_OF", "SyntheticDataset", "generate_dataset"]
