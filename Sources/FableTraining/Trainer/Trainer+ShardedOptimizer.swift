import FableDistributed
import FableTensor

/// Optimizer state sharding (ZeRO stage 1, `shard_optimizer: true`): rank r keeps AdamW
/// moments (and Muon momentum) only for its ``ParameterShards`` share, whole parameters in
/// one contiguous run, so Muon orthogonalises whole matrices on the rank that owns them.
///
/// One step: backward on the rank's slice of the batch; reduce-scatter the gradients (each
/// rank receives the sum over ranks of its share); clip by the global norm (sums of squares
/// of the shares, all-reduced); update the share; all-gather the parameters. The same
/// bytes cross the network as with one all-reduce; the optimizer state per rank shrinks by
/// the number of ranks. Gradients are reduced after backward (no overlap in this mode).
extension Trainer {
    /// Clips the rank's share of the summed gradients by the global norm; returns the norm.
    func clipShardedGradients() throws -> Double {
        guard let shards else { preconditionFailure("clipShardedGradients without shards") }
        let own = shards.ranges[communicator.rank]
        let gradients = UnsafeMutableBufferPointer(rebasing: model.parameters.gradients[own])
        let local = GradientClipping.norm(UnsafeBufferPointer(gradients))
        let norm = try communicator.allreduce([local * local])[0].squareRoot()
        if config.gradClip > 0, norm > config.gradClip, let g = gradients.baseAddress {
            let scale = Float(config.gradClip / (norm + GradientClipping.epsilon))
            Parallel.forEachChunk(gradients.count, minimumChunk: 1 << 16) { range in
                for i in range { g[i] *= scale }
            }
        }
        return norm
    }

    /// The whole optimizer state, every rank's share copied in (a collective: every rank
    /// calls it; each share is broadcast by its owner). Used to write checkpoints.
    func gatheredOptimizer() throws -> any Optimizer {
        guard let shards else { return optimizer }
        let whole = try config.optimizer.makeOptimizer(for: model.parameters)
        whole.stepCount = optimizer.stepCount
        var owner: [String: Int] = [:]
        for (rank, entries) in shards.entries.enumerated() { for entry in entries { owner[entry.name] = rank } }
        let mine = Dictionary(uniqueKeysWithValues: optimizer.stateTensors.map { ($0.name, $0) })
        for tensor in whole.stateTensors {
            guard let rank = Self.parameterName(of: tensor.name, among: owner.keys).flatMap({ owner[$0] }) else {
                preconditionFailure("optimizer state \(tensor.name) names no parameter")
            }
            if rank == communicator.rank, let share = mine[tensor.name], let target = tensor.values.baseAddress,
               let source = share.values.baseAddress {
                target.update(from: source, count: tensor.values.count)
            }
            try communicator.broadcast(tensor.values, root: rank)
        }
        return whole
    }

    /// Copies this rank's share of `whole` (a full optimizer just loaded) into ``optimizer``.
    func keepOwnShare(of whole: any Optimizer) {
        let all = Dictionary(uniqueKeysWithValues: whole.stateTensors.map { ($0.name, $0) })
        for tensor in optimizer.stateTensors {
            guard let source = all[tensor.name]?.values.baseAddress, let target = tensor.values.baseAddress else { continue }
            target.update(from: source, count: tensor.values.count)
        }
        optimizer.stepCount = whole.stepCount
    }

    /// The parameter an optimizer-state tensor belongs to: the longest parameter name that
    /// ends the state's name after a dot (`optimizer.adamw.m.layers.0.ln1.weight`).
    static func parameterName(of stateName: String, among names: Dictionary<String, Int>.Keys) -> String? {
        names.filter { stateName.hasSuffix("." + $0) }.max { $0.count < $1.count }
    }

    /// Bytes of optimizer state this rank keeps, and what one unsharded optimizer keeps.
    public var optimizerStateBytes: (perRank: Int, unsharded: Int) {
        let perRank = optimizer.stateTensors.reduce(0) { $0 + $1.values.count } * MemoryLayout<Float>.size
        guard shards != nil else { return (perRank, perRank) }
        let o = config.optimizer
        let unsharded = model.parameters.entries.reduce(0) { total, entry in
            let slots = o.kind == .muon && o.usesMuon(name: entry.name, shape: entry.shape) ? 1 : 2
            return total + slots * entry.count
        } * MemoryLayout<Float>.size
        return (perRank, unsharded)
    }
}
