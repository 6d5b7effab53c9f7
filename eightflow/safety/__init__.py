"""What keeps hostile input from acting: every check on what comes in and goes out.

- :mod:`eightflow.safety.sanitize` (with :mod:`~eightflow.safety.secret_shapes` and the
  per-batch :mod:`~eightflow.safety.sanitize_memo`): secrets out of every trace, artifact,
  ledger row, log and output;
- :mod:`eightflow.safety.inert`: the one renderer that escapes document-, model- and
  person-supplied text where it lands (CSV cells, markdown, HTML, the terminal);
- :mod:`eightflow.safety.path_roots`: reads and writes stay inside the operator's roots,
  opened once without following a final link;
- :mod:`eightflow.safety.form_types`: the typed fields of Run forms (allowed models,
  readable paths, output folders); which models are allowed is the operator's setting
  (:func:`eightflow.settings.allowed_models`).

Prompt templates render in their own sandbox, :mod:`eightflow.prompts.sandbox`.
"""
