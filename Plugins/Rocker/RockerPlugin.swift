// The Rocker plugin: not written yet.
