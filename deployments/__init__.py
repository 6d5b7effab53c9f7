"""What prefect.yaml refers to: the local stack launcher, parameter presets, database set-up."""
