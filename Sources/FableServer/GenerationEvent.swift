import FableFormats

/// What the decode loop tells a request's handler, in order, through its event stream.
/// The stream ends after every choice has finished (or after `failed`).
enum GenerationEvent: Sendable, Equatable {
    /// New text for one choice (never empty).
    case text(choice: Int, text: String)
    /// One choice ended, having generated `tokens` tokens.
    case finished(choice: Int, reason: CompletionFinishReason, tokens: Int)
    /// The request was dropped (the server is shutting down).
    case failed(APIError)
}

/// OpenAI's `finish_reason`.
enum CompletionFinishReason: String, Sendable, Equatable {
    /// End of text was drawn or a stop sequence matched.
    case stop
    /// `max_tokens` tokens were generated, or the context is full.
    case length
}

/// What `/health` reports about the decode loop.
struct SchedulerStatistics: Sendable, Equatable {
    var slots: Int
    var busySlots = 0
    /// The most slots one decode step has advanced together.
    var peakBusySlots = 0
    var runningRequests = 0
    /// Admitted requests whose prompts are still being computed (chunked prefill).
    var prefillingRequests = 0
    /// The most prompt tokens one step has computed (at most the prefill chunk).
    var peakPrefillTokens = 0
    var queuedRequests = 0
    var queueLimit: Int
    var completedRequests = 0
    var generatedTokens = 0
    /// Decode steps run (one token for every busy slot).
    var steps = 0
    var shuttingDown = false

    var jsonObject: JSONObject {
        ["slots": .int(slots), "busy_slots": .int(busySlots), "peak_busy_slots": .int(peakBusySlots),
         "running_requests": .int(runningRequests), "prefilling_requests": .int(prefillingRequests),
         "peak_prefill_tokens": .int(peakPrefillTokens), "queued_requests": .int(queuedRequests),
         "queue_limit": .int(queueLimit), "completed_requests": .int(completedRequests),
         "generated_tokens": .int(generatedTokens), "decode_steps": .int(steps)]
    }
}
