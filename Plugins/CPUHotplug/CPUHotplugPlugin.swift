// The CPUHotplug plugin: not written yet.
