// FleetCore
