print("qmpfleet")
