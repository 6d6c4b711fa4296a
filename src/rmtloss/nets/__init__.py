"""Networks and their training: data sets, models, optimisers (damped Adam, the RMT damping
learner), the training loop, reading a finished run, and the noisy quadratic model."""
