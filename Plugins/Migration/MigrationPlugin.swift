// The Migration plugin: not written yet.
