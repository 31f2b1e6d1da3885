// Beats that many arcs share: the opening that introduces the hero, and small closers.
// Templates use raw strings (#"..."#) so dialogue quotes need no escaping.

extension StoryComposer {
    // MARK: - Openings

    /// Introduces the hero: kind, trait, name, and what the hero loves to do.
    /// - Parameter knowsFriend: Whether the hero may already be introduced with the friend.
    mutating func opening(knowsFriend: Bool = true) {
        line([
            #"Once upon a time, there was {a} {hero.trait} {size} {hero.kind} named {hero}."#,
            #"Once upon a time, in {hero.home}, there lived {a} {hero.trait} {hero.kind} named {hero}."#,
            #"There once was {a} {hero.trait} {size} {hero.kind} called {hero}."#,
            #"{hero} was {a} {hero.trait} {size} {hero.kind} who lived in {hero.home}."#,
            #"Once there was {a} {size} {hero.kind} named {hero}, and {hero.he} was very {hero.trait}."#,
            #"Once upon a time, {a} {hero.trait} {hero.kind} named {hero} lived in {hero.home}."#,
        ])
        var hobbies = [
            #"{hero.he} loved to {hobby}."#,
            #"Every day, {hero.he} liked to {hobby}."#,
            #"{hero.his} favorite thing was to {hobby}."#,
            #"Most of all, {hero} loved to {hobby}."#,
            #"{hero.he} lived with {hero.his} {elder.kind} and loved to {hobby}."#,
        ]
        if knowsFriend { hobbies.append(#"{hero.he} liked to {hobby} with {hero.his} friend {friend}."#) }
        line(hobbies)
    }

    /// A short closing line after the moral, sometimes.
    mutating func coda(_ p: Double) {
        maybe(p, [
            #"The end."#,
            #"And {hero} lived happily ever after."#,
            #"That night, {hero} went to sleep with a big smile."#,
            #"It was a very good day."#,
        ])
    }
}
