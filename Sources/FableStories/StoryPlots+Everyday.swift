// Everyday arcs: a lost thing found, a new friend, sharing, helping someone in need.

extension StoryComposer {
    // MARK: - Lost object

    /// The hero loses a loved thing (at a place or at home), searches, and finds it.
    mutating func tellLostObject() {
        opening()
        line([
            #"{hero.he} had {obj.a} that {hero.he} loved very much."#,
            #"{hero.he} loved {hero.his} {obj} more than anything."#,
            #"{hero.his} {elder.kind} had given {hero.him} {obj.a}, and {hero.he} took {obj.them} everywhere."#,
            #"{hero} had {obj.a}. {hero.he} took {obj.them} everywhere {hero.he} went."#,
        ])
        paragraph()
        let friendHelps = chance(0.5)
        if chance(0.5) {
            bind("hide", .word(pick(StoryVocabulary.outdoorHidingPlaces)))
            // Lost while out: the search goes back to the place.
            line([
                #"{when}, {hero} took {hero.his} {obj.noun} {place.to}."#,
                #"{when}, {hero} went {place.to} with {hero.his} {obj}."#,
                #"{when}, {hero} and {hero.his} {elder.kind} went {place.to}. {hero} brought {hero.his} {obj.noun} too."#,
            ])
            line([
                #"{hero.he} {place.activity} and had lots of fun."#,
                #"There {hero.he} saw {place.sights}."#,
                #"{hero.he} {place.activity} until {hero.he} was tired."#,
            ])
            line([
                #"When it was time to go home, {hero} reached for {hero.his} {obj.noun}. But {obj.it} {obj.was} not there!"#,
                #"Later, {hero} looked around. {hero.his} {obj.noun} {obj.was} gone!"#,
                #"When {hero.he} got home, {hero.he} saw that {hero.his} {obj.noun} {obj.was} missing."#,
            ])
            lossReaction()
            paragraph()
            line([
                #"So they went back {place.to}. They looked by the path and near the trees, but they did not see {obj.them}."#,
                #"They walked back {place.to} and looked everywhere. {hero} looked high and low."#,
                #"Back {place.at}, they looked all around. The {obj.noun} {obj.was} nowhere to be seen."#,
            ])
        } else {
            // Lost at home: the search goes room by room.
            let hide = pick(StoryVocabulary.indoorHidingPlaces)
            var spots = StoryVocabulary.emptyPlaces.filter { $0 != hide }
            let spot1 = pick(spots)
            spots.removeAll { $0 == spot1 }
            bind("hide", .word(hide))
            bind("spot1", .word(spot1))
            bind("spot2", .word(pick(spots)))
            line([
                #"{when}, {hero} wanted to play with {hero.his} {obj.noun}, but {hero.he} could not find {obj.them}."#,
                #"{when}, {hero} woke up and looked for {hero.his} {obj}. {obj.it} {obj.was} not in {obj.its} usual spot."#,
                #"{when}, {hero} came home from the {place} and looked for {hero.his} {obj.noun}. {obj.it} {obj.was} gone!"#,
            ])
            lossReaction()
            paragraph()
            line([
                #"They looked {spot1}. They looked {spot2}. But the {obj.noun} {obj.was} not there."#,
                #"First they looked {spot1}. Then they looked {spot2}. Still no {obj.noun}."#,
                #"{hero} looked {spot1} and {spot2}, but {hero.he} found only dust."#,
            ])
        }
        maybe(0.6, [
            #"{hero} sat down and sighed. "I will never find {obj.them}," {hero.he} said."#,
            #"{hero} began to feel {sad} again."#,
            #"{hero} was about to give up."#,
        ])
        if friendHelps {
            line([
                #"Just then, {hero.his} friend {friend} came by. "What are you looking for?" asked {friend}."#,
                #"Then {friend}, {hero.his} friend, came over. "Why do you look so {sad}?" {friend.he} asked."#,
            ])
            line([
                #""I lost my {obj.noun}," said {hero}. "Don't worry," said {friend}. "I am good at finding things.""#,
                #"{hero} told {friend.him} about the {obj.noun}. "I will help you look," {friend} said."#,
            ])
            line([
                #"{friend} looked {hide} and smiled. "Here {obj.it} {obj.is}!" {friend.he} said."#,
                #"{friend} got down low and looked {hide}. There {obj.was} the {obj}!"#,
            ])
        } else {
            line([
                #"Then {hero} had an idea. {hero.he} looked {hide}. There {obj.was} {hero.his} {obj}!"#,
                #"At last, {hero} looked {hide}. "There you are!" {hero.he} cried."#,
                #"Suddenly {hero} saw something {hide}. It was {hero.his} {obj}!"#,
            ])
        }
        paragraph()
        line([
            #"{hero} hugged {hero.his} {obj.noun} tight. "I will never lose you again," {hero.he} said."#,
            #"{hero} jumped up and down. {hero.he} was so {happy}."#,
            #"{hero} smiled from ear to ear. {hero.his} {obj.noun} {obj.was} safe."#,
        ])
        if friendHelps {
            line([
                #""Thank you, {friend}!" said {hero}. The two friends played with the {obj.noun} all afternoon."#,
                #"{hero} thanked {friend}, and they played together until dinner."#,
            ])
        }
        line([
            #"From that day on, {hero} always kept {hero.his} {obj.noun} in a safe place."#,
            #"{hero} learned to take good care of {hero.his} things."#,
            #"{hero} learned that when you lose something, it helps to look carefully and not give up."#,
            #"After that, {hero} always put {hero.his} {obj.noun} away when {hero.he} was done playing."#,
        ])
    }

    /// The hero notices the loss, is upset, and the adult offers to help.
    private mutating func lossReaction() {
        line([
            #"{hero} felt very {sad}. "Oh no! Where {obj.is} my {obj.noun}?" {hero.he} cried."#,
            #""My {obj.noun}! I can't find {obj.them}!" {hero} said. {hero.his} eyes filled with tears."#,
            #"{hero.his} lip began to shake. "I lost my {obj}!" {hero.he} said."#,
        ])
        line([
            #"{hero.his} {elder.kind} gave {hero.him} a hug. "Don't worry, {hero}. We will find {obj.them} together," {elder.he} said."#,
            #""Let's look together," said {hero.his} {elder.kind}. "Think about where you were last.""#,
            #"{elder} knelt down next to {hero.him}. "We will look until we find {obj.them}," {elder.he} said."#,
        ])
    }

    // MARK: - New friend

    /// A lonely or shy hero says hello to someone new, and they become friends.
    mutating func tellNewFriend() {
        bind("sad", .word(pick(["lonely", "sad", "lonely and sad"])))
        opening(knowsFriend: false)
        paragraph()
        if chance(0.5) {
            line([
                #"But {hero} and {hero.his} family had just moved to a new town. {hero.he} did not know anyone, and {hero.he} felt {sad}."#,
                #"One week, {hero} moved to a new home far away. {hero.he} missed {hero.his} old friends, and {hero.he} felt {sad}."#,
            ])
            line([
                #"{when}, {hero.his} {elder.kind} said, "Why don't you go {place.to}? Maybe you will meet someone.""#,
                #"{when}, {hero} walked {place.to} by {hero.himself}."#,
            ])
        } else {
            line([
                #"{when}, {hero} went {place.to}. Everyone else was playing together, but {hero} was too shy to join them."#,
                #"{when}, {hero} sat alone {place.at}. {hero.he} wanted to play, but {hero.he} was too shy to ask."#,
            ])
        }
        line([
            #"Then {hero.he} saw {a} {friend.kind} sitting all alone {~on a bench|under a tree|by the fence|near the water}."#,
            #"Then {hero.he} noticed {a} {friend.trait} {friend.kind} playing alone {~on the grass|in the sand|under a big tree}."#,
        ])
        maybe(0.7, [
            #"The {friend.kind} looked a little {sad} too."#,
            #"{hero}'s heart beat fast. What if the {friend.kind} did not want to play?"#,
            #"{hero} took a deep breath and walked over."#,
        ])
        paragraph()
        line([
            #""Hello, my name is {hero}," {hero.he} said. "What is your name?" "I am {friend}," said the {friend.kind} with a small smile."#,
            #""Hi! I am {hero}," said {hero}. "I am {friend}," said the {friend.kind}. "I am new here too.""#,
            #"{hero} waved. "Hello! What is your name?" "{friend}," said the {friend.kind} quietly."#,
        ])
        line([
            #""Do you want to play with me?" asked {hero}. "Yes, please!" said {friend}. "I was hoping someone would ask.""#,
            #""Would you like to play together?" {hero} asked. {friend} smiled a big smile. "I would love to!""#,
            #""Can I play with you?" asked {hero}. "Of course!" said {friend}."#,
        ])
        line([
            #"{hero} and {friend} {place.activity}. Then they {~played tag|raced to the fence|told funny jokes|looked for shiny stones}."#,
            #"They {place.activity} together and laughed and laughed."#,
            #"{friend} showed {hero} a funny game, and {hero} showed {friend} a silly dance."#,
        ])
        maybe(0.6, [
            #"They found out that they both loved {obj.a}. "Me too!" they said at the same time."#,
            #"{friend} had {obj.a}, and {friend.he} let {hero} play with {obj.them}."#,
        ])
        paragraph()
        line([
            #"When it was time to go home, {friend} said, "Can we play again tomorrow?" "Yes!" said {hero}."#,
            #"When the sun began to set, they said goodbye. "See you tomorrow, {friend}!" called {hero}."#,
            #"Before they went home, {friend} gave {hero} a hug. "I am glad you said hello," {friend.he} said."#,
        ])
        line([
            #"{hero} was not {sad} anymore. {hero.he} had a new friend."#,
            #"{hero} learned that a new friend can be just one hello away."#,
            #"From that day on, {hero} and {friend} were best friends."#,
            #"{hero} learned that it is worth being brave and saying hello."#,
        ])
        coda(0.3)
    }

    // MARK: - Sharing

    /// The hero has a treat, sees a friend without one, hesitates, and shares.
    mutating func tellSharing() {
        opening()
        paragraph()
        line([
            #"{when}, {hero.his} {elder.kind} gave {hero.him} {food.a} in a little bag."#,
            #"{when}, {hero} and {hero.his} {elder.kind} made {food.a}. There were just enough for a snack."#,
            #"{when}, {hero} found {food.a} in {hero.his} lunch box."#,
        ])
        line([
            #"{hero.he} took the {food.noun} {place.to}."#,
            #"{hero.he} carried the {food.noun} {place.to} to eat them there."#,
        ])
        line([
            #"There {hero.he} saw {hero.his} friend {friend}. {friend} had no snack, and {friend.his} tummy was rumbling."#,
            #"{place.at}, {hero.he} met {hero.his} friend {friend}. {friend} looked at the {food.noun} and said, "Those look yummy!""#,
            #"Soon {hero.his} friend {friend} came by. {friend.he} had forgotten {friend.his} snack at home, and {friend.he} looked {sad}."#,
        ])
        paragraph()
        line([
            #"{hero} wanted to eat all the {food.noun} by {hero.himself}."#,
            #"{hero} held the {food.noun} close. {hero.he} did not want to share."#,
            #"At first, {hero} turned away. "These are mine," {hero.he} said."#,
        ])
        line([
            #"But then {hero.he} remembered what {hero.his} {elder.kind} always said: "Sharing is caring.""#,
            #"Then {hero.he} saw how {sad} {friend} looked, and {hero.his} heart felt heavy."#,
            #"But {hero} thought about how {hero.he} would feel with an empty tummy."#,
        ])
        line([
            #""Would you like some?" {hero} asked. {friend}'s face lit up. "Yes, please!" {friend.he} said."#,
            #""Here, {friend}. We can share," said {hero}. "Really? Thank you!" said {friend}."#,
            #"{hero} held out the {food.noun}. "Take some," {hero.he} said. "There are enough for both of us.""#,
        ])
        line([
            #"They sat together {~under a tree|on the grass|on a bench|on a big rock} and ate the {food} side by side."#,
            #"{hero} gave half of the {food.noun} to {friend}, and they ate them together."#,
        ])
        maybe(0.7, [
            #"Somehow, the {food.noun} tasted even better when they shared them."#,
            #"They laughed and talked, and the {food.noun} were gone in no time."#,
        ])
        paragraph()
        line([
            #"The next day, {friend} brought {obj.a} and shared {obj.them} with {hero}."#,
            #"Later, {friend} let {hero} play with {friend.his} {obj} to say thank you."#,
            #"After that, {friend} always saved a treat for {hero} too."#,
        ])
        line([
            #"{hero} learned that sharing makes everyone happy."#,
            #"Sharing made both of them feel warm inside."#,
            #"{hero} learned that good things are better when you share them with a friend."#,
            #"{hero} was {happy}. Sharing had turned a snack into a party."#,
        ])
        coda(0.3)
    }

    // MARK: - Helping

    /// A creature in trouble, with what is wrong, how the hero helps and how it says thanks.
    private struct Need {
        let kind: String
        let problem: String
        let help: String
        let thanks: String
    }

    private static let needs: [Need] = [
        Need(kind: "bird",
             problem: #"{needy} had fallen out of {needy.his} nest and could not fly back up."#,
             help: #"{hero} gently picked up the bird and climbed onto a stool. {hero.he} put {needy.him} back in the nest, next to {needy.his} brothers and sisters."#,
             thanks: #"The bird sang a sweet song, as if to say thank you."#),
        Need(kind: "kitten",
             problem: #"{needy} was stuck high up in a tree. {needy.he} was too scared to climb down."#,
             help: #"{hero} ran to get {hero.his} {elder.kind}. {elder} brought a ladder and carried the kitten down, while {hero} held the ladder steady."#,
             thanks: #"The kitten purred and rubbed against {hero}'s legs."#),
        Need(kind: "puppy",
             problem: #"{needy} was lost. {needy.he} ran this way and that, but {needy.he} could not find {needy.his} home."#,
             help: #"{hero} saw a tag on {needy.his} collar. It said the puppy lived in the blue house on the corner. {hero} and {hero.his} {elder.kind} walked {needy.him} home."#,
             thanks: #"The puppy wagged {needy.his} tail and licked {hero}'s hand."#),
        Need(kind: "turtle",
             problem: #"{needy} was stuck on {needy.his} back and could not turn over."#,
             help: #"{hero} carefully turned {needy.him} over and set {needy.him} down in the soft grass."#,
             thanks: #"The turtle blinked slowly and crawled away, as if to say thank you."#),
        Need(kind: "duckling",
             problem: #"{needy} had lost {needy.his} mother and was peeping very loudly."#,
             help: #"{hero} looked around and saw a big duck by the water. {hero.he} walked slowly, and the duckling followed {hero.him} all the way to the pond."#,
             thanks: #"The duckling swam to {needy.his} mother, and they both quacked happily."#),
        Need(kind: "ant",
             problem: #"{needy} was trying to carry a big crumb home, but it was much too heavy."#,
             help: #"{hero} broke the crumb into little pieces, so the ant could carry them one by one."#,
             thanks: #"Soon the whole ant family was having a feast."#),
        Need(kind: "squirrel",
             problem: #"{needy} was caught in an old net and could not get free."#,
             help: #"{hero} pulled at the net slowly and carefully, one string at a time, until the squirrel was free."#,
             thanks: #"The squirrel ran up a tree, then came back down and left a nut at {hero}'s feet."#),
        Need(kind: "lamb",
             problem: #"{needy} had wandered far from the farm and could not find the way back."#,
             help: #"{hero} walked with the lamb along the path, over the little bridge and all the way to the farm gate."#,
             thanks: #"The lamb said "Baa!" and ran to {needy.his} mother."#),
    ]

    /// The hero finds a creature in trouble, helps it, and feels good about it.
    mutating func tellHelping() {
        let takenKinds = [kind(of: "hero"), kind(of: "friend")]
        let need = pick(Self.needs.filter { !takenKinds.contains($0.kind) })
        bind("needy", .character(StoryCharacter(
            name: "the \(need.kind)", kind: need.kind, trait: "little", gender: chance(0.5) ? .female : .male,
            home: "", hasProperName: false)))
        opening()
        paragraph()
        line([
            #"{when}, {hero} was walking {place.at} when {hero.he} heard a {~small|soft|sad} sound."#,
            #"{when}, {hero} was playing {place.at}. Suddenly, {hero.he} heard a little cry."#,
            #"{when}, {hero} and {hero.his} friend {friend} went {place.to}. On the way, they heard a {~small|soft|sad} sound."#,
        ])
        line([
            #"{hero} looked around and saw {a} {needy.kind}."#,
            #"Behind a bush, there was {a} {size} {needy.kind}."#,
        ])
        say(need.problem)
        paragraph()
        line([
            #""Oh, you poor thing," said {hero}. "Don't be scared. I will help you.""#,
            #"{hero} knelt down. "Hello, little {needy.kind}," {hero.he} said softly. "Let me help you.""#,
            #""We have to help {needy.him}!" said {hero}."#,
        ])
        maybe(0.6, [
            #"At first, {hero} did not know what to do. {hero.he} thought and thought. Then {hero.he} had an idea."#,
            #"It was not easy, but {hero} did not give up."#,
            #"{hero} was a little {~scared|nervous|worried}, but {hero.he} wanted to help."#,
        ])
        say(need.help)
        say(need.thanks)
        paragraph()
        line([
            #"When {hero} told {hero.his} {elder.kind} what had happened, {elder.he} smiled. "I am so proud of you," {elder.he} said."#,
            #"That night, {hero} told {elder} all about the {needy.kind}. "You have a kind heart," said {elder}."#,
            #"{hero} ran home to tell {hero.his} {elder.kind}. {elder} gave {hero.him} a big hug."#,
        ])
        line([
            #"{hero} felt warm and {happy} inside. Helping others is a good thing to do."#,
            #"{hero} learned that even a {size} {hero.kind} can do a big kindness."#,
            #"{hero} learned that when someone needs help, you should lend a hand."#,
            #"It felt good to help. {hero} hoped {hero.he} would see the {needy.kind} again soon."#,
        ])
        coda(0.25)
    }
}
