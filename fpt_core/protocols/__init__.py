"""The engine's extension point, one name: perturbation protocols (registry, resetting, shrink &
perturb, warm restart) and TempBalance, for the engine and for plain PyTorch loops.
"""
