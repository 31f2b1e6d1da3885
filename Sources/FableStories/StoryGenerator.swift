import FableTensor

// MARK: - Plots

/// The story arcs the generator knows. Each has its own beats, branches and moral.
public enum StoryPlot: String, Sendable, CaseIterable {
    case lostObject = "lost object"
    case newFriend = "new friend"
    case sharing
    case helping
    case trip
    case rainyDay = "rainy day"
    case fearOvercome = "fear overcome"
    case keepTrying = "keep trying"
    case honesty
    case garden
    case surpriseGift = "surprise gift"
}

// MARK: - A generated story

/// One story with what it was made of, for checks and statistics.
public struct GeneratedStory: Sendable {
    /// The story: paragraphs separated by "\n", no trailing newline, no separator.
    public var text: String
    /// The arc it follows.
    public var plot: StoryPlot
    /// Every character the story could mention (hero, friend, the adult, ...).
    public var cast: [StoryCharacter]
    /// Every prop bound in the story.
    public var props: [StoryProp]
}

// MARK: - Generator

/// A deterministic generator of short children's stories, Fable's built-in corpus.
///
/// Stories follow one of several arcs (``StoryPlot``): a named hero with a trait, a place,
/// a thing, a feeling, a problem, dialogue in quotes, a resolution and a small moral.
/// Names, pronouns, articles and number agreement are kept consistent within a story, and
/// the vocabulary is small (about two thousand words), so a tiny model learns it quickly.
///
/// The same seed always gives the same sequence of stories, byte for byte:
/// ```swift
/// var generator = StoryGenerator(seed: 0)
/// let story = generator.nextStory()
/// ```
public struct StoryGenerator {
    /// The separator written after every story in a corpus file, on its own line
    /// (the TinyStories convention).
    public static let endOfText = "<|endoftext|>"

    /// Story length bounds in words; a draw outside them is replaced by the next draw.
    public static let wordRange = 80...250

    private var composer: StoryComposer

    /// How many drawn stories fell outside ``wordRange`` and were replaced (a health figure:
    /// the arcs are written so this stays near zero).
    public private(set) var redraws = 0

    /// A generator whose stories are fixed by `seed`.
    /// - Parameters:
    ///   - seed: The seed of the random stream.
    ///   - annotatesPronouns: Checking mode: follow every he/she/him/her/his/himself/herself
    ///     with `⟨name⟩` of the character it refers to. The random stream, and so the story
    ///     once the marks are removed, is the same as without it.
    public init(seed: UInt64, annotatesPronouns: Bool = false) {
        composer = StoryComposer(rng: RandomGenerator(seed: seed), annotatesPronouns: annotatesPronouns)
    }

    /// The next story's text (no separator).
    public mutating func nextStory() -> String {
        nextDetailedStory().text
    }

    /// The next story with its plot and cast.
    public mutating func nextDetailedStory() -> GeneratedStory {
        while true {
            composer.reset()
            let plot = composer.pick(StoryPlot.allCases)
            composer.castStory()
            composer.tell(plot)
            // The arcs are written to land inside the bounds; this only trims the rare tail.
            if StoryGenerator.wordRange.contains(composer.wordCount) {
                return GeneratedStory(text: composer.text, plot: plot, cast: composer.characters, props: composer.props)
            }
            redraws += 1
        }
    }
}

// MARK: - Casting and dispatch

extension StoryComposer {
    /// Binds the roles every arc may use: hero, friend, elder, obj, food, place and words.
    mutating func castStory() {
        let hero = makeCharacter(avoiding: [], childChance: 0.55)
        let friend = makeCharacter(avoiding: [hero.name], childChance: 0.6)
        let elder = pick(StoryVocabulary.elders)
        bind("hero", .character(hero))
        bind("friend", .character(friend))
        bind("elder", .character(StoryCharacter(
            name: elder.name, kind: elder.kind, trait: "kind", gender: elder.gender, home: hero.home, hasProperName: false)))

        let treasure = pick(StoryVocabulary.treasures)
        bind("obj", .prop(StoryProp(
            noun: treasure.noun, adjective: pick(treasure.adjectives), isPlural: treasure.plural, collective: treasure.collective)))
        let food = pick(StoryVocabulary.foods)
        bind("food", .prop(StoryProp(noun: food.noun, adjective: pick(food.adjectives), isPlural: true)))
        bind("place", .place(pick(StoryVocabulary.places)))

        let weather = pick(StoryVocabulary.fineWeather)
        let time = pick(StoryVocabulary.times)
        bind("when", .word(pick(["One day", "One \(weather) \(time)", "One \(weather) day", "Early one morning", "One \(time)"])))
        bind("hobby", .word(pick(StoryVocabulary.hobbies)))
        bind("size", .word(pick(StoryVocabulary.sizes)))
        bind("happy", .word(pick(StoryVocabulary.happyFeelings)))
        bind("sad", .word(pick(StoryVocabulary.sadFeelings)))
    }

    /// A new character whose name is not in `avoiding`.
    mutating func makeCharacter(avoiding names: [String], childChance: Double) -> StoryCharacter {
        let isChild = chance(childChance)
        let species = isChild ? pick(StoryVocabulary.children) : pick(StoryVocabulary.animals)
        let gender = species.gender ?? (chance(0.5) ? .female : .male)
        var name: String
        repeat {
            if !isChild && chance(0.6) {
                name = pick(StoryVocabulary.petNames)
            } else {
                name = pick(gender == .female ? StoryVocabulary.girlNames : StoryVocabulary.boyNames)
            }
        } while names.contains(name)
        return StoryCharacter(
            name: name, kind: species.kind, trait: pick(StoryVocabulary.traits), gender: gender,
            home: pick(species.homes), hasProperName: true)
    }

    /// The kind of the bound character `role`.
    func kind(of role: String) -> String {
        if case .character(let c)? = entity(role) { return c.kind }
        return ""
    }

    /// Tells the story of `plot` with the roles already bound.
    mutating func tell(_ plot: StoryPlot) {
        switch plot {
        case .lostObject: tellLostObject()
        case .newFriend: tellNewFriend()
        case .sharing: tellSharing()
        case .helping: tellHelping()
        case .trip: tellTrip()
        case .rainyDay: tellRainyDay()
        case .fearOvercome: tellFearOvercome()
        case .keepTrying: tellKeepTrying()
        case .honesty: tellHonesty()
        case .garden: tellGarden()
        case .surpriseGift: tellSurpriseGift()
        }
    }
}
