"""Human review of step outputs: rules, requests, the pause form, decisions and reports."""
