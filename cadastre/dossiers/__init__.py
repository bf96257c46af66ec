"""One-stop land dossiers: working-day calendar (more to come: intake, workflow, KPIs)."""
