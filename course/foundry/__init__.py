"""Lesson 06: Foundry Local for real, offline.

- :mod:`.prepare`: a registry model converted to an ONNX Runtime GenAI int4 folder (``course foundry prepare``);
- :mod:`.runtime`: the SDK's manager and local catalog, and :class:`FoundryLocalBackend`, a course chat backend.
"""
