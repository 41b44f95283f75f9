//! Whimsical, deterministic rock names that match the face's mood and the stone.
use super::noise::SplitMix64;

/// The rock's expression, read from its mouth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mood {
    Happy,
    Grumpy,
    Surprised,
    Calm,
    Puzzled,
}

fn mood_words(mood: Mood) -> &'static [&'static str] {
    match mood {
        Mood::Happy => &[
            "Cheerful",
            "Jolly",
            "Beaming",
            "Merry",
            "Chuckling",
            "Smiling",
            "Contented",
            "Sunny",
        ],
        Mood::Grumpy => &[
            "Grumpy",
            "Glum",
            "Sulky",
            "Gloomy",
            "Sour",
            "Brooding",
            "Cross",
            "Disgruntled",
        ],
        Mood::Surprised => &[
            "Astonished",
            "Startled",
            "Singing",
            "Yawning",
            "Gasping",
            "Howling",
            "Amazed",
            "Hooting",
        ],
        Mood::Calm => &[
            "Stoic", "Pensive", "Sleepy", "Deadpan", "Solemn", "Patient", "Dozing", "Serene",
        ],
        Mood::Puzzled => &[
            "Puzzled",
            "Wary",
            "Bemused",
            "Sheepish",
            "Doubtful",
            "Quizzical",
            "Wobbly",
            "Shifty",
        ],
    }
}

const PERSONS: &[&str] = &[
    "Monk",
    "Uncle",
    "Granny",
    "Baron",
    "Sage",
    "Hermit",
    "Ferryman",
    "Poet",
    "Fisherman",
    "Judge",
    "Gardener",
    "Abbot",
    "Shepherd",
    "Duchess",
    "Wrestler",
    "Innkeeper",
    "Potter",
    "Admiral",
];
const PLACES: &[&str] = &[
    "Tor", "Riverbed", "Glen", "Gorge", "Cove", "Moor", "Scree", "Quarry", "Shingle", "Ridge",
    "Ford", "Cairn", "Beach", "Valley", "Crag", "Brook",
];
const TITLES: &[&str] = &[
    "Sir",
    "Lady",
    "Uncle",
    "Auntie",
    "Professor",
    "Captain",
    "Grandpa",
    "Madame",
    "Old",
    "Little",
];
const SURNAMES: &[&str] = &[
    "Pebbleton",
    "Bouldersby",
    "Cobblestone",
    "Flintwick",
    "Gravelle",
    "Rubbleworth",
    "Craggs",
    "Shaleford",
    "Mossley",
    "Stonebridge",
    "Grittings",
    "Lumpkin",
    "Rockwell",
    "Knobbly",
    "Chippings",
    "Tumbleby",
];

fn pick<'a>(rng: &mut SplitMix64, words: &[&'a str]) -> &'a str {
    words[rng.below(words.len())]
}

/// A name such as "Grumpy Basalt" or "Old Ferryman of the Tor".
pub(super) fn rock_name(rng: &mut SplitMix64, mood: Mood, stone: &str) -> String {
    let m = pick(rng, mood_words(mood));
    match rng.below(5) {
        0 | 1 => format!("{m} {stone}"),
        2 => format!("Old {} of the {}", pick(rng, PERSONS), pick(rng, PLACES)),
        3 => format!("The {m} {}", pick(rng, PERSONS)),
        _ => format!("{} {}", pick(rng, TITLES), pick(rng, SURNAMES)),
    }
}
