// Arcs about the world outside: a day trip, a rainy day indoors, a fear faced.

extension StoryComposer {
    // MARK: - Trip

    /// A day trip with the adult: the ride, the sights, one small mishap, home again.
    mutating func tellTrip() {
        bind("place", .place(pick(StoryVocabulary.tripPlaces)))
        bind("ride", .word(pick(StoryVocabulary.rides)))
        opening()
        paragraph()
        line([
            #"{when}, {hero.his} {elder.kind} said, "Today we are going {place.to}!""#,
            #"{when}, {elder} had a surprise. "Get ready, {hero}. We are going {place.to}!""#,
            #"{when}, {hero} and {hero.his} {elder.kind} went on a trip {place.to}."#,
        ])
        line([
            #"{hero} was so {happy} that {hero.he} jumped up and down."#,
            #"{hero} had never been {place.to} before. {hero.he} could hardly wait."#,
            #""Hooray!" shouted {hero}. {hero.he} ran to get {hero.his} {obj}."#,
        ])
        line([
            #"They {ride}."#,
            #"They {ride}. {hero} looked out at the fields, the cows and the little houses."#,
            #"They {ride}. The trip was long, so {hero} sang songs to pass the time."#,
        ])
        paragraph()
        line([
            #"{place.at}, {hero} saw {place.sights}."#,
            #"There was so much to see: {place.sights}."#,
            #"{hero}'s eyes grew wide. {hero.he} saw {place.sights}."#,
        ])
        line([
            #"{hero} {place.activity}. "Look at that!" {hero.he} said."#,
            #"They {place.activity}, and {hero} laughed and clapped."#,
            #"First they {place.activity}. It was even better than {hero} had imagined."#,
        ])
        paragraph()
        switch rng.nextInt(below: 3) {
        case 0:
            line([
                #"After a while, {hero}'s tummy began to rumble. "I am hungry," {hero.he} said."#,
                #"Soon {hero} began to feel tired and hungry."#,
            ])
            line([
                #"{elder} opened the bag and took out {food.a}. They sat on a blanket and ate every last one."#,
                #"{hero.his} {elder.kind} smiled and took out {food.a}. "I packed a snack," {elder.he} said."#,
            ])
            maybe(0.6, [
                #"With a full tummy, {hero} was ready for more."#,
                #"The {food.noun} were the best {hero} had ever tasted."#,
            ])
        case 1:
            line([
                #"Then {hero} saw a {~bright|big|pretty} {~butterfly|balloon|bird} and followed it. When {hero.he} looked up, {hero.his} {elder.kind} was gone!"#,
                #"There were so many people that {hero} let go of {elder}'s hand. Soon {hero.he} could not see {elder.him} anywhere!"#,
            ])
            line([
                #"{hero} felt {~scared|worried|nervous}. But then {hero.he} remembered what {elder} always said: "If you get lost, stay where you are.""#,
                #"{hero}'s heart beat fast. {hero.he} wanted to run, but {hero.he} stayed where {hero.he} was, just like {elder} had taught {hero.him}."#,
            ])
            line([
                #"Soon {hero.he} heard a voice call, "{hero}! There you are!" It was {elder}."#,
                #"A moment later, {elder} came around the corner. "{hero}! I found you!" {elder.he} said."#,
            ])
            line([
                #"{hero} ran into {hero.his} {elder.kind}'s arms. "I stayed where I was," {hero.he} said. "That was very smart," said {elder}."#,
                #"{elder} gave {hero} a big hug. "You did the right thing," {elder.he} said."#,
            ])
        default:
            line([
                #"Suddenly, a gust of wind blew {hero}'s hat right off {hero.his} head!"#,
                #"Suddenly, the wind picked up {hero}'s hat and carried it away!"#,
            ])
            line([
                #""My hat!" cried {hero}. {hero.he} ran after it as fast as {hero.he} could."#,
                #""Come back!" shouted {hero}, and {hero.he} chased the hat."#,
            ])
            line([
                #"The hat landed on a bush, and {hero} grabbed it just in time. Everyone laughed, and {hero} laughed too."#,
                #"At last the hat fell into a puddle. {hero} picked it up, all wet and muddy, and giggled."#,
            ])
        }
        paragraph()
        line([
            #"When the sun began to set, it was time to go home. {hero} was tired but {happy}."#,
            #"On the way home, {hero} fell asleep with a smile on {hero.his} face."#,
            #"At the end of the day, they went home. {hero} told {hero.his} {obj} all about the trip."#,
        ])
        line([
            #""That was the best day ever!" {hero} said. "Can we come back soon?""#,
            #"That night, {hero} dreamed about {place.sights}."#,
            #""Thank you for taking me {place.to}," {hero} said to {hero.his} {elder.kind}."#,
        ])
        maybe(0.5, [
            #"{hero} learned that the world is full of wonderful things to see."#,
            #"{hero} would remember the trip {place.to} for a long, long time."#,
        ])
    }

    // MARK: - Rainy day

    /// Rain spoils a plan, the adult suggests an indoor game, and the day turns out well.
    mutating func tellRainyDay() {
        let game = pick(StoryVocabulary.indoorGames)
        bind("plan", .word(game.plan))
        bind("done", .word(game.done))
        opening()
        paragraph()
        line([
            #"{hero} had a plan. Today {hero.he} was going to go {place.to} with {hero.his} friend {friend}."#,
            #"{hero} wanted to go {place.to} to play with {hero.his} {obj}."#,
            #"{when}, {hero} was ready to go {place.to}. {hero.he} had {hero.his} {obj} and {hero.his} snack."#,
        ])
        line([
            #"But then {hero.he} heard a tap, tap, tap on the window. It was raining!"#,
            #"But when {hero.he} looked out the window, the sky was gray and big drops of rain were falling."#,
            #"But dark clouds filled the sky, and soon the rain came pouring down."#,
        ])
        line([
            #""Oh no," said {hero}. "Now I can't go outside." {hero.he} felt very {sad}."#,
            #"{hero} pressed {hero.his} nose against the window and sighed. {hero.he} felt {sad}."#,
            #""I don't like rain," said {hero} with a frown."#,
        ])
        maybe(0.4, [
            #"Thunder rumbled far away, and the wind shook the trees."#,
            #"The rain went drip, drop, drip on the roof."#,
        ])
        paragraph()
        line([
            #"{hero.his} {elder.kind} sat down next to {hero.him}. "Rainy days can be fun too," {elder.he} said. "Why don't we {plan}?""#,
            #""I have an idea," said {elder}. "Let's {plan}!""#,
            #"{elder} smiled. "How about we {plan}?" {elder.he} asked."#,
        ])
        line([
            #"So they {done}."#,
            #"{hero} thought it was a good idea. Together they {done}."#,
        ])
        say(game.result)
        maybe(0.5, [
            #"Then there was a knock at the door. It was {hero.his} friend {friend}, wearing a big yellow raincoat. {friend} joined in, and they had even more fun."#,
            #"Soon {hero.his} friend {friend} came over with {friend.his} {obj}, and the two friends played together all afternoon."#,
        ])
        paragraph()
        line([
            #"Later, the rain stopped and the sun came out. A big rainbow stretched across the sky."#,
            #"By the evening, the rain had stopped. The air smelled fresh and clean."#,
        ])
        maybe(0.6, [
            #"{hero} put on {hero.his} boots and jumped in all the puddles. Splash!"#,
            #""Look, a rainbow!" shouted {hero}. {hero.he} counted all the colors."#,
        ])
        line([
            #"{hero} learned that a rainy day can be a happy day too."#,
            #""I love rainy days!" said {hero}."#,
            #"{hero} smiled. Even without the sun, it had been a wonderful day."#,
        ])
        coda(0.2)
    }

    // MARK: - Fear overcome

    /// A fear, why it is scary, the scary moment, comfort, facing it, and what it really was.
    private struct Fear {
        let thing: String
        let why: String
        let scary: String
        let comfort: String
        let face: String
        let reveal: String
    }

    private static let fears: [Fear] = [
        Fear(thing: "the dark",
             why: #"At night, the shadows on {hero.his} wall looked like big monsters."#,
             scary: #"One night, {hero} woke up and saw a tall, dark shape in the corner. "{elder}!" {hero.he} called. "There is a monster in my room!""#,
             comfort: #"{elder} came in and sat on the bed. "Let's look at it together," {elder.he} said softly."#,
             face: #"{hero} held {hero.his} {elder.kind}'s hand. Slowly, {hero.he} reached over and turned on the lamp."#,
             reveal: #"The monster was only {hero.his} coat hanging on the door! {hero} began to giggle."#),
        Fear(thing: "thunder",
             why: #"When the sky rumbled, {hero.he} would hide under {hero.his} blanket and shake."#,
             scary: #"One evening, a big storm came. There was a flash of light and then a loud boom. {hero} jumped and began to cry."#,
             comfort: #"{elder} held {hero.him} close. "Thunder is just a big noise the clouds make," {elder.he} said. "It cannot hurt you in here.""#,
             face: #"{elder} showed {hero.him} a game. After each flash, they counted, "One, two, three," until the boom came."#,
             reveal: #"The numbers got bigger and the booms got softer. The storm was going away!"#),
        Fear(thing: "deep water",
             why: #"{hero.he} did not like to put {hero.his} face in the water, and {hero.he} never went in past {hero.his} knees."#,
             scary: #"One hot day, {hero.his} family went to the lake. Everyone was swimming, but {hero} stayed on the shore."#,
             comfort: #""I will hold your hands," said {elder}. "We will go slowly, one step at a time.""#,
             face: #"{hero} took a deep breath and walked into the water. It was cool and calm. {hero.he} kicked {hero.his} legs, just like {elder} showed {hero.him}."#,
             reveal: #"Soon {hero} was floating! "Look at me!" {hero.he} shouted. "I am swimming!""#),
        Fear(thing: "the big dog next door",
             why: #"The dog was very big, and it barked a loud "Woof!" every time {hero} walked by."#,
             scary: #"One day, the gate was open, and the big dog came running toward {hero}. {hero} froze."#,
             comfort: #"{elder} came over and knelt down. "This dog just wants to say hello," {elder.he} said. "Hold out your hand and let it sniff you.""#,
             face: #"{hero} held out a shaky hand. The big dog sniffed it with a wet black nose."#,
             reveal: #"Then the dog licked {hero}'s fingers and wagged its tail. The big dog was friendly after all!"#),
        Fear(thing: "the tall slide",
             why: #"The big slide at the playground was very tall, and {hero} always went down the small one."#,
             scary: #"One day, {hero.his} friend {friend} said, "Let's go down the big slide!" {hero} looked up. It was so high!"#,
             comfort: #""You can do it," said {friend}. "I will go right behind you.""#,
             face: #"{hero} climbed up, step by step. At the top, {hero.he} closed {hero.his} eyes and let go."#,
             reveal: #"Whoosh! {hero.he} zoomed down and landed in the sand. "That was fun!" {hero.he} laughed. "Let's do it again!""#),
        Fear(thing: "bees",
             why: #"Whenever a bee buzzed near, {hero.he} would scream and run away."#,
             scary: #"One day in the garden, a fat bee landed right on {hero.his} sleeve. {hero} wanted to scream."#,
             comfort: #""Stay still and calm," whispered {elder}. "Bees are busy. They only want the flowers.""#,
             face: #"{hero} stood as still as a stone. {hero.he} watched the bee with big eyes."#,
             reveal: #"After a moment, the bee flew away to a yellow flower. It had not hurt {hero} at all."#),
    ]

    /// The hero is afraid of something, faces it with help, and finds it was not so bad.
    mutating func tellFearOvercome() {
        let fear = pick(Self.fears)
        bind("fear", .word(fear.thing))
        opening()
        line([
            #"But {hero} had one problem. {hero.he} was afraid of {fear}."#,
            #"{hero} was brave about many things, but {hero.he} was scared of {fear}."#,
            #"There was just one thing {hero} did not like: {fear}."#,
        ])
        say(fear.why)
        paragraph()
        say(fear.scary)
        say(fear.comfort)
        maybe(0.5, [
            #"{hero} was still scared, but {hero.he} wanted to be brave."#,
            #"{hero} took a deep breath and counted to three."#,
            #""Okay," said {hero} in a small voice. "I will try.""#,
        ])
        say(fear.face)
        say(fear.reveal)
        paragraph()
        line([
            #"{hero} laughed. {hero.he} was not scared anymore."#,
            #""I was brave!" said {hero}. "You were very brave," said {elder}, and gave {hero.him} a hug."#,
            #"{hero} felt {happy} and proud. {hero.he} had faced {hero.his} fear."#,
        ])
        line([
            #"{hero} learned that being brave does not mean you are never scared. It means you try anyway."#,
            #"Sometimes the things we fear are not so scary after all."#,
            #"From that day on, {hero} was not afraid of {fear} anymore."#,
            #"{hero} learned that a scary thing gets smaller when you look at it with someone you love."#,
        ])
        coda(0.25)
    }
}
