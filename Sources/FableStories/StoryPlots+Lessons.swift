// Arcs with a lesson: practice pays off, telling the truth, patience, a gift made with love.

extension StoryComposer {
    // MARK: - Keep trying

    /// A skill, what goes wrong while learning it, a tip, and what success looks like.
    private struct Skill {
        let learn: String
        let fail: String
        let tip: String
        let success: String
    }

    private static let skills: [Skill] = [
        Skill(learn: "ride a bike", fail: #"the bike wobbled, and {hero.he} fell into the grass"#,
              tip: #"Look ahead, not at your feet, and keep pedaling."#,
              success: #"{hero.he} pedaled all the way to the end of the street without falling"#),
        Skill(learn: "fly a kite", fail: #"the kite dipped and crashed to the ground"#,
              tip: #"Run into the wind and let the string out slowly."#,
              success: #"the kite rose higher and higher, until it danced above the trees"#),
        Skill(learn: "tie {hero.his} shoes", fail: #"the laces got tangled in a big knot"#,
              tip: #"Make two loops like bunny ears, then cross them over and pull."#,
              success: #"{hero.he} tied a perfect bow on the very first try"#),
        Skill(learn: "swim", fail: #"{hero.he} sank and came up coughing"#,
              tip: #"Kick your legs and move your arms like a frog."#,
              success: #"{hero.he} swam all the way across the pool"#),
        Skill(learn: "whistle", fail: #"only a little puff of air came out"#,
              tip: #"Make your lips round and small, and blow softly."#,
              success: #"a clear, high sound came out"#),
        Skill(learn: "jump rope", fail: #"the rope caught on {hero.his} feet"#,
              tip: #"Jump just as the rope comes around. Listen for the tap."#,
              success: #"{hero.he} jumped ten times without stopping"#),
        Skill(learn: "build a tall tower", fail: #"the tower fell down with a crash"#,
              tip: #"Put the big blocks at the bottom and the small ones on top."#,
              success: #"the tower stood tall and did not fall"#),
        Skill(learn: "climb the big tree", fail: #"{hero.his} foot slipped, and {hero.he} slid back down"#,
              tip: #"Hold on tight and only step on the thick branches."#,
              success: #"{hero.he} reached the top branch and could see the whole town"#),
    ]

    /// The hero fails at a new skill twice, nearly gives up, gets a tip, and succeeds.
    mutating func tellKeepTrying() {
        let skill = pick(Self.skills)
        let helperIsFriend = chance(0.5)
        bind("helper", entity(helperIsFriend ? "friend" : "elder")!)
        opening()
        paragraph()
        line([
            #"{when}, {hero} decided to learn to "# + skill.learn + ".",
            #"{hero} really wanted to "# + skill.learn + #". {hero.his} friend {friend} could already do it."#,
            #"{when}, {hero} said, "Today I am going to "# + skill.learn + #"!""#,
        ])
        say(#"{hero.he} tried, but "# + skill.fail + ".")
        line([
            #"{hero} got up and tried again. Again, "# + skill.fail + ".",
            #"{hero.he} tried a second time. But "# + skill.fail + " again.",
        ])
        line([
            #"{hero} sat down and frowned. "I can't do it," {hero.he} said. "I will never learn.""#,
            #"{hero} felt {sad}. {hero.he} wanted to give up."#,
            #""This is too hard!" cried {hero}. {hero.he} felt like crying."#,
        ])
        paragraph()
        // The first mention introduces the helper: "her friend Tom" or "her dad".
        let who = helperIsFriend ? "{hero.his} friend {friend}" : "{hero.his} {elder.kind}"
        line([
            who + #" sat down next to {hero.him}. "Don't give up," {helper.he} said. "#,
            "Just then, " + who + #" came by. "Everyone makes mistakes at first," {helper.he} said. "#,
            #""Can I show you a trick?" asked "# + who + ". ",
        ].map { $0 + "\"" + skill.tip + "\"" })
        line([
            #"{hero} listened carefully. {hero.he} took a deep breath and tried one more time."#,
            #"{hero} nodded. "I will try again," {hero.he} said."#,
            #"So {hero} tried again, slowly and carefully."#,
        ])
        say(#"This time, "# + skill.success + "!")
        paragraph()
        line([
            #""I did it! I did it!" shouted {hero}."#,
            #""Look at me!" {hero} laughed. "I can do it!""#,
            #"{hero} was so {happy}. {hero.he} could not stop smiling."#,
        ])
        line([
            #"{helper} clapped. "I knew you could do it," {helper.he} said."#,
            #""Good job!" said {helper} with a big smile."#,
        ])
        line([
            #"{hero} learned that if you keep trying, you can do hard things."#,
            #"{hero} learned that everyone makes mistakes when they learn something new."#,
            #"Practice made all the difference. {hero} never gave up again."#,
            #"From then on, whenever something was hard, {hero} remembered: try, try again."#,
        ])
        coda(0.2)
    }

    // MARK: - Honesty

    /// An accident, how the hero hides it, the adult's question, and how it gets fixed.
    private struct Mess {
        let accident: String
        let hide: String
        let ask: String
        let fix: String
        /// False when the hero did it on purpose (ate the cookies): no "it was an accident".
        var accidental = true
    }

    private static let messes: [Mess] = [
        Mess(accident: #"{hero} was playing ball in the house, even though {hero.he} knew {hero.he} should play outside. The ball hit {elder}'s blue vase, and it fell to the floor with a crash."#,
             hide: #"{hero.he} quickly pushed the broken pieces under the couch."#,
             ask: #""Do you know what happened to my blue vase?""#,
             fix: #"Together they glued the vase back together. It had a few cracks, but it still looked pretty."#),
        Mess(accident: #"{hero} was painting a picture on the floor. {hero.he} bumped the jar of red paint, and it spilled all over the white rug."#,
             hide: #"{hero.he} put a pillow over the red spot."#,
             ask: #""Why is there a pillow on the rug?""#,
             fix: #"Together they scrubbed the rug with soap and warm water until the spot was almost gone."#),
        Mess(accident: #"{elder} baked cookies for a party. While {elder.he} was outside, {hero} ate one, then two, then five, until the plate was almost empty."#,
             hide: #"{hero.he} wiped the crumbs off {hero.his} face and went to play."#,
             ask: #""Where did all the cookies go?""#,
             fix: #"Together they baked a new batch of cookies, and {hero} stirred the dough."#,
             accidental: false),
        Mess(accident: #"{hero} wanted to make a gift, so {hero.he} picked all the flowers in {elder}'s garden, even the new tulips."#,
             hide: #"{hero.he} hid the flowers behind {hero.his} back."#,
             ask: #""What happened to my tulips?""#,
             fix: #"Together they put the flowers in a vase, and the next day they planted new tulips."#,
             accidental: false),
        Mess(accident: #"{hero} was reading {elder}'s old book of fairy tales. {hero.he} turned a page too fast, and it tore right down the middle."#,
             hide: #"{hero.he} closed the book and put it back on the shelf."#,
             ask: #""Do you know who tore a page in my old book?""#,
             fix: #"Together they fixed the page with clear tape, and then they read a story."#),
        Mess(accident: #"{hero} was carrying {elder}'s favorite cup to the kitchen. {hero.he} tripped on the rug, and the cup broke into three pieces."#,
             hide: #"{hero.he} put the pieces in the trash and said nothing."#,
             ask: #""Have you seen my favorite cup?""#,
             fix: #"Together they went to the market and picked out a new cup with little flowers on it."#),
    ]

    /// The hero causes an accident, hides it, feels bad, tells the truth and is forgiven.
    mutating func tellHonesty() {
        let mess = pick(Self.messes)
        opening()
        paragraph()
        say(#"{when}, "# + mess.accident)
        line([
            #"{hero} was scared. "#,
            #""Oh no," {hero} whispered. "#,
            #"{hero}'s heart began to pound. "#,
        ].map { $0 + mess.hide })
        maybe(0.6, [
            #""Maybe no one will notice," {hero.he} thought."#,
            #"{hero.he} hoped no one would find out."#,
        ])
        paragraph()
        line([
            #"Later, {hero.his} {elder.kind} came into the room. "#,
            #"Soon {elder} came in. "#,
        ].map { $0 + mess.ask + #" {elder.he} asked."# })
        line([
            #"{hero} wanted to say no. {hero.his} tummy felt tight, like a knot."#,
            #"{hero} looked at the floor. {hero.he} did not want to get in trouble."#,
            #"For a moment, {hero} said nothing. {hero.he} felt hot and {sad}."#,
        ])
        var confessions = [
            #"But {hero} knew that hiding it was wrong. "It was me," {hero.he} said. "I am sorry.""#,
            #""I have to tell you something," said {hero}. "I did it, and I am very sorry.""#,
        ]
        var answers = [
            #"{elder} was quiet for a moment. Then {elder.he} smiled. "I am glad you told me the truth, {hero}," {elder.he} said."#,
            #""Thank you for telling me," said {elder}. "Telling the truth was the brave thing to do.""#,
        ]
        if mess.accidental {
            confessions.append(#"Then {hero.he} took a deep breath. "I did it," {hero.he} said in a small voice. "I am sorry. It was an accident.""#)
            answers.append(#"{hero.his} {elder.kind} knelt down and gave {hero.him} a hug. "Thank you for telling me the truth," {elder.he} said. "Accidents happen.""#)
        } else {
            confessions.append(#"Then {hero.he} took a deep breath. "I did it," {hero.he} said in a small voice. "I should have asked first.""#)
            answers.append(#"{hero.his} {elder.kind} knelt down and gave {hero.him} a hug. "Next time, please ask," {elder.he} said. "But thank you for telling me the truth.""#)
        }
        line(confessions)
        line(answers)
        paragraph()
        say(mess.fix)
        line([
            #"{hero} felt light and happy again."#,
            #"The knot in {hero}'s tummy was gone."#,
        ])
        line([
            #"{hero} learned that telling the truth is always the right thing to do."#,
            #"{hero} learned that it is better to tell the truth, even when it is hard."#,
            #"From that day on, {hero} always told the truth."#,
        ])
        coda(0.2)
    }

    // MARK: - Garden

    /// A seed: what it is called and what it grows into.
    private static let seeds: [(plant: String, grown: String, share: String)] = [
        ("sunflower", "a tall sunflower with a big yellow face", "{hero} cut a few seeds from the flower to plant again next spring."),
        ("tomato", "a green plant full of round red tomatoes", "{hero} picked the tomatoes and shared them with the whole family."),
        ("pumpkin", "a big orange pumpkin", "{hero} and {hero.his} {elder.kind} made a pumpkin pie, and everyone had a slice."),
        ("bean", "a bean plant that climbed all the way up a long stick", "{hero} picked a basket of beans for dinner."),
        ("strawberry", "a little plant covered with sweet red berries", "{hero} shared the berries with {hero.his} friend {friend}, one for each of them."),
        ("carrot", "a fat orange carrot hiding under the leaves", "{hero} pulled it up and gave the leaves to a hungry rabbit."),
    ]

    /// The hero plants a seed, waits impatiently, keeps caring for it, and it grows.
    mutating func tellGarden() {
        let seed = pick(Self.seeds)
        bind("plant", .word(seed.plant))
        opening()
        paragraph()
        line([
            #"{when}, {hero.his} {elder.kind} gave {hero.him} a tiny {plant} seed. "If you plant it and take care of it, it will grow," {elder.he} said."#,
            #"{when}, {hero} found a {plant} seed in a little paper bag. "Can I plant it?" {hero.he} asked {hero.his} {elder.kind}. "Of course," said {elder}."#,
        ])
        line([
            #"{hero} dug a small hole in the garden, put the seed inside and covered it with soil. Then {hero.he} gave it some water."#,
            #"{hero} put the seed in a pot of dark soil and set it by the sunny window. {hero.he} watered it with a little cup."#,
        ])
        paragraph()
        line([
            #"The next morning, {hero} ran to look. Nothing had grown."#,
            #"The next day, {hero} checked on the seed. There was nothing but soil."#,
        ])
        line([
            #""Why isn't it growing?" {hero} asked. "Plants need time," said {elder}. "Keep giving it water and sunshine.""#,
            #"{hero} felt {sad}. "Be patient," said {hero.his} {elder.kind}. "Good things take time.""#,
        ])
        line([
            #"So every day, {hero} watered the seed and waited."#,
            #"Days went by. {hero} waited and waited, and {hero.he} never forgot to give it water."#,
        ])
        maybe(0.5, [
            #"One day, a big crow landed next to the spot and pecked at the soil. {hero} waved {hero.his} arms, and the crow flew away."#,
            #"One night there was a big storm. In the morning, {hero} ran out to check, but the soil was safe."#,
        ])
        paragraph()
        line([
            #"Then one morning, {hero} saw a tiny green sprout poking out of the soil! "It's growing!" {hero.he} shouted."#,
            #"At last, a little green leaf popped up. {hero} clapped {hero.his} hands. "Look, it's alive!""#,
        ])
        say(#"By the end of the summer, the sprout had become "# + seed.grown + ".")
        say(seed.share)
        line([
            #"{hero} learned that good things take time."#,
            #"Waiting was hard, but it was worth it."#,
            #"{hero} learned that when you take care of something every day, it can grow into something wonderful."#,
        ])
        coda(0.2)
    }

    // MARK: - Surprise gift

    /// A gift to make, what goes wrong while making it, and how they fix it.
    private static let gifts: [(make: String, done: String, problem: String, fix: String)] = [
        ("make a card", "folded a big piece of paper and drew hearts and flowers on it",
         "Then the glue bottle tipped over, and glue got all over the card.",
         "{friend} had an idea. They cut out the sticky part and made it into a little window."),
        ("make a necklace", "put shiny beads on a string, one by one",
         "But then the string broke, and the beads rolled all over the floor.",
         "{hero} and {friend} picked up every bead and started again with a stronger string."),
        ("bake a cake", "mixed flour, eggs and sugar, and {elder} helped them put it in the oven",
         "But when the cake came out, it was flat and a little bit burned.",
         "They covered it with pink frosting and berries, and it looked wonderful."),
        ("make up a song", "sang and clapped until they had a happy tune",
         "But when they tried to sing it again, {hero} forgot all the words.",
         "{friend} helped {hero.him} write the words down on a piece of paper."),
        ("paint a picture", "painted a big picture of the whole family under a bright sun",
         "But {hero} dropped the brush, and a big blue blob landed in the middle.",
         "{friend} laughed and said, \"Let's turn it into a pond!\" So they painted ducks on it."),
    ]

    /// The hero makes a birthday gift with a friend, something goes wrong, and it is loved.
    mutating func tellSurpriseGift() {
        let gift = pick(Self.gifts)
        bind("make", .word(gift.make))
        opening()
        paragraph()
        line([
            #"{when}, {hero} remembered that tomorrow was {hero.his} {elder.kind}'s birthday. {hero.he} wanted to give {elder.him} a special surprise."#,
            #"{when}, {hero} had a secret. It was almost {elder}'s birthday, and {hero.he} wanted to make {elder.him} something special."#,
        ])
        line([
            #"{hero} asked {hero.his} friend {friend} to help. "Let's {make}!" said {friend}."#,
            #""What should I make?" {hero} asked {hero.his} friend {friend}. {friend} thought for a moment. "Let's {make}!" {friend.he} said."#,
        ])
        say(#"So {hero} and {friend} "# + gift.done + ".")
        paragraph()
        say(gift.problem)
        line([
            #"{hero} wanted to cry. "Now it is ruined," {hero.he} said."#,
            #""Oh no!" said {hero}. {hero.he} felt very {sad}."#,
            #"{hero}'s eyes filled with tears."#,
        ])
        line([
            #""Don't worry," said {friend}. "We can fix it.""#,
            #"But {friend} put a hand on {hero.his} shoulder. "It is not ruined yet," {friend.he} said."#,
        ])
        say(gift.fix)
        paragraph()
        line([
            #"The next day, {hero} hid the gift behind {hero.his} back. "Happy birthday!" {hero.he} shouted."#,
            #"On {elder}'s birthday, {hero} gave {elder.him} the surprise. "I made it for you," {hero.he} said."#,
        ])
        line([
            #"{elder} smiled a big smile. "This is the best gift ever," {elder.he} said, and gave {hero} a big hug."#,
            #"{hero.his} {elder.kind}'s eyes grew bright. "You made this for me? Thank you, {hero}!""#,
        ])
        line([
            #"{hero} learned that the best gifts are made with love."#,
            #"{hero} learned that a gift from the heart is worth more than anything from a store."#,
            #"{hero} felt {happy}. Making someone happy felt even better than getting a gift."#,
        ])
        coda(0.2)
    }
}
