import FableFormats
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The HTTP endpoints: health, models, completions, chat completions, the playground and
/// the training report of `--run`.
struct Routes: Sendable {
    let server: InferenceServer

    var model: ServedModel { server.model }
    var scheduler: BatchScheduler { server.scheduler }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(CORSMiddleware(
            allowOrigin: .all, allowHeaders: [.accept, .authorization, .contentType, .origin],
            allowMethods: [.get, .post, .options], maxAge: .seconds(600)))
        router.get("/") { _, _ in Playground.response }
        router.get("/health") { _, _ in health() }
        router.get("/v1/models") { _, _ in
            JSONBody.response(.object(["object": .string("list"), "data": .array([model.modelObject])]))
        }
        router.get("/v1/models/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard id == model.name else {
                return APIError(status: .notFound, message: "the model '\(id)' does not exist; this server serves '\(model.name)'",
                                param: "model", code: "model_not_found").response
            }
            return JSONBody.response(model.modelObject)
        }
        router.get("/run/report") { _, _ in server.runReport?.reportResponse ?? RunReportPage.notConfigured.response }
        router.get("/run/status") { _, _ in server.runReport?.statusResponse ?? RunReportPage.notConfigured.response }
        router.post("/v1/completions") { request, _ in await complete(request, endpoint: .completions) }
        router.post("/v1/chat/completions") { request, _ in await complete(request, endpoint: .chat) }
        return router
    }

    // MARK: - Handlers

    func health() -> Response {
        let stats = scheduler.statistics
        var object = stats.jsonObject
        object["status"] = .string(stats.shuttingDown ? "shutting_down" : "ok")
        object["model"] = .string(model.name)
        return JSONBody.response(.object(object), status: stats.shuttingDown ? .serviceUnavailable : .ok)
    }

    /// Validates, queues and answers a completion or chat completion, whole or streamed.
    ///
    /// The body is read inside Hummingbird's inbound-close handler, so a client that hangs
    /// up while a whole response is being generated cancels its request at once; a
    /// streamed response notices through its next failed write instead.
    func complete(_ request: Request, endpoint: CompletionRequest.Endpoint) async -> Response {
        let watch = DisconnectWatch(scheduler: scheduler)
        do {
            return try await request.body.consumeWithInboundCloseHandler { body in
                await respond(body: body, endpoint: endpoint, watch: watch)
            } onInboundClosed: {
                watch.clientClosed()
            }
        } catch {
            return error.response
        }
    }

    private func respond(body: RequestBody, endpoint: CompletionRequest.Endpoint, watch: DisconnectWatch) async -> Response {
        do {
            let data = try await readBody(body)
            let parsed = try CompletionRequest(endpoint: endpoint, fields: try RequestFields(body: data), model: model,
                                               maxChoices: scheduler.slotCount)
            let (id, events) = try scheduler.submit(parsed)
            let format = CompletionResponse(endpoint: endpoint, model: model.name)
            if parsed.stream {
                watch.handOver()
                return stream(events, id: id, parsed: parsed, format: format)
            }
            watch.watch(id)
            return try await collect(events, id: id, parsed: parsed, format: format)
        } catch {
            return error.response
        }
    }

    /// The body, at most ``ServerConfiguration/maxBodyBytes``.
    private func readBody(_ body: RequestBody) async throws(APIError) -> Data {
        let limit = server.configuration.maxBodyBytes
        do {
            let buffer = try await body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw .bodyTooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            throw .bodyTooLarge(limit: limit)
        } catch {
            throw APIError(status: .badRequest, message: "could not read the request body: \(error)", code: "invalid_body")
        }
    }

    /// Waits for every choice and answers them in one JSON object.
    private func collect(
        _ events: AsyncStream<GenerationEvent>, id: UInt64, parsed: CompletionRequest, format: CompletionResponse
    ) async throws(APIError) -> Response {
        defer { scheduler.cancel(id) }
        var choices = Array(repeating: CompletionResponse.Choice(), count: parsed.choices)
        for await event in events {
            switch event {
            case let .text(choice, text): choices[choice].text += text
            case let .finished(choice, reason, tokens):
                choices[choice].reason = reason
                choices[choice].tokens = tokens
            case let .failed(error): throw error
            }
        }
        if choices.contains(where: { $0.reason == nil }) {
            throw APIError(status: .badRequest, message: "the request was cancelled", code: "cancelled")
        }
        return JSONBody.response(format.complete(choices: choices, promptTokens: parsed.promptTokens.count))
    }

    /// A server-sent-event response: chunks as the text arrives, then `data: [DONE]`. A
    /// write that fails (the client hung up) ends it and cancels the request.
    private func stream(
        _ events: AsyncStream<GenerationEvent>, id: UInt64, parsed: CompletionRequest, format: CompletionResponse
    ) -> Response {
        let scheduler = self.scheduler
        let body = ResponseBody { writer in
            defer { scheduler.cancel(id) }
            func send(_ object: JSONValue) async throws {
                try await writer.write(ByteBuffer(string: CompletionResponse.event(object)))
            }
            var completionTokens = 0
            if parsed.endpoint == .chat {
                for choice in 0..<parsed.choices { try await send(format.roleChunk(choice: choice)) }
            }
            for await event in events {
                switch event {
                case let .text(choice, text):
                    try await send(format.textChunk(choice: choice, text: text))
                case let .finished(choice, reason, tokens):
                    completionTokens += tokens
                    try await send(format.finishChunk(choice: choice, reason: reason))
                case let .failed(error):
                    try await send(error.jsonObject)
                }
            }
            if parsed.includeUsage {
                try await send(format.usageChunk(promptTokens: parsed.promptTokens.count, completionTokens: completionTokens))
            }
            try await writer.write(ByteBuffer(string: CompletionResponse.done))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: body)
    }
}

/// Connects Hummingbird's inbound-close notice to the request it concerns: before the
/// request is queued, after (cancel it), or once a streamed response has taken over (the
/// handler's end also looks like a close, and must not cancel the stream).
final class DisconnectWatch: Sendable {
    private enum State { case waiting, watching(UInt64), closed, handedOver }
    private let state = Mutex<State>(.waiting)
    private let scheduler: BatchScheduler

    init(scheduler: BatchScheduler) { self.scheduler = scheduler }

    /// The request is queued as `id`.
    func watch(_ id: UInt64) {
        let closedAlready = state.withLock { state in
            if case .closed = state { return true }
            state = .watching(id)
            return false
        }
        if closedAlready { scheduler.cancel(id) }
    }

    /// A streamed response owns the request from now on.
    func handOver() { state.withLock { $0 = .handedOver } }

    /// The client closed its side of the connection.
    func clientClosed() {
        let id: UInt64? = state.withLock { state in
            switch state {
            case let .watching(id): state = .closed; return id
            case .waiting: state = .closed; return nil
            case .closed, .handedOver: return nil
            }
        }
        if let id { scheduler.cancel(id) }
    }
}

extension Error {
    /// Any error as an OpenAI-style JSON response (unexpected ones as 500).
    var response: Response {
        ((self as? APIError) ?? .internalError("\(self)")).response
    }
}

/// Turns Hummingbird's own errors (404 for an unknown path, 405, ...) into OpenAI-style
/// JSON errors, so every error a client sees has the same shape.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "no route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return APIError(status: error.status, message: message,
                            type: error.status.code >= 500 ? "server_error" : "invalid_request_error").response
        }
    }
}
