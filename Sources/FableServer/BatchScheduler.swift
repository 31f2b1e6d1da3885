import FableModel
import FableTensor
import FableTokenizer
import Foundation

/// Continuous batching: one decode loop, on its own thread, owns the model and a
/// ``KVCache`` whose rows are slots. Requests wait in a bounded queue; at every step the
/// loop admits those that fit in free slots, prefills prompts, draws one token for every
/// busy slot and runs one batched forward pass for all of them, each at its own position.
/// A request that arrives while others decode joins at the next step; one that ends or is
/// cancelled frees its slots at once.
///
/// Chunked prefill: a step computes at most `prefillChunk` prompt tokens (oldest request
/// first, always at least one chunk), so a long prompt joining the batch delays the other
/// streams' next token by one chunk's work per step, not by the whole prompt's. A prompt
/// is cut at multiples of `prefillChunk` from its start whatever else runs, so its logits
/// (and text) do not depend on which requests share its steps.
///
/// Each choice has its own ``Sampler`` and ``RandomGenerator`` (seeded `seed + choice`) and
/// the batched pass is row-invariant, so a request's text depends only on its own prompt,
/// options and seed, never on which requests share its steps.
///
/// Thread safety: the public methods may be called from any thread; `condition` guards the
/// queue, the cancellations and the statistics. The model, the cache and the slots are
/// touched only by the loop thread.
final class BatchScheduler: @unchecked Sendable {
    let model: ServedModel
    let slotCount: Int
    let queueLimit: Int
    /// Prompt tokens computed per step at most; nil prefills each prompt whole.
    let prefillChunk: Int?

    private let network: TransformerLM
    private let cache: KVCache
    private let condition = NSCondition()

    // Guarded by `condition`.
    private var queue: [PendingRequest] = []
    private var cancelled: Set<UInt64> = []
    private var nextID: UInt64 = 1
    private var shutdownDeadline: ContinuousClock.Instant?
    private var started = false
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var stats: SchedulerStatistics
    /// Tests only: when set, the loop waits before each decode step until a step is
    /// allowed, so a test decides when tokens come whatever the machine's load. A
    /// cancellation also lets one step through, so a hang-up is noticed while paused.
    private var testingStepsAllowed: Int?

    /// A request waiting for slots.
    private struct PendingRequest {
        let id: UInt64
        let request: CompletionRequest
        let continuation: AsyncStream<GenerationEvent>.Continuation
    }

    /// - Parameters:
    ///   - network: the model; from now on only the loop thread uses it.
    ///   - slots: sequences decoded together at most (the KV cache's rows).
    ///   - queueLimit: requests that may wait for slots before new ones get 503.
    ///   - prefillChunk: prompt tokens computed per step at most (nil: whole prompts).
    init(network: TransformerLM, model: ServedModel, slots: Int, queueLimit: Int, prefillChunk: Int? = nil) {
        precondition(slots >= 1 && queueLimit >= 1 && (prefillChunk ?? 1) >= 1)
        self.network = network
        self.model = model
        slotCount = slots
        self.queueLimit = queueLimit
        self.prefillChunk = prefillChunk
        cache = KVCache(config: network.config, batch: slots)
        stats = SchedulerStatistics(slots: slots, queueLimit: queueLimit)
    }

    /// Starts the decode loop's thread.
    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in loop() }
        thread.name = "fable-decode"
        thread.start()
    }

    // MARK: - Requests

    /// Queues `request`; its events arrive on the returned stream. Ending the stream's
    /// iteration (or dropping it) cancels the request.
    /// - Throws: ``APIError`` 503 when the queue is full or the server is shutting down.
    func submit(_ request: CompletionRequest) throws(APIError) -> (id: UInt64, events: AsyncStream<GenerationEvent>) {
        let (stream, continuation) = AsyncStream<GenerationEvent>.makeStream()
        condition.lock()
        if shutdownDeadline != nil || stopped {
            condition.unlock()
            throw .shuttingDown
        }
        if queue.count >= queueLimit {
            condition.unlock()
            throw .queueFull
        }
        let id = nextID
        nextID += 1
        queue.append(PendingRequest(id: id, request: request, continuation: continuation))
        stats.queuedRequests = queue.count
        condition.signal()
        condition.unlock()
        continuation.onTermination = { [weak self] _ in self?.cancel(id) }
        return (id, stream)
    }

    /// Drops request `id`: out of the queue, or out of its slots at the loop's next step.
    /// Unknown or finished ids are ignored.
    func cancel(_ id: UInt64) {
        condition.lock()
        cancelled.insert(id)
        condition.signal()
        condition.unlock()
    }

    /// Tests only: from now on each decode step waits for ``testingAllowSteps(_:)``.
    func testingPauseSteps() {
        condition.lock()
        testingStepsAllowed = 0
        condition.unlock()
    }

    /// Tests only: lets `count` more decode steps run while paused.
    func testingAllowSteps(_ count: Int) {
        condition.lock()
        if let allowed = testingStepsAllowed { testingStepsAllowed = allowed + min(count, Int.max - allowed) }
        condition.broadcast()
        condition.unlock()
    }

    /// Tests only: decode steps run freely again.
    func testingResumeSteps() {
        condition.lock()
        testingStepsAllowed = nil
        condition.broadcast()
        condition.unlock()
    }

    /// The loop's counters now.
    var statistics: SchedulerStatistics {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    // MARK: - Shutdown

    /// Stops taking requests: queued ones fail with 503 at once, running ones go on for up
    /// to `grace` and are then cancelled with an error; the loop then ends.
    func beginShutdown(grace: Duration) {
        condition.lock()
        if shutdownDeadline == nil { shutdownDeadline = ContinuousClock.now + grace }
        stats.shuttingDown = true
        condition.signal()
        condition.unlock()
    }

    /// Returns once the loop has ended (at once if it never started).
    func waitUntilStopped() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            condition.lock()
            if stopped || !started {
                condition.unlock()
                waiter.resume()
                return
            }
            stopWaiters.append(waiter)
            condition.unlock()
        }
    }

    // MARK: - The loop

    /// One choice being decoded in a slot.
    private struct Slot {
        let requestID: UInt64
        let choice: Int
        var sampler: Sampler
        var generator: RandomGenerator
        var decoder: TextStreamDecoder
        var matcher: StopSequenceMatcher
        var generated = 0
        /// The logits for this slot's next token.
        var logits: [Float]
    }

    /// An admitted request whose prompt is still being computed into its first slot; its
    /// other slots are reserved until the prompt is copied into them.
    private struct Prefill {
        let pending: PendingRequest
        let places: [Int]
        /// Prompt tokens in the cache so far.
        var done = 0
    }

    /// An admitted request: where its events go and how many choices still run.
    private struct Running {
        let request: CompletionRequest
        let continuation: AsyncStream<GenerationEvent>.Continuation
        var unfinished: Int
    }

    private func loop() {
        var slots = [Slot?](repeating: nil, count: slotCount)
        var prefills: [Prefill] = []
        var running: [UInt64: Running] = [:]
        var finishedRequests = 0, producedTokens = 0, steps = 0, peakPrefillTokens = 0

        var feedSlots: [Int] = []
        /// Copies the loop's counters to `stats` (call with `condition` locked).
        func publish() {
            stats.busySlots = slots.count(where: { $0 != nil }) + prefills.reduce(0) { $0 + $1.places.count }
            stats.prefillingRequests = prefills.count
            stats.peakPrefillTokens = peakPrefillTokens
            stats.peakBusySlots = max(stats.peakBusySlots, feedSlots.count)
            stats.runningRequests = running.count
            stats.queuedRequests = queue.count
            stats.completedRequests = finishedRequests
            stats.generatedTokens = producedTokens
            stats.steps = steps
        }

        while true {
            // Exchange with the handlers under the lock: cancellations, admissions, shutdown.
            condition.lock()
            while queue.isEmpty && running.isEmpty && cancelled.isEmpty && shutdownDeadline == nil {
                condition.wait()
            }
            let cancelledNow = cancelled
            cancelled.removeAll()
            var dropped = queue.filter { cancelledNow.contains($0.id) }
            queue.removeAll { cancelledNow.contains($0.id) }
            let deadline = shutdownDeadline
            var rejected: [PendingRequest] = []
            if deadline != nil {
                rejected = queue
                queue.removeAll()
            }
            var admitted: [PendingRequest] = []
            var free = slots.count(where: { $0 == nil }) - prefills.reduce(0) { $0 + $1.places.count }
            while let first = queue.first, first.request.choices <= free {
                admitted.append(queue.removeFirst())
                free -= first.request.choices
            }
            let exiting = deadline != nil && running.isEmpty && admitted.isEmpty
            condition.unlock()

            for request in dropped { request.continuation.finish() }
            dropped.removeAll()
            for request in rejected {
                request.continuation.yield(.failed(.shuttingDown))
                request.continuation.finish()
            }
            if exiting { break }

            // Cancelled requests leave their slots now.
            for id in cancelledNow {
                guard let request = running.removeValue(forKey: id) else { continue }
                for i in slots.indices where slots[i]?.requestID == id { slots[i] = nil }
                prefills.removeAll { $0.pending.id == id }
                request.continuation.finish()
            }
            // Past the shutdown grace: drop whatever still runs.
            if let deadline, ContinuousClock.now >= deadline {
                for (id, request) in running {
                    for i in slots.indices where slots[i]?.requestID == id { slots[i] = nil }
                    request.continuation.yield(.failed(.shuttingDown))
                    request.continuation.finish()
                }
                running.removeAll()
                prefills.removeAll()
            }

            // Admit: reserve slots; the prompt goes into the first, then is copied to the others.
            for pending in admitted {
                let reserved = Set(prefills.flatMap(\.places))
                let places = Array(slots.indices.filter { slots[$0] == nil && !reserved.contains($0) }
                    .prefix(pending.request.choices))
                cache.clearSlot(places[0])
                prefills.append(Prefill(pending: pending, places: places))
                running[pending.id] = Running(request: pending.request, continuation: pending.continuation,
                                              unfinished: pending.request.choices)
            }

            // Prefill: the next chunk of the oldest prompts, within this step's budget.
            var budget = prefillChunk ?? Int.max, prefilledNow = 0
            var index = 0
            while index < prefills.count {
                let prefill = prefills[index]
                let prompt = prefill.pending.request.promptTokens
                let size = min(prefillChunk ?? prompt.count, prompt.count - prefill.done)
                if prefilledNow > 0 && size > budget { break }
                let first = prefill.places[0]
                let logits: [Float]
                do {
                    logits = try network.forward(prefill: Array(prompt[prefill.done..<(prefill.done + size)]),
                                                 slot: first, cache: cache)
                } catch {
                    prefill.pending.continuation.yield(.failed(.internalError("the model rejected the prompt: \(error)")))
                    prefill.pending.continuation.finish()
                    running.removeValue(forKey: prefill.pending.id)
                    prefills.remove(at: index)
                    continue
                }
                budget -= size
                prefilledNow += size
                prefills[index].done += size
                guard prefills[index].done == prompt.count else {
                    index += 1
                    continue
                }
                prefills.remove(at: index)
                let request = prefill.pending.request
                for (choice, place) in prefill.places.enumerated() {
                    if place != first { cache.copySlot(first, to: place) }
                    slots[place] = Slot(
                        requestID: prefill.pending.id, choice: choice,
                        sampler: Sampler(options: request.sampling),
                        generator: RandomGenerator(seed: request.seed &+ UInt64(choice)),
                        decoder: TextStreamDecoder(tokenizer: model.tokenizer),
                        matcher: StopSequenceMatcher(stops: request.stop, trimsWhitespace: request.endpoint == .chat),
                        logits: logits)
                }
            }
            peakPrefillTokens = max(peakPrefillTokens, prefilledNow)

            // Draw one token for every busy slot; collect those that go on.
            var feedTokens: [Int] = []
            feedSlots = []
            for place in slots.indices {
                guard var slot = slots[place], let request = running[slot.requestID] else { continue }
                let token = slot.logits.withUnsafeBufferPointer { slot.sampler.sample($0, using: &slot.generator) }
                var reason: CompletionFinishReason?
                var text = ""
                if token == model.endOfText {
                    reason = .stop
                } else {
                    slot.generated += 1
                    producedTokens += 1
                    let piece = (try? slot.decoder.append(token)) ?? ""
                    let (released, stopped) = slot.matcher.append(piece)
                    text = released
                    if stopped {
                        reason = .stop
                    } else if slot.generated >= request.request.maxTokens
                                || cache.slotLength(place) >= cache.maxLength {
                        reason = .length
                    }
                }
                if reason != nil && !slot.matcher.stopped {
                    // The end: release what the decoder and the matcher still hold.
                    text += slot.matcher.append(slot.decoder.finish()).text
                    text += slot.matcher.finish()
                }
                if !text.isEmpty { request.continuation.yield(.text(choice: slot.choice, text: text)) }
                if let reason {
                    request.continuation.yield(.finished(choice: slot.choice, reason: reason, tokens: slot.generated))
                    slots[place] = nil
                    running[slot.requestID]!.unfinished -= 1
                    if running[slot.requestID]!.unfinished == 0 {
                        running.removeValue(forKey: slot.requestID)?.continuation.finish()
                        finishedRequests += 1
                    }
                } else {
                    slots[place] = slot
                    feedTokens.append(token)
                    feedSlots.append(place)
                }
            }

            // Tests only: hold the step until the test allows it (counters published first).
            if !feedSlots.isEmpty {
                condition.lock()
                publish()
                while testingStepsAllowed == 0 && cancelled.isEmpty { condition.wait() }
                if let allowed = testingStepsAllowed, allowed > 0 { testingStepsAllowed = allowed - 1 }
                condition.unlock()
            }

            // One batched step for every slot that goes on, each at its own position.
            if !feedSlots.isEmpty {
                do {
                    let logits = try network.forward(step: feedTokens, slots: feedSlots, cache: cache)
                    let vocab = network.config.vocabSize
                    for (row, place) in feedSlots.enumerated() {
                        slots[place]!.logits = Array(logits[(row * vocab)..<((row + 1) * vocab)])
                    }
                    steps += 1
                } catch {
                    preconditionFailure("the decode loop fed the model an invalid step: \(error)")
                }
            }

            condition.lock()
            publish()
            condition.unlock()
        }

        condition.lock()
        stopped = true
        stats.busySlots = 0
        stats.prefillingRequests = 0
        stats.runningRequests = 0
        stats.queuedRequests = 0
        let waiters = stopWaiters
        stopWaiters.removeAll()
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }
}
