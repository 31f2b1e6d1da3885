import FableDistributed
import FableTensor

/// Data-parallel training: one model per rank, the same initial weights (from the seed) and
/// the same updates, each rank computing the gradient of its slice of the global batch.
///
/// - Data: one sample stream, derived from the seed, draws the global batch's window starts
///   (batch_size × ranks per micro-batch); rank r trains on rows r·batch_size ..< (r+1)·
///   batch_size and skips the others' draws. Every rank count therefore sees the same
///   windows in the same order, a 1-process run with the same global batch computes the
///   same step, and a checkpoint's single generator state resumes under any rank count.
/// - Gradients: summed over ranks by ``GradientBuckets`` (overlapped with the last
///   micro-batch's backward pass), then divided by ranks × grad_accum_steps, so every rank
///   holds the gradient of the global batch's mean loss; clipping then uses the global norm.
/// - Decisions (divergence, stopping) use values reduced over ranks, so every rank makes
///   the same one and no rank is left waiting in a collective.
extension Trainer {
    /// Fills ``batch`` with this rank's rows of the next global micro-batch.
    func sampleRankSlice() throws {
        let rows = batch.batchSize
        let ranks = communicator.size, rank = communicator.rank
        guard ranks > 1 else {
            try sampleBatch(trainData, into: &batch, rng: &sampler)
            return
        }
        try trainData.checkWindow(batchSize: rows, contextLength: batch.contextLength)
        let validStarts = trainData.count - batch.contextLength
        for _ in 0..<(rank * rows) { _ = sampler.nextInt(below: validStarts) }
        try sampleBatch(trainData, into: &batch, rng: &sampler)
        for _ in 0..<((ranks - rank - 1) * rows) { _ = sampler.nextInt(below: validStarts) }
    }

    /// Completes the gradient reduction, turns the summed gradients into the mean over the
    /// global batch and returns the global batch's mean loss.
    /// - Parameter lossSum: this rank's sum of its micro-batches' mean losses.
    func averageOverRanks(lossSum: Double) throws -> Double {
        try gradientBuckets?.finish()
        if let shards { try communicator.reduceScatter(inPlace: model.parameters.gradients, ranges: shards.ranges) }
        let total = communicator.isDistributed ? try communicator.allreduce([lossSum])[0] : lossSum
        let divisor = config.gradAccumSteps * communicator.size
        if divisor > 1 {
            let scale = Float(1 / Double(divisor))
            let g = model.parameters.gradients.baseAddress!
            Parallel.forEachChunk(model.parameters.count, minimumChunk: 1 << 16) { range in
                for i in range { g[i] *= scale }
            }
        }
        return total / Double(divisor)
    }

    /// Whether any rank asked to stop (Ctrl-C reaches every rank under mpirun and srun,
    /// but not necessarily before the same step); all ranks get the same answer.
    func agreedStop(_ local: Bool) throws -> Bool {
        guard communicator.isDistributed else { return local }
        return try communicator.allreduce([local ? 1 : 0], .max)[0] > 0
    }
}
