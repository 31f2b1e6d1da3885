// The word lists the story generator draws from. The lists are small on purpose: the
// whole corpus uses about two thousand distinct words, so a tiny model can learn them.
// Words whose article does not follow the vowel-letter rule ("hour", "unicorn") are left
// out, so "a"/"an" is always exact.

/// The vocabulary of Fable's built-in story world.
enum StoryVocabulary {
    // MARK: - Names

    static let girlNames = [
        "Lily", "Mia", "Emma", "Sara", "Lucy", "Anna", "Ella", "Zoe", "Amy", "Rosa",
        "Nora", "Ruby", "Daisy", "Ivy", "Maya", "Lena", "Kate", "Jill", "Molly", "Hannah",
        "Grace", "Chloe", "Sophie", "Julia", "Tina", "Bella", "Olive", "Hazel", "Nina", "Clara",
    ]

    static let boyNames = [
        "Tom", "Ben", "Sam", "Max", "Leo", "Jack", "Tim", "Finn", "Noah", "Owen",
        "Luke", "Jake", "Eli", "Oscar", "Henry", "Theo", "Milo", "Adam", "Ryan", "Dan",
        "Alex", "Hugo", "Leon", "Ned", "Paul", "Toby", "Will", "Jonah", "Kai", "Zack",
    ]

    /// Names for animals, used with either gender. None ends in "s", so "'s" always reads well.
    static let petNames = [
        "Pip", "Dot", "Bo", "Coco", "Toffee", "Sunny", "Patch", "Hopper", "Fluffy", "Button",
        "Pepper", "Ziggy", "Biscuit", "Peanut", "Sparky", "Fuzzy", "Lulu", "Poppy", "Nutmeg", "Twig",
    ]

    /// Every proper name the generator can use, for checks that names stay consistent.
    static let allNames: Set<String> = Set(girlNames + boyNames + petNames)

    // MARK: - Kinds of characters

    /// A kind of hero or friend, with the homes it can live in.
    struct Species {
        let kind: String
        /// Nil for animals (either gender); the gender for "girl" and "boy".
        let gender: StoryGender?
        let homes: [String]
        var isPerson: Bool { gender != nil }
    }

    static let children: [Species] = [
        Species(kind: "girl", gender: .female, homes: childHomes),
        Species(kind: "boy", gender: .male, homes: childHomes),
    ]

    static let childHomes = [
        "a little house near the woods", "a yellow house with a red door", "a small town by the sea",
        "a big city", "a cozy house on a quiet street", "a white house on a hill",
    ]

    static let animals: [Species] = [
        Species(kind: "bunny", gender: nil, homes: ["a cozy hole under an old tree", "a burrow near the garden"]),
        Species(kind: "cat", gender: nil, homes: ["a warm house with a big garden", "a blue house in a small town"]),
        Species(kind: "puppy", gender: nil, homes: ["a blue house at the end of the street", "a warm house with a big yard"]),
        Species(kind: "kitten", gender: nil, homes: ["a little house with a green door", "a busy house in the city"]),
        Species(kind: "bear", gender: nil, homes: ["a big cave in the woods", "a warm den under the hill"]),
        Species(kind: "fox", gender: nil, homes: ["a den at the edge of the forest", "a snug den under a bush"]),
        Species(kind: "mouse", gender: nil, homes: ["a tiny hole in the kitchen wall", "a little nest in the barn"]),
        Species(kind: "duck", gender: nil, homes: ["a nest by the pond", "a reed house by the lake"]),
        Species(kind: "owl", gender: nil, homes: ["a hollow in a tall tree", "an old tree in the forest"]),
        Species(kind: "frog", gender: nil, homes: ["a quiet pond", "a green pond full of lily pads"]),
        Species(kind: "squirrel", gender: nil, homes: ["a nest high in an oak tree", "a tall tree in the park"]),
        Species(kind: "elephant", gender: nil, homes: ["a sunny field near the river", "a wide valley"]),
        Species(kind: "turtle", gender: nil, homes: ["a pond near the meadow", "a sandy spot by the lake"]),
        Species(kind: "pig", gender: nil, homes: ["a muddy pen on a farm", "a little barn on a hill"]),
        Species(kind: "lamb", gender: nil, homes: ["a green field on a farm", "a warm barn on a farm"]),
        Species(kind: "otter", gender: nil, homes: ["a river with lots of smooth stones", "a quiet river"]),
        Species(kind: "bird", gender: nil, homes: ["a nest in an apple tree", "a nest high in a tree"]),
        Species(kind: "hedgehog", gender: nil, homes: ["a pile of leaves in the garden", "a hedge by the road"]),
    ]

    /// One-word traits, used as "a {trait} {kind}".
    static let traits = [
        "kind", "brave", "shy", "curious", "happy", "gentle", "silly", "clever", "friendly", "cheerful",
        "careful", "playful", "quiet", "busy", "sweet", "smart", "funny", "sleepy", "eager", "polite",
        "helpful", "lively", "bright", "jolly", "energetic",
    ]

    static let sizes = ["little", "small", "young", "tiny"]

    /// The adult who looks after the hero: (name used in speech, kind, gender).
    static let elders: [(name: String, kind: String, gender: StoryGender)] = [
        ("Mom", "mom", .female), ("Dad", "dad", .male), ("Grandma", "grandma", .female), ("Grandpa", "grandpa", .male),
    ]

    // MARK: - Doing things

    /// What a hero loves to do, as a bare verb phrase.
    static let hobbies = [
        "play outside", "sing songs", "draw pictures", "read stories", "run in the grass", "build tall towers",
        "look at the clouds", "dance to music", "jump in puddles", "play games with friends", "pick flowers",
        "count the stars", "climb trees", "splash in the water", "make up songs", "look for bugs",
        "paint with bright colors", "play hide and seek", "ride in the wagon", "watch the birds",
    ]

    /// Times of day for "One sunny morning".
    static let times = ["morning", "afternoon", "day", "evening"]

    /// Weather words for a fine day.
    static let fineWeather = ["sunny", "bright", "warm", "nice", "lovely", "clear"]

    static let happyFeelings = ["happy", "glad", "cheerful", "joyful", "delighted"]
    static let sadFeelings = ["sad", "upset", "worried", "unhappy", "gloomy", "glum"]

    // MARK: - Places

    static let places: [StoryPlace] = [
        StoryPlace(name: "park", preposition: "at", sights: "tall trees and a big pond", activity: "played on the swings"),
        StoryPlace(name: "garden", preposition: "in", sights: "bright flowers and buzzing bees", activity: "smelled the flowers"),
        StoryPlace(name: "forest", preposition: "in", sights: "tall trees and soft green moss", activity: "looked for pinecones"),
        StoryPlace(name: "beach", preposition: "at", sights: "warm sand and blue waves", activity: "built a sandcastle"),
        StoryPlace(name: "farm", preposition: "on", sights: "cows, pigs and a big red barn", activity: "fed the chickens"),
        StoryPlace(name: "playground", preposition: "at", sights: "a slide, a sandbox and two swings", activity: "went down the slide"),
        StoryPlace(name: "meadow", preposition: "in", sights: "tall grass and yellow flowers", activity: "chased butterflies"),
        StoryPlace(name: "lake", preposition: "by", sights: "calm water and little boats", activity: "threw stones into the water"),
        StoryPlace(name: "hill", preposition: "on", sights: "soft grass and a big old tree", activity: "rolled down the grass"),
        StoryPlace(name: "river", preposition: "by", sights: "smooth stones and little fish", activity: "watched the fish swim"),
        StoryPlace(name: "backyard", preposition: "in", sights: "a sandbox and an old apple tree", activity: "dug in the sandbox"),
    ]

    /// Places for a day trip: further away, with more to see.
    static let tripPlaces: [StoryPlace] = [
        StoryPlace(name: "zoo", preposition: "at", sights: "lions, monkeys and tall giraffes", activity: "watched the monkeys swing"),
        StoryPlace(name: "beach", preposition: "at", sights: "warm sand, big waves and white birds", activity: "built a sandcastle"),
        StoryPlace(name: "farm", preposition: "on", sights: "cows, sheep and a big red barn", activity: "fed the baby goats"),
        StoryPlace(name: "museum", preposition: "at", sights: "old bones, shiny rocks and big paintings", activity: "looked at the dinosaur bones"),
        StoryPlace(name: "aquarium", preposition: "at", sights: "fish of every color and a big shark", activity: "watched the fish swim"),
        StoryPlace(name: "mountain", preposition: "on", sights: "tall pine trees and snowy tops", activity: "climbed a rocky path"),
        StoryPlace(name: "lake", preposition: "by", sights: "calm water, ducks and little boats", activity: "rode in a little boat"),
        StoryPlace(name: "fair", preposition: "at", sights: "bright lights, music and a big wheel", activity: "rode the big wheel"),
    ]

    /// How a family travels on a trip, as a past-tense verb phrase.
    static let rides = [
        "drove there in the car", "rode there on a big bus", "rode there on a long train",
        "went there on their bikes", "walked there along a winding path",
    ]

    // MARK: - Things

    /// Toys and treasures a hero can love and lose.
    static let treasures: [(noun: String, adjectives: [String], plural: Bool, collective: String)] = [
        ("ball", ["red", "blue", "bouncy", "big", "orange"], false, ""),
        ("kite", ["red", "yellow", "orange", "striped"], false, ""),
        ("teddy bear", ["brown", "soft", "old", "fluffy"], false, ""),
        ("doll", ["small", "pretty", "old", "rag"], false, ""),
        ("toy car", ["red", "fast", "little", "green"], false, ""),
        ("hat", ["blue", "red", "warm", "straw"], false, ""),
        ("scarf", ["green", "warm", "striped", "purple"], false, ""),
        ("boots", ["yellow", "red", "shiny", "rain"], true, "a pair of"),
        ("mittens", ["warm", "pink", "woolly", "blue"], true, "a pair of"),
        ("crayons", ["new", "bright", "colorful"], true, "a box of"),
        ("marbles", ["shiny", "glass", "blue"], true, "a bag of"),
        ("blocks", ["wooden", "colorful", "big"], true, "a set of"),
        ("shell", ["pink", "shiny", "pretty"], false, ""),
        ("stone", ["shiny", "smooth", "round"], false, ""),
        ("necklace", ["pretty", "shiny", "bead"], false, ""),
        ("toy boat", ["little", "wooden", "white"], false, ""),
        ("drum", ["small", "red", "loud"], false, ""),
        ("whistle", ["silver", "shiny", "little"], false, ""),
        ("toy train", ["wooden", "long", "green"], false, ""),
        ("toy robot", ["little", "silver", "old"], false, ""),
        ("ribbon", ["pink", "red", "purple", "long"], false, ""),
        ("blanket", ["soft", "warm", "blue", "old"], false, ""),
        ("book", ["new", "picture", "old", "big"], false, ""),
        ("bucket", ["yellow", "little", "blue"], false, ""),
    ]

    /// Snacks to share; all plural so "them" and "were" always fit.
    static let foods: [(noun: String, adjectives: [String])] = [
        ("cookies", ["warm", "sweet", "big"]), ("apples", ["red", "green", "juicy"]),
        ("berries", ["sweet", "fresh", "red"]), ("grapes", ["green", "purple", "sweet"]),
        ("muffins", ["warm", "little", "blueberry"]), ("cupcakes", ["pink", "little", "sweet"]),
        ("strawberries", ["fresh", "red", "big"]), ("cherries", ["red", "sweet", "dark"]),
        ("crackers", ["crunchy", "little", "salty"]), ("oranges", ["juicy", "sweet", "round"]),
        ("plums", ["purple", "juicy", "ripe"]), ("carrots", ["orange", "crunchy", "fresh"]),
    ]

    /// Where a thing lost outdoors turns up.
    static let outdoorHidingPlaces = [
        "under a pile of leaves", "behind a big rock", "in the tall grass", "under a bush",
        "next to an old log", "inside a hollow tree", "under a wooden bench", "beside the path",
    ]

    /// Where a thing lost at home turns up.
    static let indoorHidingPlaces = [
        "under the bed", "behind the couch", "in the toy box", "under the table", "next to the door",
        "inside an old boot", "on top of the shelf", "in the laundry basket", "under a pillow",
    ]

    /// Places to look that turn out empty.
    static let emptyPlaces = [
        "under the bed", "in the kitchen", "behind the door", "in the closet", "under the stairs",
        "in the garden", "under the table", "in the toy box", "behind the couch", "on the porch",
    ]

    /// Indoor games for a rainy day: (verb phrase, what they did, a result).
    static let indoorGames: [(plan: String, done: String, result: String)] = [
        ("build a fort with blankets", "put blankets over the chairs to make a fort", "The fort was dark and cozy inside."),
        ("bake some cookies", "mixed flour, sugar and eggs in a big bowl", "Soon the whole house smelled sweet."),
        ("paint pictures", "painted a big sun, a green tree and a little house", "The pictures were bright and happy."),
        ("play a board game", "rolled the dice and moved the little pieces", "They laughed every time someone won."),
        ("make a puppet show", "made puppets out of old socks and buttons", "The sock puppets told a funny story."),
        ("have a dance party", "turned on the music and danced around the room", "They danced until they were out of breath."),
        ("read stories", "sat on the couch and read a big book of stories", "The stories were about pirates and dragons."),
        ("build a tower of blocks", "stacked the blocks higher and higher", "The tower was almost as tall as the door."),
    ]
}
