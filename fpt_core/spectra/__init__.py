"""Heavy-tailed spectra of weight matrices: ESDs, power-law (Hill) fits, FARMS, layer alphas and
the learning-rate maps built on them.
"""
