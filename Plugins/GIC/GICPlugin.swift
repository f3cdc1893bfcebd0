// The GIC plugin: not written yet.
