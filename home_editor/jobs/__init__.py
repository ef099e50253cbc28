"""Running jobs: the process-level runner, what each job type does, and change notifications for tabs."""
