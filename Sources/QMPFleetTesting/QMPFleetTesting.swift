// QMPFleetTesting
