"""Training programmes (培养方案) of each major and cohort, and the teaching plans (教学计划)
generated from them for a term."""
