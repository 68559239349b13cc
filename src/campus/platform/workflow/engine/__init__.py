"""The process engine: BPMN definitions checked and compiled, SpiffWorkflow run safely, state
serialised for the database."""
