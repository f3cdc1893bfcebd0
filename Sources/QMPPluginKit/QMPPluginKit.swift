// QMPPluginKit
