"""Training as a dynamical system: Lyapunov exponents (Benettin), Jacobians, phase grids,
scaling collapses and the SGD map.
"""
