import Foundation
import Hummingbird

/// The HTTP endpoints: health, models, completions, chat completions and the playground.
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
            JSONBody.response(["object": "list", "data": [model.modelObject]])
        }
        router.get("/v1/models/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard id == model.name else {
                return APIError(status: .notFound, message: "the model '\(id)' does not exist; this server serves '\(model.name)'",
                                param: "model", code: "model_not_found").response
            }
            return JSONBody.response(model.modelObject)
        }
        router.post("/v1/completions") { request, _ in await complete(request, endpoint: .completions) }
        router.post("/v1/chat/completions") { request, _ in await complete(request, endpoint: .chat) }
        return router
    }

    // MARK: - Handlers

    func health() -> Response {
        let stats = scheduler.statistics
        var object = stats.jsonObject
        object["status"] = stats.shuttingDown ? "shutting_down" : "ok"
        object["model"] = model.name
        return JSONBody.response(object, status: stats.shuttingDown ? .serviceUnavailable : .ok)
    }

    /// Validates, queues and answers a completion or chat completion, whole or streamed.
    func complete(_ request: Request, endpoint: CompletionRequest.Endpoint) async -> Response {
        do {
            let body = try await readBody(request)
            let parsed = try CompletionRequest(endpoint: endpoint, fields: try RequestFields(body: body), model: model,
                                               maxChoices: scheduler.slotCount)
            let (id, events) = try scheduler.submit(parsed)
            let format = CompletionResponse(endpoint: endpoint, model: model.name)
            if parsed.stream {
                return stream(events, id: id, request: request, parsed: parsed, format: format)
            }
            return try await collect(events, id: id, request: request, parsed: parsed, format: format)
        } catch {
            return error.response
        }
    }

    /// The body, at most ``ServerConfiguration/maxBodyBytes``.
    private func readBody(_ request: Request) async throws(APIError) -> Data {
        let limit = server.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw .bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw .bodyTooLarge(limit: limit)
        } catch {
            throw APIError(status: .badRequest, message: "could not read the request body: \(error)", code: "invalid_body")
        }
    }

    /// Waits for every choice, cancelling the request if the client goes away meanwhile.
    private func collect(
        _ events: AsyncStream<GenerationEvent>, id: UInt64, request: Request, parsed: CompletionRequest,
        format: CompletionResponse
    ) async throws(APIError) -> Response {
        let scheduler = self.scheduler
        let outcome: Result<[CompletionResponse.Choice], APIError>
        do {
            outcome = try await watchingDisconnect(request, id: id) {
            var choices = Array(repeating: CompletionResponse.Choice(), count: parsed.choices)
            for await event in events {
                switch event {
                case let .text(choice, text): choices[choice].text += text
                case let .finished(choice, reason, tokens):
                    choices[choice].reason = reason
                    choices[choice].tokens = tokens
                case let .failed(error): return .failure(error)
                }
            }
            return .success(choices)
            }
        } catch {
            outcome = .failure(.internalError("\(error)"))
        }
        scheduler.cancel(id)
        let choices = try outcome.get()
        return JSONBody.response(format.complete(choices: choices, promptTokens: parsed.promptTokens.count))
    }

    /// A server-sent-event response: chunks as the text arrives, then `data: [DONE]`.
    private func stream(
        _ events: AsyncStream<GenerationEvent>, id: UInt64, request: Request, parsed: CompletionRequest,
        format: CompletionResponse
    ) -> Response {
        let scheduler = self.scheduler
        let routes = self
        let body = ResponseBody { writer in
            defer { scheduler.cancel(id) }
            var completionTokens = 0
            try await routes.watchingDisconnect(request, id: id) {
                if parsed.endpoint == .chat {
                    for choice in 0..<parsed.choices {
                        try await writer.write(ByteBuffer(string: CompletionResponse.event(format.roleChunk(choice: choice))))
                    }
                }
                for await event in events {
                    let object: Any
                    switch event {
                    case let .text(choice, text): object = format.textChunk(choice: choice, text: text)
                    case let .finished(choice, reason, tokens):
                        completionTokens += tokens
                        object = format.finishChunk(choice: choice, reason: reason)
                    case let .failed(error): object = error.jsonObject
                    }
                    try await writer.write(ByteBuffer(string: CompletionResponse.event(object)))
                }
                if parsed.includeUsage {
                    let usage = format.usageChunk(promptTokens: parsed.promptTokens.count, completionTokens: completionTokens)
                    try await writer.write(ByteBuffer(string: CompletionResponse.event(usage)))
                }
                try await writer.write(ByteBuffer(string: CompletionResponse.done))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: body)
    }

    /// Runs `operation` while watching the connection: when the client closes it, request
    /// `id` is cancelled at once (its slots freed at the decode loop's next step).
    private func watchingDisconnect<Value: Sendable>(
        _ request: Request, id: UInt64, _ operation: () async throws -> Value
    ) async throws -> Value {
        let scheduler = self.scheduler
        return try await request.body.consumeWithInboundCloseHandler { _ in
            try await operation()
        } onInboundClosed: {
            scheduler.cancel(id)
        }
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
