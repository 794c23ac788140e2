"""policy: an arms-export policy reasoning engine.

Layers, each importing only those before it: models → loading → engine → reports → CLI.
"""

__version__ = "0.1.0"
