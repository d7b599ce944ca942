"""Langevin samplers, the exactly solvable linear-regression chain, nonequilibrium steady states,
entropy production and the tanh network.
"""
