"""One thin Prefect flow per workflow. Deployments in prefect.yaml point here."""
