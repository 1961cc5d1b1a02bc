"""The call path: initiate a call, read and list calls, the status model, the reserve sweeper."""
