// The Memory plugin: not written yet.
