// FableTraining: optimizers, learning-rate schedules, gradient clipping, token datasets,
// batches, checkpoints, the training loop, metrics, reports and sweeps.
import FableModel
import FableTensor
