// QAPISchema
