"""edge-agents-course: AI agents on small language models, offline, on a laptop.

The package holds the reference implementation of every lesson and the
infrastructure the exercises and tests use: the model registry
(:mod:`course.models`), chat backends (:mod:`course.backends`), tools
(:mod:`course.tools`), the agent loop (:mod:`course.agent`), the exercise
pipeline (:mod:`course.exercises`), grading (:mod:`course.grading`) and the
``course`` command line (:mod:`course.cli`).
"""

__version__ = "0.1.0"
