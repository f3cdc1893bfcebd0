// The Trace plugin: not written yet.
