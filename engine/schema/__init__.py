"""What a recipe says: attributes, level tables, recipes, regions (imports only measure.estimators)."""
