// The Chardev plugin: not written yet.
