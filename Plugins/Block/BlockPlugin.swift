// The Block plugin: not written yet.
