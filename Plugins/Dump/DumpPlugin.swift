// The Dump plugin: not written yet.
