"""The prompts eightflow ships: versioned `<id>.v<N>.md` files, installed as package data.

The engine finds them through the `eightflow.prompts` entry point and reads them with
`importlib.resources`; a project points `EIGHTFLOW_PROMPTS_DIR` at its own folder instead.
"""
