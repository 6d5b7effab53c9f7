"""Dynamic workflows: a model plans the next steps from a registry of step types.

- :mod:`eightflow.planning.dynamic`: :class:`DynamicWorkflow`, the class users subclass;
- :mod:`eightflow.planning.driver`: the :class:`Planner` protocol and the driver that runs a
  planner's loop through the run pipeline (rounds, re-plans, bounds);
- :mod:`eightflow.planning.step_factory`: the registry a planner chooses from, the
  ``Plan`` schema, and the check that turns a plan into steps or lists what is wrong.
"""
