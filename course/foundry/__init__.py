"""Lesson 06: Foundry Local for real, offline.

- :mod:`.prepare`: a registry model converted to an ONNX Runtime GenAI int4 folder (``course foundry prepare``);
- :mod:`.runtime`: the SDK's manager and local catalog, and :class:`FoundryLocalBackend`, a course chat backend;
- :mod:`.variants`: an alias resolved to the variant the machine's execution providers can run, CPU as fallback;
- :mod:`.manager`: prepare/load/unload, health from real signals, metrics, idle and memory-budget unloading.
"""
