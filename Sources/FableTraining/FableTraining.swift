// FableTraining: the training loop and what it needs, in folders that read in order:
// Config/ (TrainingConfig, presets, --set resolution, sweep grids), Data/ (token datasets and
// batches), Optimizers/ (SGD, AdamW, Muon, schedules, clipping), Trainer/ (the loop,
// evaluation, checkpoints, run folders, Ctrl-C) and Tracking/ (metrics.jsonl, number
// formatting). The loop reports through `Trainer.Event`; it never prints.
import FableModel
import FableTensor
