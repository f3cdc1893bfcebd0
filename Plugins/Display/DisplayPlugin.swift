// The Display plugin: not written yet.
