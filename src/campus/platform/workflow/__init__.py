"""Workflow and forms engine (流程与表单引擎) and the one-stop service hall (办事大厅):
custom forms, BPMN approval processes run on SpiffWorkflow, their instances and tasks, the catalog
of services, and the to-do center into which every module pushes work for people."""
