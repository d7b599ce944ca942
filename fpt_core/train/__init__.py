"""Training: configuration, data on the device, models, the batched engine, chunks, the
results store and Dask scale-out, and the independent reference loop (the oracle).
"""
