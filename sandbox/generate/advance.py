def advance(dataset, days=1, change_rate=0.01, seed=None):
    raise NotImplementedError
