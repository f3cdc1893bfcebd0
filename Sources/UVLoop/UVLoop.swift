// UVLoop
