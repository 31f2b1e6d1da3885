import FableTensor

/// Renders story templates into text, one sentence at a time.
///
/// A template is English with placeholders in braces:
/// - `{role}` and `{role.form}` name an entity bound with ``bind(_:_:)`` and one of its
///   forms (``StoryEntity/form(_:)``): `{hero}`, `{hero.his}`, `{obj.was}`, `{place.at}`.
///   A capitalised form (`{hero.He}`) is capitalised; any placeholder that starts a sentence
///   is capitalised as well.
/// - `{a}` / `{A}` is the indefinite article of the next word: "a" or "an".
/// - `{~x|y|z}` picks one of the plain-text alternatives at random.
///
/// Sentences are joined by single spaces, paragraphs by a newline. Every third-person
/// pronoun comes from a character's gender; in checking mode (`annotatesPronouns`) each one
/// is followed by `⟨name⟩`, so tests can verify that every "he" or "her" in a story belongs
/// to a character of that gender.
struct StoryComposer {
    /// The story's random stream: template choices and casting both draw from it.
    var rng: RandomGenerator
    /// Checking mode: mark every pronoun with its character's name.
    let annotatesPronouns: Bool

    /// The story so far, as UTF-8.
    private(set) var bytes: [UInt8] = []
    private var roles: [(name: String, entity: StoryEntity)] = []
    /// Where the current paragraph starts in ``bytes``.
    private var paragraphStart = 0
    /// `{a}` placeholders waiting for their next word: (byte offset, capitalised).
    private var pendingArticles: [(at: Int, capital: Bool)] = []

    init(rng: RandomGenerator, annotatesPronouns: Bool) {
        self.rng = rng
        self.annotatesPronouns = annotatesPronouns
        bytes.reserveCapacity(4096)
    }

    // MARK: - Story lifecycle

    /// Clears the text and the bindings for the next story, keeping the random stream.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        roles.removeAll(keepingCapacity: true)
        paragraphStart = 0
    }

    /// Binds `role` (as written in templates) to `entity`, replacing an earlier binding.
    mutating func bind(_ role: String, _ entity: StoryEntity) {
        if let i = roles.firstIndex(where: { $0.name == role }) {
            roles[i].entity = entity
        } else {
            roles.append((role, entity))
        }
    }

    /// The entity bound to `role`, if any.
    func entity(_ role: String) -> StoryEntity? {
        roles.first(where: { $0.name == role })?.entity
    }

    /// Every character bound in this story, once each (a role such as "helper" can alias
    /// another role's character).
    var characters: [StoryCharacter] {
        var result: [StoryCharacter] = []
        for (_, entity) in roles {
            if case .character(let c) = entity, !result.contains(c) { result.append(c) }
        }
        return result
    }

    /// Every prop bound in this story.
    var props: [StoryProp] {
        roles.compactMap { if case .prop(let p) = $0.entity { return p } else { return nil } }
    }

    /// The story text: paragraphs separated by newlines, no trailing newline.
    var text: String {
        var end = bytes.count
        while end > 0, bytes[end - 1] == newline { end -= 1 }
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// The number of words written so far (runs of non-space bytes).
    var wordCount: Int {
        bytes.withUnsafeBufferPointer { buffer in
            var count = 0
            var inWord = false
            for b in buffer {
                let isSpace = b == space || b == newline
                if !isSpace && !inWord { count += 1 }
                inWord = !isSpace
            }
            return count
        }
    }

    // MARK: - Random choices

    /// One element of `options`, uniformly.
    mutating func pick<T>(_ options: [T]) -> T {
        options[rng.nextInt(below: options.count)]
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        rng.nextUnitDouble() < p
    }

    // MARK: - Writing

    /// Writes one template (one or more sentences) into the current paragraph.
    mutating func say(_ template: String) {
        if bytes.count > paragraphStart { bytes.append(space) }
        let start = bytes.count
        render(template)
        resolveArticles()
        capitalizeFirstLetter(from: start)
    }

    /// Writes one template chosen at random from `options`.
    mutating func line(_ options: [String]) {
        say(pick(options))
    }

    /// With probability `p`, writes one template chosen from `options`.
    mutating func maybe(_ p: Double, _ options: [String]) {
        if chance(p) { line(options) }
    }

    /// Ends the current paragraph (a no-op when it is empty).
    mutating func paragraph() {
        if bytes.count > paragraphStart {
            bytes.append(newline)
            paragraphStart = bytes.count
        }
    }

    // MARK: - Rendering

    private mutating func render(_ template: String) {
        let utf8 = template.utf8
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let b = utf8[i]
            guard b == openBrace else {
                bytes.append(b)
                i = utf8.index(after: i)
                continue
            }
            let innerStart = utf8.index(after: i)
            guard let close = utf8[innerStart...].firstIndex(of: closeBrace) else {
                preconditionFailure("unclosed placeholder in story template: \(template)")
            }
            placeholder(template[innerStart..<close], in: template)
            i = utf8.index(after: close)
        }
    }

    private mutating func placeholder(_ inner: Substring, in template: String) {
        if inner == "a" || inner == "A" {
            pendingArticles.append((bytes.count, inner == "A"))
            return
        }
        if inner.first == "~" {
            let choices = inner.dropFirst().split(separator: "|", omittingEmptySubsequences: false)
            append(pick(choices), capital: false)
            return
        }
        let key: Substring
        var attribute: Substring = ""
        if let dot = inner.firstIndex(of: ".") {
            key = inner[inner.startIndex..<dot]
            attribute = inner[inner.index(after: dot)...]
        } else {
            key = inner
        }
        guard let entity = roles.first(where: { $0.name == key })?.entity else {
            preconditionFailure("story template names an unbound role {\(inner)}: \(template)")
        }
        let capital = attribute.first?.isUppercase ?? false
        let lookup: Substring = capital ? Substring(attribute.lowercased()) : attribute
        guard let form = entity.form(lookup) else {
            preconditionFailure("story template asks for a form that does not exist {\(inner)}: \(template)")
        }
        append(form.text[...], capital: capital)
        if form.isPronoun, annotatesPronouns, case .character(let c) = entity {
            bytes.append(contentsOf: "⟨\(c.name)⟩".utf8)
        }
    }

    /// Appends `text`, capitalising its first letter when asked or at a sentence start.
    private mutating func append(_ text: Substring, capital: Bool) {
        let start = bytes.count
        let upper = capital || isSentenceStart(at: start)
        bytes.append(contentsOf: text.utf8)
        if upper, start < bytes.count { bytes[start] = uppercased(bytes[start]) }
    }

    /// Inserts "a" or "an" for each pending `{a}`, judged by the next letter written.
    private mutating func resolveArticles() {
        // Last first, so inserting never moves a position still to be resolved.
        while let (at, capital) = pendingArticles.popLast() {
            var j = at
            while j < bytes.count, !isLetter(bytes[j]) { j += 1 }
            let vowel = j < bytes.count && StoryText.isVowelLetter(bytes[j])
            var word: [UInt8] = vowel ? [UInt8(ascii: "a"), UInt8(ascii: "n")] : [UInt8(ascii: "a")]
            if capital || isSentenceStart(at: at) { word[0] = UInt8(ascii: "A") }
            bytes.insert(contentsOf: word, at: at)
        }
    }

    /// True when a word written at `index` starts a sentence: at the paragraph start,
    /// after ". ", "! ", "? " or `." ` (speech that ended its sentence), or right after an
    /// opening quote. After `!" ` and `?" ` a speech tag may follow ("Wow!" she said).
    private func isSentenceStart(at index: Int) -> Bool {
        if index <= paragraphStart { return true }
        let previous = bytes[index - 1]
        if previous == quote {
            return index - 1 == paragraphStart || bytes[index - 2] == space
        }
        if previous == space, index - 2 >= paragraphStart {
            let p = bytes[index - 2]
            if p == quote { return index - 3 >= paragraphStart && bytes[index - 3] == period }
            return p == period || p == bang || p == question
        }
        return false
    }

    private mutating func capitalizeFirstLetter(from start: Int) {
        var i = start
        while i < bytes.count, bytes[i] == quote { i += 1 }
        if i < bytes.count { bytes[i] = uppercased(bytes[i]) }
    }
}

// MARK: - Bytes

private let space = UInt8(ascii: " ")
private let newline = UInt8(ascii: "\n")
private let quote = UInt8(ascii: "\"")
private let period = UInt8(ascii: ".")
private let bang = UInt8(ascii: "!")
private let question = UInt8(ascii: "?")
private let openBrace = UInt8(ascii: "{")
private let closeBrace = UInt8(ascii: "}")

@inline(__always) private func isLetter(_ b: UInt8) -> Bool {
    (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
}

@inline(__always) private func uppercased(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b
}
