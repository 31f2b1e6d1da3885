// The entities a generated story is made of: characters, props and places, and the word
// forms each one offers to the story templates (pronouns, articles, verb agreement).

// MARK: - Gender and pronouns

/// The grammatical gender of a story character, which fixes its pronouns.
public enum StoryGender: String, Sendable, CaseIterable {
    case female
    case male

    /// The subject pronoun: "she" or "he".
    public var subject: String { self == .female ? "she" : "he" }
    /// The object pronoun: "her" or "him".
    public var object: String { self == .female ? "her" : "him" }
    /// The possessive determiner: "her" or "his".
    public var possessive: String { self == .female ? "her" : "his" }
    /// The reflexive pronoun: "herself" or "himself".
    public var reflexive: String { self == .female ? "herself" : "himself" }

    /// Every third-person singular pronoun form of this gender.
    public var pronounForms: Set<String> { [subject, object, possessive, reflexive] }
}

// MARK: - Characters

/// A character in one story: a name, what kind of creature it is, a trait and a gender.
///
/// Templates refer to a character through its role (`{hero}`, `{friend.his}`, ...);
/// every pronoun in a story comes from a character's ``gender``, which is what makes
/// pronoun agreement checkable.
public struct StoryCharacter: Sendable, Equatable {
    /// How the story calls the character: "Mia", "Mom", or "the duck" for an unnamed one.
    public var name: String
    /// What it is: "girl", "bunny", "mom".
    public var kind: String
    /// A one-word trait: "shy", "curious".
    public var trait: String
    /// Fixes the pronouns.
    public var gender: StoryGender
    /// Where it lives, as a noun phrase: "a cozy hole under an old tree".
    public var home: String
    /// True when ``name`` is a proper name from the name lists (not "Mom" or "the duck").
    public var hasProperName: Bool

    /// Creates a character.
    public init(name: String, kind: String, trait: String, gender: StoryGender, home: String, hasProperName: Bool) {
        self.name = name
        self.kind = kind
        self.trait = trait
        self.gender = gender
        self.home = home
        self.hasProperName = hasProperName
    }
}

// MARK: - Props

/// A thing in a story (a toy, a snack, a seed), with the forms that keep number agreement.
public struct StoryProp: Sendable, Equatable {
    /// The bare noun: "ball", "boots".
    public var noun: String
    /// An optional adjective placed before the noun: "red".
    public var adjective: String
    /// True for plural things ("boots", "cookies"): "they were" instead of "it was".
    public var isPlural: Bool
    /// The indefinite phrase for plural things ("a pair of", "a box of"); empty means "some".
    public var collective: String

    /// Creates a prop.
    public init(noun: String, adjective: String = "", isPlural: Bool = false, collective: String = "") {
        self.noun = noun
        self.adjective = adjective
        self.isPlural = isPlural
        self.collective = collective
    }

    /// The noun with its adjective: "red ball".
    public var phrase: String { adjective.isEmpty ? noun : adjective + " " + noun }

    /// The phrase with an indefinite article: "a red ball", "an orange kite",
    /// "a pair of yellow boots", "some cookies".
    public var indefinite: String {
        if isPlural { return (collective.isEmpty ? "some" : collective) + " " + phrase }
        return StoryText.article(for: phrase) + " " + phrase
    }
}

// MARK: - Places

/// A place a story happens in.
public struct StoryPlace: Sendable, Equatable {
    /// The noun: "park".
    public var name: String
    /// The preposition used for being there: "at" (the park), "in" (the forest), "on" (the farm).
    public var preposition: String
    /// Things to see there, as a noun phrase: "tall trees and a big pond".
    public var sights: String
    /// Something to do there, as a past-tense verb phrase: "played on the swings".
    public var activity: String

    /// Creates a place.
    public init(name: String, preposition: String, sights: String, activity: String) {
        self.name = name
        self.preposition = preposition
        self.sights = sights
        self.activity = activity
    }
}

// MARK: - Entities seen by templates

/// One value a template placeholder can name.
enum StoryEntity {
    case character(StoryCharacter)
    case prop(StoryProp)
    case place(StoryPlace)
    case word(String)

    /// The text for `{role.attribute}` (attribute in lower case, empty for `{role}`), and
    /// whether it is a third-person pronoun (annotated in checking mode).
    /// Returns nil for an attribute this entity does not have.
    func form(_ attribute: Substring) -> (text: String, isPronoun: Bool)? {
        switch self {
        case .character(let c):
            switch attribute {
            case "": return (c.name, false)
            case "kind": return (c.kind, false)
            case "trait": return (c.trait, false)
            case "home": return (c.home, false)
            case "he": return (c.gender.subject, true)
            case "him": return (c.gender.object, true)
            case "his": return (c.gender.possessive, true)
            case "himself": return (c.gender.reflexive, true)
            default: return nil
            }
        case .prop(let p):
            switch attribute {
            case "": return (p.phrase, false)
            case "noun": return (p.noun, false)
            case "a": return (p.indefinite, false)
            case "it": return (p.isPlural ? "they" : "it", false)
            case "them": return (p.isPlural ? "them" : "it", false)
            case "its": return (p.isPlural ? "their" : "its", false)
            case "was": return (p.isPlural ? "were" : "was", false)
            case "is": return (p.isPlural ? "are" : "is", false)
            case "this": return (p.isPlural ? "these" : "this", false)
            case "that": return (p.isPlural ? "those" : "that", false)
            default: return nil
            }
        case .place(let p):
            switch attribute {
            case "": return (p.name, false)
            case "the": return ("the " + p.name, false)
            case "at": return (p.preposition + " the " + p.name, false)
            case "to": return ("to the " + p.name, false)
            case "sights": return (p.sights, false)
            case "activity": return (p.activity, false)
            default: return nil
            }
        case .word(let w):
            return attribute.isEmpty ? (w, false) : nil
        }
    }
}

// MARK: - Text helpers

/// Small English helpers shared by the generator and its checks.
public enum StoryText {
    /// "an" before a vowel letter, "a" otherwise. The vocabulary avoids words where the
    /// letter rule is wrong ("hour", "unicorn"), so the rule is exact for generated text.
    public static func article(for phrase: String) -> String {
        guard let first = phrase.utf8.first else { return "a" }
        return isVowelLetter(first) ? "an" : "a"
    }

    /// True for the ASCII letters a, e, i, o, u in either case.
    @inline(__always)
    static func isVowelLetter(_ byte: UInt8) -> Bool {
        switch byte | 0x20 {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"): return true
        default: return false
        }
    }
}
