// The Net plugin: not written yet.
