"""Settings shared by the benchmark tests."""

DATASET = "jarvis_formation_energy"
#: Tiny networks, a few epochs, on the CPU, quietly.
TINY = {"tiny": True, "max_epochs": 4, "device": "cpu", "verbose": False}
