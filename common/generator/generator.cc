#include "common/generator/generator.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/storage/object_store.h"

namespace loadstar {
namespace {

// ------------------------------------------------------------------------------------------
// Word lists. Song titles are built from kTitlePrefixes, kTitleFirstWords, kTitleNouns and
// kTitleSuffixes; distinct indices give distinct titles (see AppendTitle), which relies on: the
// entries of each list are distinct; every prefix is "" or one word and a space; first words and
// nouns are single words without '('; every suffix starts with " (" and ends with ')'. A title
// then reads back unambiguously: the suffix starts at its '(', and the words before it are two
// (no prefix) or three. WordListsAreSound() checks this before anything is generated.
// ------------------------------------------------------------------------------------------

constexpr std::string_view kTitlePrefixes[] = {
    "",       "The ",  "My ",    "Your ",  "Our ",    "No ",     "This ",  "Sweet ",
    "Little ", "Old ", "One ",   "Last ",  "Lost ",   "Dear ",   "Wild ",  "Blue ",
    "Mister ", "Mama ", "Brand ", "Baby ", "Another ", "Every ", "Only ",  "Señora ",
};

constexpr std::string_view kTitleFirstWords[] = {
    "Midnight", "Summer",   "Broken",    "Golden",   "Silver",    "Electric",  "Crazy",    "Lonely",
    "Dancing",  "Burning",  "Falling",   "Running",  "Shining",   "Hollow",    "Endless",  "Secret",
    "Silent",   "Velvet",   "Crystal",   "Neon",     "Cosmic",    "Frozen",    "Restless", "Faded",
    "Hidden",   "Wicked",   "Gentle",    "Bitter",   "Heavy",     "Easy",      "Lazy",     "Rolling",
    "Fading",   "Rising",   "Drifting",  "Waiting",  "Dreaming",  "Sleeping",  "Whispering", "Screaming",
    "Lucky",    "Holy",     "Dirty",     "Pretty",   "Lovely",    "Magic",     "Paper",    "Glass",
    "Stone",    "Iron",     "Steel",     "Cherry",   "Honey",     "Sugar",     "Candy",    "Thunder",
    "Rainy",    "Sunny",    "Stormy",    "Misty",    "Cold",      "Warm",      "Hot",      "Dark",
    "Bright",   "Black",    "White",     "Red",      "Green",     "Purple",    "Scarlet",  "Crimson",
    "Amber",    "Ivory",    "Northern",  "Southern", "Eastern",   "Western",   "Distant",  "Faraway",
    "Forgotten", "Hungry",  "Angry",     "Happy",    "Sad",       "Blind",     "Naked",    "Sacred",
    "Savage",   "Tender",   "Lonesome",  "Wasted",   "Beautiful", "Ugly",      "Strange",  "Perfect",
    "Final",    "First",    "Second",    "Third",    "Double",    "Single",    "Open",     "Closed",
    "Empty",    "Heavenly", "Devilish",  "Atomic",   "Digital",   "Analog",    "Mechanical", "Tropical",
    "Arctic",   "Urban",    "Rural",     "Modern",   "Ancient",   "Eternal",   "Temporary", "Sudden",
    "Slow",     "Fast",     "Quiet",     "Loud",     "Deep",      "Shallow",   "High",     "Low",
    "Long",     "Short",    "Young",     "Tired",    "Wide",      "Narrow",    "Soft",     "Hard",
    "Rough",    "Smooth",   "Sharp",     "Painted",  "Twisted",   "Shattered", "Stolen",   "Borrowed",
    "Hopeless", "Fearless", "Careless",  "Reckless", "Faithful",  "Sleepless", "Nameless", "Timeless",
    "Don't",    "Can't",    "Won't",     "Ain't",    "Rock'n'Roll", "Lovin'",  "Corazón",  "Mañana",
    "Café",     "Noël",     "Déjà",      "Über",     "Niño",      "Frühling",  "Été",      "Señorita",
    "Hey",      "Oh",       "Goodbye",   "Hello",    "Tonight",   "Yesterday", "Tomorrow", "Someday",
    "Always",   "Never",    "Forever",   "Maybe",    "Almost",    "Still",     "Again",    "Alone",
    "Together", "Downtown", "Uptown",    "Outside",  "Inside",    "Underground", "Overnight", "Everyday",
    "Moonlight", "Starlight", "Daylight", "Firelight", "Twilight", "Highway",  "Railroad", "Riverside",
};

constexpr std::string_view kTitleNouns[] = {
    "Heart",    "Night",    "Dream",    "Road",      "River",    "Fire",      "Rain",     "Sky",
    "Train",    "Town",     "City",     "Street",    "Girl",     "Boy",       "Baby",     "Song",
    "Blues",    "Love",     "Soul",     "Moon",      "Sun",      "Star",      "Stars",    "Light",
    "Lights",   "Eyes",     "Hands",    "Kiss",      "Touch",    "Time",      "Days",     "Nights",
    "Morning",  "Evening",  "Sunday",   "Monday",    "Friday",   "Saturday",  "Weekend",  "Winter",
    "Autumn",   "Spring",   "Ocean",    "Sea",       "Shore",    "Beach",     "Island",   "Mountain",
    "Valley",   "Desert",   "Bridge",   "Window",    "Door",     "House",     "Home",     "Garden",
    "Field",    "Forest",   "Wind",     "Storm",     "Sunset",   "Sunrise",   "Shadow",   "Shadows",
    "Mirror",   "Angel",    "Devil",    "Ghost",     "Queen",    "King",      "Lady",     "Man",
    "Woman",    "Child",    "Friend",   "Lover",     "Stranger", "Rider",     "Runner",   "Dancer",
    "Singer",   "Letter",   "Story",    "Promise",   "Memory",   "Memories",  "Freedom",  "Paradise",
    "Heaven",   "Hell",     "World",    "Planet",    "Universe", "Machine",   "Engine",   "Radio",
    "Telephone", "Television", "Guitar", "Piano",    "Drum",     "Bells",     "Rose",     "Roses",
    "Flower",   "Flowers",  "Tree",     "Leaves",    "Water",    "Wine",      "Whiskey",  "Coffee",
    "Cigarette", "Money",   "Gold",     "Diamond",   "Diamonds", "Chains",    "Wheels",   "Wings",
    "Feather",  "Bird",     "Birds",    "Horse",     "Horses",   "Tiger",     "Wolf",     "Dog",
    "Cat",      "Snake",    "Butterfly", "Revolution", "Party",  "Disco",     "Groove",   "Rhythm",
    "Melody",   "Harmony",  "Symphony", "Lullaby",   "Serenade", "Ballad",    "Anthem",   "Prayer",
    "Gospel",   "Boogie",   "Shuffle",  "Stomp",     "Waltz",    "Tango",     "Rumba",    "Mambo",
    "Samba",    "Polka",    "Jam",      "Funk",      "Fever",    "Blast",     "Crash",    "Spark",
    "Flame",    "Smoke",    "Ashes",    "Dust",      "Sand",     "Snow",      "Ice",      "Fire/Ice",
    "Glory",    "Victory",  "Empire",   "Kingdom",   "Castle",   "Palace",    "Tower",    "Temple",
    "Church",   "Chapel",   "Cathedral", "Station",  "Airport",  "Harbor",    "Hotel",    "Motel",
    "Diner",    "Bar",      "Saloon",   "Club",      "Arcade",   "Carnival",  "Circus",   "Rodeo",
    "Parade",   "Festival", "Holiday",  "Vacation",  "Journey",  "Voyage",    "Adventure", "Escape",
    "Return",   "Arrival",  "Departure", "Goodbye",  "Welcome",  "Reunion",   "Wedding",  "Funeral",
    "Birthday", "Christmas", "Halloween", "Carousel", "Avenue",  "Boulevard", "Alley",    "Corner",
    "Crossroads", "Junction", "Frontier", "Horizon", "Skyline",  "Galaxy",    "Comet",    "Rocket",
    "Satellite", "Spaceship", "Cowboy", "Outlaw",    "Sheriff",  "Gambler",   "Preacher", "Soldier",
    "Sailor",   "Pilot",    "Doctor",   "Teacher",   "Stranger's", "Amor",    "Corazón",  "Canción",
    "Noche",    "Fiesta",   "Chérie",   "Liebe",     "Straße",   "Sehnsucht", "Saudade",  "Coração",
    "Paloma",   "Luna",
};

constexpr std::string_view kTitleSuffixes[] = {  // all non-empty: the no-suffix titles are a subspace
    " (Live)",          " (Album Version)", " (Remix)",        " (Radio Edit)",   " (Acoustic)",
    " (Demo)",          " (Instrumental)",  " (Extended Mix)", " (LP Version)",   " (Remastered)",
    " (Single Version)", " (Live at the Fillmore)", " (Club Mix)", " (12\" Mix)", " (Intro/Outro)",
    " (Bonus Track)",   " (feat. MC Ren)",  " (Reprise)",      " (Mono)",
};

constexpr std::string_view kFemaleFirstNames[] = {
    "Kaylee", "Lily",    "Jacqueline", "Chloe",   "Tegan",   "Mohammad", "Layla",   "Jayden",  "Ava",
    "Emily",  "Olivia",  "Sophia",     "Isabella", "Mia",    "Abigail",  "Madison", "Elizabeth", "Avery",
    "Sofia",  "Ella",    "Scarlett",   "Grace",    "Victoria", "Riley",  "Aria",    "Zoe",     "Hannah",
    "Natalie", "Addison", "Brooklyn",  "Savannah", "Leah",   "Audrey",   "Claire",  "Anna",    "Samantha",
    "Kinsley", "Stella", "Hazel",      "Paisley",  "Violet", "Aubrey",   "Lucy",    "Katherine", "Rylie",
};

constexpr std::string_view kMaleFirstNames[] = {
    "Walter",  "Ryan",    "Jacob",   "Noah",    "Liam",    "Mason",    "Ethan",    "Michael", "Alexander",
    "James",   "Daniel",  "Elijah",  "Benjamin", "Logan",  "Aiden",    "Jackson",  "David",   "Joseph",
    "Samuel",  "Henry",   "Owen",    "Sebastian", "Gabriel", "Carter", "Jayce",    "Luke",    "Anthony",
    "Isaac",   "Dylan",   "Wyatt",   "Andrew",  "Joshua",  "Christopher", "Grayson", "Jack",   "Julian",
    "Lucas",   "Cooper",  "Hunter",  "Connor",  "Evan",    "Aaron",    "Theodore", "Caleb",   "Kevin",
};

constexpr std::string_view kLastNames[] = {
    "Frye",     "Summers",  "Koch",     "Cuevas",   "Harrell", "Williams", "Johnson", "Smith",   "Brown",
    "Jones",    "Miller",   "Davis",    "Garcia",   "Rodriguez", "Wilson", "Martinez", "Anderson", "Taylor",
    "Thomas",   "Hernandez", "Moore",   "Martin",   "Jackson", "Thompson", "White",   "Lopez",   "Lee",
    "Gonzalez", "Harris",   "Clark",    "Lewis",    "Robinson", "Walker",  "Perez",   "Hall",    "Young",
    "Allen",    "Sanchez",  "Wright",   "King",     "Scott",   "Green",    "Baker",   "Adams",   "Nelson",
    "Hill",     "Ramirez",  "Campbell", "Mitchell", "Roberts", "Carter",   "Phillips", "Evans",  "Turner",
    "Torres",   "Parker",   "Collins",  "Edwards",  "Stewart", "Flores",   "Morris",  "Nguyen",  "Murphy",
    "Rivera",   "Cook",     "Rogers",   "Morgan",   "Peterson", "Cooper",  "Reed",    "Bailey",  "Bell",
    "Gomez",    "Kelly",    "Howard",   "Ward",     "Cox",     "Diaz",     "Richardson", "Wood", "Watson",
};

// Artist names only: a few carry accents, as real artist names do.
constexpr std::string_view kArtistExtraFirstNames[] = {
    "José", "Zoë", "Björn", "Françoise", "Sinéad", "Agustín", "Søren", "Mónica", "André", "Renée",
};
constexpr std::string_view kArtistExtraLastNames[] = {
    "Müller", "Ríos", "Caballé", "Núñez", "Gómez", "Dvořák", "Sørensen", "Gauß", "Ødegaard", "Piaf",
};
constexpr std::string_view kBandNouns[] = {
    "Hearts",  "Stones",   "Wolves",    "Tigers",  "Kings",    "Queens",  "Angels",  "Ghosts",  "Riders",
    "Strangers", "Lovers", "Machines",  "Shadows", "Horses",   "Birds",   "Diamonds", "Flowers", "Roses",
    "Saints",  "Sinners",  "Brothers",  "Sisters", "Boys",     "Girls",   "Monkeys", "Foxes",   "Lions",
    "Ravens",  "Crows",    "Pilots",    "Astronauts", "Cowboys", "Pirates", "Robots", "Vampires", "Echoes",
    "Waves",   "Rivers",   "Mountains", "Trains",
};
constexpr std::string_view kBandWords[] = {
    "Velora",  "Kraneo",   "Mistral",  "Orbitone", "Zephyra", "Lumen",    "Brakka",   "Soundgaze", "Nimbus",
    "Quasar",  "Halcyon",  "Obelisk",  "Tundra",   "Magnetar", "Kestrel", "Pylon",    "Solace",    "Vortex",
    "Juniper", "Calypso",  "Moxie",    "Nova",     "Rook",     "Tamarind", "Umbra",   "Vesper",    "Wander",
    "Yonder",  "Zenith",   "Ardent",   "Bellwether", "Cinder", "Dynamo",  "Ember",    "Fathom",    "Gossamer",
    "Hinterland", "Isotope", "Jetsam", "Kaleido",  "Sigur",    "Mötley",  "Blümchen", "Ñandú",
};

// eventsim's metropolitan areas.
constexpr std::string_view kUserLocations[] = {
    "San Francisco-Oakland-Hayward, CA",         "Phoenix-Mesa-Scottsdale, AZ",
    "New York-Newark-Jersey City, NY-NJ-PA",     "Los Angeles-Long Beach-Anaheim, CA",
    "Chicago-Naperville-Elgin, IL-IN-WI",        "Atlanta-Sandy Springs-Roswell, GA",
    "Houston-The Woodlands-Sugar Land, TX",      "Dallas-Fort Worth-Arlington, TX",
    "Miami-Fort Lauderdale-West Palm Beach, FL", "Seattle-Tacoma-Bellevue, WA",
    "Boston-Cambridge-Newton, MA-NH",            "Detroit-Warren-Dearborn, MI",
    "Portland-Vancouver-Hillsboro, OR-WA",       "Denver-Aurora-Lakewood, CO",
    "Minneapolis-St. Paul-Bloomington, MN-WI",   "Tampa-St. Petersburg-Clearwater, FL",
    "Lansing-East Lansing, MI",                  "Waterloo-Cedar Falls, IA",
    "Janesville-Beloit, WI",                     "Red Bluff, CA",
    "Marinette, WI-MI",                          "Tucson, AZ",
    "Birmingham-Hoover, AL",                     "Salinas, CA",
    "Sacramento--Roseville--Arden-Arcade, CA",   "San Jose-Sunnyvale-Santa Clara, CA",
    "Washington-Arlington-Alexandria, DC-VA-MD-WV", "Philadelphia-Camden-Wilmington, PA-NJ-DE-MD",
    "Columbus, OH",                              "Nashville-Davidson--Murfreesboro--Franklin, TN",
    "Kansas City, MO-KS",                        "Indianapolis-Carmel-Anderson, IN",
    "Charlotte-Concord-Gastonia, NC-SC",         "Austin-Round Rock, TX",
    "Las Vegas-Henderson-Paradise, NV",          "Orlando-Kissimmee-Sanford, FL",
    "Cleveland-Elyria, OH",                      "Pittsburgh, PA",
    "St. Louis, MO-IL",                          "Raleigh, NC",
};

// Browsers of 2014, as eventsim records them. Those holding a comma are written with literal
// surrounding double quotes, like the real logs (a CSV quoting artefact kept as text).
constexpr std::string_view kUserAgents[] = {
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 Safari/537.78.2",
    "Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 (KHTML, like Gecko) Version/7.0.5 Safari/537.77.4",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:30.0) Gecko/20100101 Firefox/30.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:32.0) Gecko/20100101 Firefox/32.0",
    "Mozilla/5.0 (Windows NT 6.1; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
};

// Artist locations, some with coordinates (degrees * 1e5).
struct Place {
  std::string_view name;
  int32_t lat_e5;
  int32_t lon_e5;
};
constexpr Place kPlacesWithCoordinates[] = {
    {"Memphis, TN", 3514968, -9004892},          {"Nashville, TN.", 3616778, -8677836},
    {"California - SF", 3777916, -12242005},     {"New York, NY", 4071455, -7400712},
    {"London, England", 5150632, -12714},        {"Toronto, Ontario, Canada", 4364856, -7938533},
    {"Chicago", 4188415, -8763241},              {"Orlando, FL", 2853823, -8137739},
    {"Denmark", 5627609, 951695},                {"Zagreb Croatia", 4580726, 1596760},
    {"Panama", 841770, -8011278},                {"Fort Worth, TX", 3274863, -9732925},
    {"Washington", 3889910, -7702900},           {"Utah", 3949974, -11154732},
    {"Queens, NY", 4070380, -7383168},           {"Newark, NJ", 4073197, -7417418},
    {"Georgia", 3267828, -8322295},              {"Pennsylvania", 4099471, -7760454},
    {"United States", 3716793, -9584502},        {"North Carolina", 3521962, -8001955},
    {"Los Angeles, CA", 3405349, -11824532},     {"Detroit, MI", 4233168, -8304792},
    {"Paris, France", 4885692, 234115},          {"Berlin, Germany", 5251607, 1337698},
    {"Kingston, Jamaica", 1799702, -7679358},    {"Reykjavík, Iceland", 6413548, -2189541},
    {"São Paulo, Brazil", -2353250, -4663880},   {"Montréal, Québec, Canada", 4551228, -7355439},
    {"Stockholm, Sweden", 5933217, 1806243},     {"Sydney, Australia", -3386963, 15120695},
    {"Tokyo, Japan", 3568913, 13969171},         {"Noci (BA)", -1344200, -4199520},
};
constexpr std::string_view kPlacesWithoutCoordinates[] = {
    "California - LA", "London, England",   "Houston, TX",    "Ohio",           "Gainesville, FL",
    "Hamilton, Ohio",  "Beverly Hills, CA", "Wisner, LA",     "Seattle, Washington USA", "Hamtramck, MI",
    "New York, NY [Spanish Harlem]", "Burlington, Ontario, Canada", "Brooklyn, NY", "Bristol, UK", "Texas",
};

template <typename T, size_t N>
constexpr uint64_t Count(const T (&)[N]) {
  return N;
}

// ------------------------------------------------------------------------------------------
// Randomness: splitmix64 to derive seeds, xoshiro256** for streams. Every entity (a song, an
// artist, a user, a day) draws from its own stream, derived from (seed, stream kind, index), so
// it looks the same however many others are generated and in whatever order.
// ------------------------------------------------------------------------------------------

constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr uint64_t Hash2(uint64_t a, uint64_t b) {
  uint64_t s = a;
  uint64_t h = SplitMix64(s);
  s = h ^ b;
  return SplitMix64(s);
}

enum class Stream : uint64_t {
  kSong = 1,        // artist, title, duration of catalogue song i
  kSongIds,         // ids and year of catalogue song i
  kArtistName,      // name of catalogue artist a
  kArtist,          // id and location of catalogue artist a
  kOutsideSong,     // songs played in the logs but absent from the catalogue
  kOutsideArtist,   // names of artists absent from the catalogue
  kUser,            // user attributes and plans
  kDayWeights,      // how events are spread over days
  kDay,             // sessions of day d
  kDirty,           // bad records of day d
  kKeys,            // permutation keys
};

__extension__ typedef unsigned __int128 Uint128;

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }
  Rng(uint64_t seed, Stream stream, uint64_t index)
      : Rng(Hash2(Hash2(seed, static_cast<uint64_t>(stream)), index)) {}

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n); n > 0. Lemire's multiply-shift (bias below 2^-32 for the n used here).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<Uint128>(Next()) * n) >> 64); }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1)); }
  // True with probability threshold / 2^32 (see Threshold()).
  bool Chance(uint64_t threshold) { return (Next() >> 32) < threshold; }
  bool Percent(uint32_t p) { return Below(100) < p; }
  // In [0, n), small values much more likely (density ~ -ln x): popular songs, active users.
  uint64_t Skewed(uint64_t n) {
    const uint64_t a = Below(n);
    const uint64_t b = Below(n);
    return static_cast<uint64_t>(static_cast<Uint128>(a) * (b + 1) / n);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A probability as a threshold for Rng::Chance: exact for the same double on every platform.
uint64_t Threshold(double share) {
  if (!(share > 0)) return 0;
  if (share >= 1) return uint64_t{1} << 32;
  return static_cast<uint64_t>(share * 4294967296.0);
}

// A bijection on [0, 2^bits): distinct inputs give distinct outputs, so ids built from it are
// unique by construction while looking random.
uint64_t PermuteBits(uint64_t x, unsigned bits, uint64_t key) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  const unsigned shift = bits / 2 + 1;
  x = (x ^ key) & mask;
  x = (x * 0x9E3779B97F4A7C15ull) & mask;
  x ^= x >> shift;
  x = (x * 0xD6E8FEB86659FD93ull) & mask;
  x ^= x >> shift;
  x = (x ^ (key >> 32)) & mask;
  return x;
}

// A bijection on [0, n) for n < kScatterStride (prime): spreads hot low indices around.
constexpr uint64_t kScatterStride = 2654435761ull;
uint64_t Scatter(uint64_t i, uint64_t n, uint64_t offset) { return (i % n * kScatterStride + offset % n) % n; }

// ------------------------------------------------------------------------------------------
// Titles: index n in [0, songs + outside pool) names a distinct title. Seven in ten titles have
// no suffix ("{prefix}{first} {noun}"), three in ten have one; each kind is its own subspace,
// and within a subspace the index is scattered so neighbouring songs do not share words.
// ------------------------------------------------------------------------------------------

constexpr uint64_t kPlainTitles = Count(kTitlePrefixes) * Count(kTitleFirstWords) * Count(kTitleNouns);
constexpr uint64_t kSuffixedTitles = kPlainTitles * Count(kTitleSuffixes);
static_assert(kPlainTitles < kScatterStride && kSuffixedTitles < kScatterStride);
// Indices n with n % 10 < 7 are plain; (n / 10) * 7 + n % 10 must stay below kPlainTitles.
constexpr uint64_t kTitleCapacity = (kPlainTitles / 7) * 10;

void AppendTitle(uint64_t n, uint64_t plain_offset, uint64_t suffixed_offset, std::string* out) {
  const uint64_t q = n / 10;
  const uint64_t r = n % 10;
  uint64_t x;
  uint64_t suffix = Count(kTitleSuffixes);  // none
  if (r < 7) {
    x = Scatter(q * 7 + r, kPlainTitles, plain_offset);
  } else {
    x = Scatter(q * 3 + (r - 7), kSuffixedTitles, suffixed_offset);
    suffix = x % Count(kTitleSuffixes);
    x /= Count(kTitleSuffixes);
  }
  out->append(kTitlePrefixes[x % Count(kTitlePrefixes)]);
  x /= Count(kTitlePrefixes);
  out->append(kTitleFirstWords[x % Count(kTitleFirstWords)]);
  x /= Count(kTitleFirstWords);
  out->push_back(' ');
  out->append(kTitleNouns[x]);
  if (suffix < Count(kTitleSuffixes)) out->append(kTitleSuffixes[suffix]);
}

// The invariants AppendTitle's uniqueness rests on.
bool WordListsAreSound() {
  auto unique = [](auto& list) {
    std::vector<std::string_view> v(std::begin(list), std::end(list));
    std::sort(v.begin(), v.end());
    return std::adjacent_find(v.begin(), v.end()) == v.end();
  };
  auto single_word = [](std::string_view w) {
    return !w.empty() && w.find(' ') == std::string_view::npos && w.find('(') == std::string_view::npos;
  };
  if (!unique(kTitlePrefixes) || !unique(kTitleFirstWords) || !unique(kTitleNouns) || !unique(kTitleSuffixes)) {
    return false;
  }
  int empty_prefixes = 0;
  for (std::string_view p : kTitlePrefixes) {
    if (p.empty()) {
      ++empty_prefixes;
    } else if (p.back() != ' ' || !single_word(p.substr(0, p.size() - 1))) {
      return false;
    }
  }
  for (std::string_view w : kTitleFirstWords) if (!single_word(w)) return false;
  for (std::string_view w : kTitleNouns) if (!single_word(w)) return false;
  for (std::string_view s : kTitleSuffixes) {
    if (s.size() < 4 || s.substr(0, 2) != " (" || s.back() != ')') return false;
  }
  return empty_prefixes == 1;
}

// ------------------------------------------------------------------------------------------
// Text output.
// ------------------------------------------------------------------------------------------

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void AppendUnicodeEscape(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[6] = {'\\', 'u', kHex[(unit >> 12) & 0xF], kHex[(unit >> 8) & 0xF], kHex[(unit >> 4) & 0xF],
                 kHex[unit & 0xF]};
  out->append(buf, 6);
}

// Decodes one code point of valid UTF-8 at text[*i], advancing *i. Our text is our own literals.
uint32_t NextCodePoint(std::string_view text, size_t* i) {
  const auto b0 = static_cast<unsigned char>(text[(*i)++]);
  if (b0 < 0x80) return b0;
  int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : 1;
  uint32_t cp = b0 & (0x3F >> extra);
  while (extra-- > 0 && *i < text.size()) cp = (cp << 6) | (static_cast<unsigned char>(text[(*i)++]) & 0x3F);
  return cp;
}

enum EscapeFlags : unsigned {
  kEscapeSlash = 1,  // '/' as "\/" (the event logs do this; the song files do not)
  kMisEncode = 2,    // non-ASCII text UTF-8-encoded twice more, as the real logs hold it
};

// Appends `text` (UTF-8) as the inside of a JSON string, ASCII only: other characters as \uXXXX.
void AppendJsonText(std::string_view text, unsigned flags, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    const uint32_t cp = NextCodePoint(text, &i);
    if (cp >= 0x80) {
      if (flags & kMisEncode) {
        // "ç" (C3 A7) read as Latin-1 is "Ã§"; that written as UTF-8 (C3 83 C2 A7) and read as
        // Latin-1 again gives the four characters the logs hold: \u00c3\u0083\u00c2\u00a7.
        std::string once, twice;
        AppendUtf8(cp, &once);
        for (unsigned char b : once) AppendUtf8(b, &twice);
        for (unsigned char b : twice) AppendUnicodeEscape(b, out);
      } else if (cp >= 0x10000) {
        AppendUnicodeEscape(0xD800 + ((cp - 0x10000) >> 10), out);
        AppendUnicodeEscape(0xDC00 + ((cp - 0x10000) & 0x3FF), out);
      } else {
        AppendUnicodeEscape(cp, out);
      }
      continue;
    }
    switch (cp) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '/':
        if (flags & kEscapeSlash) {
          out->append("\\/");
        } else {
          out->push_back('/');
        }
        break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (cp < 0x20) {
          AppendUnicodeEscape(cp, out);
        } else {
          out->push_back(static_cast<char>(cp));
        }
    }
  }
}

bool HasNonAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// A fixed-point value with 5 decimals, written the way Python writes the float: shortest form,
// trailing zeros dropped, at least one decimal ("267.7024", "-0.12714", "246.0").
void AppendDecimal5(int64_t e5, std::string* out) {
  if (e5 < 0) {
    out->push_back('-');
    e5 = -e5;
  }
  AppendInt(e5 / 100000, out);
  int64_t frac = e5 % 100000;
  out->push_back('.');
  if (frac == 0) {
    out->push_back('0');
    return;
  }
  char digits[5];
  for (int k = 4; k >= 0; --k) {
    digits[k] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  int len = 5;
  while (digits[len - 1] == '0') --len;
  out->append(digits, static_cast<size_t>(len));
}

void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int k = digits - 1; k >= 0; --k) out->push_back(kHex[(v >> (4 * k)) & 0xF]);
}

void AppendLetters(Rng& rng, int n, std::string* out) {
  for (int k = 0; k < n; ++k) out->push_back(static_cast<char>('A' + rng.Below(26)));
}

void AppendAlnum(Rng& rng, int n, std::string* out) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int k = 0; k < n; ++k) out->push_back(kChars[rng.Below(36)]);
}

// ------------------------------------------------------------------------------------------
// Calendar.
// ------------------------------------------------------------------------------------------

constexpr int64_t kPeriodStartMs = 1541030400000;  // 2018-11-01T00:00:00Z
constexpr int64_t kDaySeconds = 86400;
constexpr int64_t kTsMillis = 796;  // every ts of the real logs ends in 796 ms

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days.
CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<uint64_t>(z - era * 146097);
  const uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

void AppendPadded(int64_t v, int width, std::string* out) {
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out->append(static_cast<size_t>(width) - digits.size(), '0');
  out->append(digits);
}

std::string DayKey(uint32_t day) {
  const CivilDate date = CivilFromDays(kPeriodStartMs / 1000 / kDaySeconds + day);
  std::string key = "log_data/";
  AppendPadded(date.year, 4, &key);
  key.push_back('/');
  AppendPadded(date.month, 2, &key);
  key.push_back('/');
  AppendPadded(date.year, 4, &key);
  key.push_back('-');
  AppendPadded(date.month, 2, &key);
  key.push_back('-');
  AppendPadded(date.day, 2, &key);
  key.append("-events.json");
  return key;
}

// ------------------------------------------------------------------------------------------
// The catalogue. Every catalogue song and artist is a pure function of (seed, index): the song
// files and the plays that must match them are built from the same functions.
// ------------------------------------------------------------------------------------------

// What the plan derives from the options once.
struct Plan {
  uint64_t seed = 0;
  uint64_t songs = 0;
  uint64_t artists = 0;
  uint64_t events = 0;
  uint64_t users = 0;
  uint32_t days = 0;
  uint64_t pool = 0;  // songs played in the logs that are not in the catalogue
  uint64_t match_threshold = 0;
  uint64_t near_miss_threshold = 0;  // match_threshold + near-miss share
  uint64_t dirty_threshold = 0;
  std::vector<DirtyKind> dirty_kinds;
  // Keys of the permutations, derived from the seed.
  uint64_t title_plain_offset = 0;
  uint64_t title_suffixed_offset = 0;
  uint64_t track_key = 0;
  uint64_t song_key = 0;
  uint64_t artist_key = 0;
  uint64_t song_scatter = 0;
  uint64_t pool_scatter = 0;
  uint64_t user_scatter = 0;
};

constexpr uint64_t kMinOutsidePool = 2000;

uint64_t OutsidePool(uint64_t songs) { return std::max(kMinOutsidePool, 2 * songs); }

uint64_t UserCount(const GenerateOptions& o) { return o.users != 0 ? o.users : std::max<uint64_t>(1, o.events / 80); }

Plan MakePlan(const GenerateOptions& o) {
  Plan p;
  p.seed = o.seed;
  p.songs = o.songs;
  p.artists = o.artists != 0 ? o.artists : (o.songs == 0 ? 0 : std::max<uint64_t>(1, o.songs * 2 / 3));
  p.events = o.events;
  p.users = UserCount(o);
  p.days = o.days;
  p.pool = OutsidePool(o.songs);
  p.match_threshold = o.songs == 0 ? 0 : Threshold(o.match_share);
  p.near_miss_threshold = p.match_threshold + (o.songs == 0 ? 0 : Threshold(o.near_miss_share));
  p.dirty_threshold = Threshold(o.dirty_share);
  for (size_t k = 0; k < kDirtyKindCount; ++k) {
    if (o.dirty_kinds & DirtyKindBit(static_cast<DirtyKind>(k))) p.dirty_kinds.push_back(static_cast<DirtyKind>(k));
  }
  Rng keys(o.seed, Stream::kKeys, 0);
  p.title_plain_offset = keys.Next();
  p.title_suffixed_offset = keys.Next();
  p.track_key = keys.Next();
  p.song_key = keys.Next();
  p.artist_key = keys.Next();
  p.song_scatter = keys.Next();
  p.pool_scatter = keys.Next();
  p.user_scatter = keys.Next();
  return p;
}

// Seconds * 1e5: 20 s to 500 s, most near 260 s, a few long ones.
int64_t DrawDuration(Rng& rng) {
  int64_t d = 2'000'000 + static_cast<int64_t>(rng.Below(16'000'000) + rng.Below(16'000'000) + rng.Below(16'000'000));
  if (rng.Percent(3)) d += static_cast<int64_t>(rng.Below(40'000'000));
  return d;
}

struct CatalogueSong {
  uint64_t artist = 0;
  int64_t duration_e5 = 0;
};

CatalogueSong SongAt(const Plan& p, uint64_t i) {
  Rng rng(p.seed, Stream::kSong, i);
  CatalogueSong s;
  const uint64_t other_artist = rng.Below(p.artists);
  s.artist = i < p.artists ? i : other_artist;  // every artist has a song; some have several
  s.duration_e5 = DrawDuration(rng);
  return s;
}

void AppendCatalogueTitle(const Plan& p, uint64_t i, std::string* out) {
  AppendTitle(i, p.title_plain_offset, p.title_suffixed_offset, out);
}

// Outside song k's title is title index songs + k: never a catalogue title.
void AppendOutsideTitle(const Plan& p, uint64_t k, std::string* out) {
  AppendTitle(p.songs + k, p.title_plain_offset, p.title_suffixed_offset, out);
}

template <size_t N>
std::string_view Pick(Rng& rng, const std::string_view (&list)[N]) {
  return list[rng.Below(N)];
}

std::string_view PickFirstName(Rng& rng) {
  const uint64_t n = Count(kFemaleFirstNames) + Count(kMaleFirstNames) + Count(kArtistExtraFirstNames);
  uint64_t r = rng.Below(n);
  if (r < Count(kFemaleFirstNames)) return kFemaleFirstNames[r];
  r -= Count(kFemaleFirstNames);
  if (r < Count(kMaleFirstNames)) return kMaleFirstNames[r];
  return kArtistExtraFirstNames[r - Count(kMaleFirstNames)];
}

std::string_view PickLastName(Rng& rng) {
  const uint64_t r = rng.Below(Count(kLastNames) + Count(kArtistExtraLastNames));
  return r < Count(kLastNames) ? kLastNames[r] : kArtistExtraLastNames[r - Count(kLastNames)];
}

// Artist names are not unique (two artist_ids may share a name, as in the real data).
void AppendArtistName(Rng rng, std::string* out) {
  const uint64_t form = rng.Below(100);
  if (form < 30) {
    out->append(PickFirstName(rng)).append(" ").append(PickLastName(rng));
  } else if (form < 45) {
    out->append("The ").append(Pick(rng, kTitleFirstWords)).append(" ").append(Pick(rng, kBandNouns));
  } else if (form < 58) {
    out->append(Pick(rng, kBandWords));
  } else if (form < 66) {
    out->append(PickFirstName(rng)).append(" ").append(PickLastName(rng)).append(" & The ").append(Pick(rng, kBandNouns));
  } else if (form < 71) {
    out->append(PickFirstName(rng)).append(" ").append(PickLastName(rng)).append(" featuring ");
    out->append(PickFirstName(rng)).append(" ").append(PickLastName(rng));
  } else if (form < 76) {
    out->append("DJ ").append(Pick(rng, kBandWords));
  } else if (form < 84) {
    out->append(PickLastName(rng));
  } else if (form < 93) {
    out->append(Pick(rng, kTitleFirstWords)).append(" ").append(Pick(rng, kBandNouns));
  } else {
    out->append(PickFirstName(rng)).append(" ");
    out->push_back(static_cast<char>('A' + rng.Below(26)));
    out->append(". ").append(PickLastName(rng));
  }
}

void AppendCatalogueArtistName(const Plan& p, uint64_t a, std::string* out) {
  AppendArtistName(Rng(p.seed, Stream::kArtistName, a), out);
}

void AppendOutsideArtistName(const Plan& p, uint64_t x, std::string* out) {
  AppendArtistName(Rng(p.seed, Stream::kOutsideArtist, x), out);
}

struct CatalogueArtist {
  std::string id;
  std::string_view location;  // "" when unknown
  bool has_coordinates = false;
  int64_t lat_e5 = 0;
  int64_t lon_e5 = 0;
};

CatalogueArtist ArtistAt(const Plan& p, uint64_t a) {
  Rng rng(p.seed, Stream::kArtist, a);
  CatalogueArtist artist;
  artist.id.reserve(18);
  artist.id.append("AR");
  AppendAlnum(rng, 5, &artist.id);
  artist.id.append("1187");
  AppendHex(PermuteBits(a, 28, p.artist_key), 7, &artist.id);
  const uint64_t kind = rng.Below(100);
  if (kind < 40) {
    artist.location = "";
  } else if (kind < 55) {
    artist.location = Pick(rng, kPlacesWithoutCoordinates);
  } else {
    const Place& place = kPlacesWithCoordinates[rng.Below(Count(kPlacesWithCoordinates))];
    artist.location = place.name;
    artist.has_coordinates = true;
    artist.lat_e5 = place.lat_e5;
    artist.lon_e5 = place.lon_e5;
  }
  return artist;
}

// A song played in the logs that the catalogue does not hold.
struct OutsideSong {
  bool catalogue_artist = false;  // by an artist the catalogue knows, else by an outside artist
  uint64_t artist = 0;
  int64_t length_e5 = 0;
};

OutsideSong OutsideSongAt(const Plan& p, uint64_t k) {
  Rng rng(p.seed, Stream::kOutsideSong, k);
  OutsideSong s;
  const bool known = rng.Percent(30);
  const uint64_t artist = rng.Below(p.artists != 0 ? p.artists : 1);
  const uint64_t outside_artist = rng.Below(p.pool);
  s.catalogue_artist = known && p.artists != 0;
  s.artist = s.catalogue_artist ? artist : outside_artist;
  s.length_e5 = DrawDuration(rng);
  return s;
}

// ------------------------------------------------------------------------------------------
// Events.
// ------------------------------------------------------------------------------------------

enum class Page : uint8_t {
  kNextSong, kHome, kLogin, kLogout, kUpgrade, kDowngrade, kSettings, kSaveSettings, kHelp, kAbout, kError,
  kSubmitUpgrade, kSubmitDowngrade,
};

struct PageInfo {
  std::string_view fields;  // the JSON between "method" and "registration", pre-rendered
  std::string_view status;
};

const PageInfo& InfoOf(Page page) {
  static const PageInfo kInfo[] = {
      {R"("method":"PUT","page":"NextSong",)", "200"},
      {R"("method":"GET","page":"Home",)", "200"},
      {R"("method":"PUT","page":"Login",)", "307"},
      {R"("method":"PUT","page":"Logout",)", "307"},
      {R"("method":"GET","page":"Upgrade",)", "200"},
      {R"("method":"GET","page":"Downgrade",)", "200"},
      {R"("method":"GET","page":"Settings",)", "200"},
      {R"("method":"PUT","page":"Save Settings",)", "307"},
      {R"("method":"GET","page":"Help",)", "200"},
      {R"("method":"GET","page":"About",)", "200"},
      {R"("method":"GET","page":"Error",)", "404"},
      {R"("method":"PUT","page":"Submit Upgrade",)", "307"},
      {R"("method":"PUT","page":"Submit Downgrade",)", "307"},
  };
  return kInfo[static_cast<size_t>(page)];
}

enum class PlayKind : uint8_t {
  kNone,
  kCatalogue,     // exactly a catalogue song: matches
  kOutside,       // a song the catalogue does not hold
  kNearLength,    // a catalogue song's title and artist, another length
  kNearArtist,    // a catalogue song's title and length, another artist's name
  kNearEncoding,  // a catalogue song with its non-ASCII text double-encoded
};

constexpr uint8_t kFree = 0;
constexpr uint8_t kPaid = 1;
constexpr uint32_t kVisitor = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kNoDay = std::numeric_limits<uint32_t>::max();
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct Event {
  int64_t ts = 0;  // epoch ms
  uint64_t session = 0;
  uint64_t play_index = 0;  // catalogue song or outside song
  uint64_t play_aux = 0;    // kNearArtist: the outside artist whose name is used
  int64_t length_e5 = 0;
  uint32_t item = 0;
  uint32_t user = kVisitor;
  Page page = Page::kHome;
  PlayKind play = PlayKind::kNone;
  uint8_t level = kFree;
  bool logged_in = false;
};

struct User {
  int64_t registration_ms = 0;
  int64_t change_at_ms = kNever;  // from then on, the next logged-in event submits a level change
  int64_t last_ts = -1;           // of the latest logged-in event so far
  int64_t cursor_sec = 0;         // where the user's last session on cursor_day ended
  uint32_t cursor_day = kNoDay;
  uint16_t first_name = 0;  // index into UserText::first_names
  uint16_t last_name = 0;
  uint8_t location = 0;
  uint8_t agent = 0;
  bool female = false;
  uint8_t level = kFree;       // now
  uint8_t last_level = kFree;  // of the latest logged-in event
  bool level_submitted = false;
  bool carries_both_levels = false;
};

// User attributes as JSON text, escaped once.
struct UserText {
  std::vector<std::string> first_names;  // female names, then male names
  std::vector<std::string> last_names;
  std::vector<std::string> locations;
  std::vector<std::string> agents;
};

std::string LogString(std::string_view text) {
  std::string out = "\"";
  AppendJsonText(text, kEscapeSlash, &out);
  out.push_back('"');
  return out;
}

const UserText& TextOfUsers() {
  static const UserText* text = [] {
    auto* t = new UserText;
    for (std::string_view n : kFemaleFirstNames) t->first_names.push_back(LogString(n));
    for (std::string_view n : kMaleFirstNames) t->first_names.push_back(LogString(n));
    for (std::string_view n : kLastNames) t->last_names.push_back(LogString(n));
    for (std::string_view n : kUserLocations) t->locations.push_back(LogString(n));
    for (std::string_view a : kUserAgents) {
      t->agents.push_back(a.find(',') == std::string_view::npos ? LogString(a)
                                                                : LogString("\"" + std::string(a) + "\""));
    }
    return t;
  }();
  return *text;
}

Page DrawPage(Rng& rng, uint8_t level) {
  // Weights per 976 logged-in events, close to the real logs' mix.
  uint64_t r = rng.Below(976);
  if (r < 878) return Page::kNextSong;
  if ((r -= 878) < 60) return Page::kHome;
  if ((r -= 60) < 11) return Page::kLogout;
  if ((r -= 11) < 10) return level == kPaid ? Page::kDowngrade : Page::kUpgrade;
  if ((r -= 10) < 7) return Page::kSettings;
  if ((r -= 7) < 5) return Page::kHelp;
  if ((r -= 5) < 3) return Page::kAbout;
  if ((r -= 3) < 1) return Page::kSaveSettings;
  return Page::kError;
}

// ------------------------------------------------------------------------------------------
// The generator.
// ------------------------------------------------------------------------------------------

class Generator {
 public:
  Generator(const Plan& plan, const ObjectSink& sink) : plan_(plan), sink_(sink), user_text_(TextOfUsers()) {}

  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  Status Run();
  const GenerateSummary& summary() const { return summary_; }

 private:
  Status Write(const std::string& key, std::string_view body, bool song);
  Status WriteSongs();
  void CountArtists();
  void MakeUsers();
  std::vector<uint64_t> EventsPerDay() const;
  Status GenerateDay(uint32_t day, uint64_t target, Rng& rng);
  bool PickUser(uint32_t day, Rng& rng, uint32_t* user, int64_t* start);
  bool SessionStart(uint32_t user, uint32_t day, Rng& rng, int64_t* start);
  uint64_t UserSession(uint32_t day, uint32_t user, int64_t start, Rng& rng, uint64_t budget);
  uint64_t VisitorSession(Rng& rng, uint64_t budget);
  Event& Emit(int64_t sec, uint64_t session, uint32_t item, uint32_t user, Page page, uint8_t level, bool logged_in);
  void DrawPlay(Rng& rng, Event* event);
  void RenderDay(Rng& dirty_rng);
  bool Eligible(DirtyKind kind, const Event& event) const;
  void AppendEvent(const Event& event, const DirtyKind* dirty, std::string* out);
  void ResolvePlay(const Event& event);
  void FinishUsers();

  // Fixed at construction.
  const Plan& plan_;
  const ObjectSink& sink_;
  const UserText& user_text_;

  GenerateSummary summary_;
  std::vector<User> users_;
  uint64_t next_session_ = 0;

  // The day being generated.
  int64_t day_start_ms_ = 0;
  std::vector<Event> events_;
  std::vector<uint64_t> next_song_seconds_;  // bit s set: some NextSong at second s of the day
  std::vector<DirtyKind> pending_dirty_;     // drawn but waiting for a record they fit
  size_t pending_head_ = 0;
  std::string body_;

  // Scratch, reused to keep allocation off the per-record path.
  std::string title_;
  std::string artist_;
  unsigned title_flags_ = 0;
  unsigned artist_flags_ = 0;
  std::string line_;
};

Status Generator::Write(const std::string& key, std::string_view body, bool song) {
  LOADSTAR_RETURN_IF_ERROR(sink_(key, body));
  ++summary_.files;
  summary_.bytes += body.size();
  if (song) {
    ++summary_.song_files;
    summary_.song_bytes += body.size();
  } else {
    ++summary_.log_files;
    summary_.log_bytes += body.size();
  }
  return Status::Ok();
}

Status Generator::Run() {
  LOADSTAR_RETURN_IF_ERROR(WriteSongs());
  CountArtists();
  MakeUsers();
  const std::vector<uint64_t> per_day = EventsPerDay();
  next_song_seconds_.assign((kDaySeconds + 63) / 64, 0);
  for (uint32_t day = 0; day < plan_.days; ++day) {
    Rng rng(plan_.seed, Stream::kDay, day);
    Rng dirty_rng(plan_.seed, Stream::kDirty, day);
    LOADSTAR_RETURN_IF_ERROR(GenerateDay(day, per_day[day], rng));
    if (events_.empty()) continue;
    RenderDay(dirty_rng);
    LOADSTAR_RETURN_IF_ERROR(Write(DayKey(day), body_, /*song=*/false));
  }
  FinishUsers();
  return Status::Ok();
}

Status Generator::WriteSongs() {
  std::string key, body, title, name;
  for (uint64_t i = 0; i < plan_.songs; ++i) {
    const CatalogueSong song = SongAt(plan_, i);
    const CatalogueArtist artist = ArtistAt(plan_, song.artist);
    Rng rng(plan_.seed, Stream::kSongIds, i);
    std::string track = "TR";
    AppendLetters(rng, 5, &track);
    track.append("128F");
    AppendHex(PermuteBits(i, 28, plan_.track_key), 7, &track);
    std::string song_id = "SO";
    AppendLetters(rng, 5, &song_id);
    song_id.append("12A");
    AppendHex(PermuteBits(i, 32, plan_.song_key), 8, &song_id);
    const int64_t year = rng.Percent(55) ? 0 : 1955 + static_cast<int64_t>(std::max(rng.Below(56), rng.Below(56)));
    title.clear();
    AppendCatalogueTitle(plan_, i, &title);
    name.clear();
    AppendCatalogueArtistName(plan_, song.artist, &name);

    body.clear();
    body.append(R"({"num_songs": 1, "artist_id": ")").append(artist.id).append(R"(", "artist_latitude": )");
    if (artist.has_coordinates) {
      AppendDecimal5(artist.lat_e5, &body);
      body.append(R"(, "artist_longitude": )");
      AppendDecimal5(artist.lon_e5, &body);
    } else {
      body.append(R"(null, "artist_longitude": null)");
    }
    body.append(R"(, "artist_location": ")");
    AppendJsonText(artist.location, 0, &body);
    body.append(R"(", "artist_name": ")");
    AppendJsonText(name, 0, &body);
    body.append(R"(", "song_id": ")").append(song_id).append(R"(", "title": ")");
    AppendJsonText(title, 0, &body);
    body.append(R"(", "duration": )");
    AppendDecimal5(song.duration_e5, &body);
    body.append(R"(, "year": )");
    AppendInt(year, &body);
    body.push_back('}');

    key.assign("song_data/");
    for (int k = 2; k < 5; ++k) key.append({track[k], '/'});
    key.append(track).append(".json");
    LOADSTAR_RETURN_IF_ERROR(Write(key, body, /*song=*/true));
    ++summary_.songs;
    if (year == 0) ++summary_.songs_without_year;
  }
  return Status::Ok();
}

void Generator::CountArtists() {
  summary_.artists = plan_.artists;
  for (uint64_t a = 0; a < plan_.artists; ++a) {
    if (!ArtistAt(plan_, a).has_coordinates) ++summary_.artists_without_coordinates;
  }
}

void Generator::MakeUsers() {
  users_.resize(plan_.users);
  const int64_t period_ms = static_cast<int64_t>(plan_.days) * kDaySeconds * 1000;
  for (uint64_t u = 0; u < plan_.users; ++u) {
    Rng rng(plan_.seed, Stream::kUser, u);
    User& user = users_[u];
    user.female = rng.Percent(60);
    user.first_name = static_cast<uint16_t>(user.female ? rng.Below(Count(kFemaleFirstNames))
                                                        : Count(kFemaleFirstNames) + rng.Below(Count(kMaleFirstNames)));
    user.last_name = static_cast<uint16_t>(rng.Below(Count(kLastNames)));
    user.location = static_cast<uint8_t>(rng.Below(Count(kUserLocations)));
    user.agent = static_cast<uint8_t>(rng.Below(Count(kUserAgents)));
    // Registered up to 200 days before the period; ms ending in 796 like every ts.
    user.registration_ms = kPeriodStartMs - rng.Between(1, 200 * kDaySeconds) * 1000 - (1000 - kTsMillis);
    user.level = rng.Percent(22) ? kPaid : kFree;
    const bool changes = rng.Percent(9);
    const int64_t change_at = kPeriodStartMs + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(period_ms)));
    if (changes) user.change_at_ms = change_at;
  }
}

std::vector<uint64_t> Generator::EventsPerDay() const {
  Rng rng(plan_.seed, Stream::kDayWeights, 0);
  std::vector<uint64_t> weights(plan_.days);
  uint64_t total = 0;
  for (uint64_t& w : weights) total += (w = 80 + rng.Below(41));
  std::vector<uint64_t> per_day(plan_.days);
  uint64_t cumulative = 0;
  uint64_t before = 0;
  for (uint32_t d = 0; d < plan_.days; ++d) {
    cumulative += weights[d];
    const auto upto = static_cast<uint64_t>(static_cast<Uint128>(plan_.events) * cumulative / total);
    per_day[d] = upto - before;
    before = upto;
  }
  return per_day;
}

Status Generator::GenerateDay(uint32_t day, uint64_t target, Rng& rng) {
  events_.clear();
  std::fill(next_song_seconds_.begin(), next_song_seconds_.end(), 0);
  day_start_ms_ = kPeriodStartMs + static_cast<int64_t>(day) * kDaySeconds * 1000;
  uint64_t remaining = target;
  while (remaining > 0) {
    if (rng.Below(1000) < 15) {
      remaining -= VisitorSession(rng, remaining);
      continue;
    }
    uint32_t user = 0;
    int64_t start = 0;
    if (!PickUser(day, rng, &user, &start)) {
      return Status::InvalidArgument("every user's day " + std::to_string(day + 1) +
                                     " is full: raise `users` or lower `events`");
    }
    remaining -= UserSession(day, user, start, rng, remaining);
  }
  for (uint64_t word : next_song_seconds_) summary_.distinct_next_song_ts += static_cast<uint64_t>(__builtin_popcountll(word));
  return Status::Ok();
}

bool Generator::SessionStart(uint32_t user, uint32_t day, Rng& rng, int64_t* start) {
  constexpr int64_t kLatestStart = kDaySeconds - 900;
  const User& u = users_[user];
  if (u.cursor_day != day) {
    *start = static_cast<int64_t>(rng.Below(kLatestStart));
    return true;
  }
  const int64_t earliest = u.cursor_sec + 1800;  // at least half an hour between sessions
  if (earliest > kLatestStart) return false;
  *start = std::min<int64_t>(earliest + static_cast<int64_t>(rng.Below(3 * 3600)), kLatestStart);
  return true;
}

bool Generator::PickUser(uint32_t day, Rng& rng, uint32_t* user, int64_t* start) {
  uint64_t candidate = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    candidate = Scatter(rng.Skewed(plan_.users), plan_.users, plan_.user_scatter);
    if (SessionStart(static_cast<uint32_t>(candidate), day, rng, start)) {
      *user = static_cast<uint32_t>(candidate);
      return true;
    }
  }
  // The busiest users have no room left today: take the next one who has.
  for (uint64_t k = 1; k <= plan_.users; ++k) {
    const auto next = static_cast<uint32_t>((candidate + k) % plan_.users);
    if (SessionStart(next, day, rng, start)) {
      *user = next;
      return true;
    }
  }
  return false;
}

Event& Generator::Emit(int64_t sec, uint64_t session, uint32_t item, uint32_t user, Page page, uint8_t level,
                       bool logged_in) {
  Event& e = events_.emplace_back();
  e.ts = day_start_ms_ + sec * 1000 + kTsMillis;
  e.session = session;
  e.item = item;
  e.user = user;
  e.page = page;
  e.level = level;
  e.logged_in = logged_in;
  ++summary_.events;
  if (summary_.events == 1 || e.ts < summary_.first_ts) summary_.first_ts = e.ts;
  summary_.last_ts = std::max(summary_.last_ts, e.ts);
  if (!logged_in) {
    ++summary_.logged_out_events;
  } else {
    // A user's events are emitted in time order, so the last one emitted is the latest.
    User& u = users_[user];
    if (u.last_ts >= 0 && u.last_level != level) u.carries_both_levels = true;
    u.last_ts = e.ts;
    u.last_level = level;
  }
  if (page == Page::kNextSong) {
    ++summary_.next_song_events;
    next_song_seconds_[static_cast<size_t>(sec) / 64] |= uint64_t{1} << (sec % 64);
  }
  return e;
}

uint64_t Generator::VisitorSession(Rng& rng, uint64_t budget) {
  const uint64_t session = ++next_session_;
  ++summary_.sessions;
  const uint8_t level = rng.Percent(40) ? kPaid : kFree;
  int64_t sec = static_cast<int64_t>(rng.Below(kDaySeconds - 600));
  Emit(sec, session, 0, kVisitor, Page::kHome, level, false);
  if (budget > 1 && rng.Percent(30)) {
    sec += rng.Between(5, 120);
    Emit(sec, session, 1, kVisitor, rng.Percent(50) ? Page::kAbout : Page::kHelp, level, false);
    return 2;
  }
  return 1;
}

uint64_t Generator::UserSession(uint32_t day, uint32_t user, int64_t start, Rng& rng, uint64_t budget) {
  User& u = users_[user];
  const uint64_t session = ++next_session_;
  ++summary_.sessions;
  uint64_t length = rng.Percent(3) ? static_cast<uint64_t>(rng.Between(20, 140)) : 1 + rng.Below(41) * rng.Below(41) / 40;
  length = std::min(length, budget);
  uint32_t item = 0;
  int64_t sec = start;
  int64_t last_sec = start;
  auto emit = [&](Page page, bool logged_in) -> Event& {
    last_sec = sec;
    return Emit(sec, session, item++, user, page, u.level, logged_in);
  };
  if (length >= 3 && rng.Percent(8)) {  // arrives logged out, then logs in
    emit(Page::kHome, false);
    sec += rng.Between(5, 90);
    emit(Page::kLogin, false);
    sec += rng.Between(1, 20);
  }
  bool open = true;
  bool offered = false;  // the Upgrade (Downgrade) page was shown in this session
  while (open && item < length && sec < kDaySeconds) {
    Page page;
    if (!u.level_submitted && day_start_ms_ + sec * 1000 + kTsMillis >= u.change_at_ms) {
      if (offered) {
        page = u.level == kPaid ? Page::kSubmitDowngrade : Page::kSubmitUpgrade;
      } else {
        page = u.level == kPaid ? Page::kDowngrade : Page::kUpgrade;
        offered = true;
      }
    } else {
      page = DrawPage(rng, u.level);
    }
    Event& e = emit(page, true);
    switch (page) {
      case Page::kNextSong: {
        DrawPlay(rng, &e);
        const int64_t seconds = std::max<int64_t>(1, e.length_e5 / 100000);
        sec += rng.Percent(5) ? rng.Between(1, seconds) : seconds;  // skipped, or heard to the end
        break;
      }
      case Page::kSubmitUpgrade:
      case Page::kSubmitDowngrade:
        // The new level starts with the next event, strictly later: events sharing a ts share a level.
        u.level = u.level == kPaid ? kFree : kPaid;
        u.level_submitted = true;
        sec += rng.Between(1, 30);
        break;
      case Page::kLogout:
        sec += rng.Between(10, 120);
        open = item < length && sec < kDaySeconds;
        if (open) {
          emit(Page::kHome, false);
          open = item + 1 < length && rng.Percent(50);
        }
        if (open) {
          sec += rng.Between(1, 30);
          open = sec < kDaySeconds;
        }
        if (open) {
          emit(Page::kLogin, false);
          sec += rng.Between(1, 20);
        }
        break;
      default:
        sec += rng.Percent(30) ? 0 : rng.Between(1, 60);
    }
  }
  u.cursor_day = day;
  u.cursor_sec = last_sec;
  return item;
}

void Generator::DrawPlay(Rng& rng, Event* e) {
  const uint64_t r = rng.Next() >> 32;
  if (r < plan_.match_threshold) {
    e->play = PlayKind::kCatalogue;
    e->play_index = Scatter(rng.Skewed(plan_.songs), plan_.songs, plan_.song_scatter);
    e->length_e5 = SongAt(plan_, e->play_index).duration_e5;
    ++summary_.matched_plays;
    return;
  }
  if (r < plan_.near_miss_threshold) {
    const uint64_t j = Scatter(rng.Skewed(plan_.songs), plan_.songs, plan_.song_scatter);
    const CatalogueSong song = SongAt(plan_, j);
    e->play_index = j;
    e->length_e5 = song.duration_e5;
    e->play = PlayKind::kNearLength;
    const uint64_t variant = rng.Below(3);
    if (variant == 1) {
      // Another artist's name: any outside name that differs from this song's artist's.
      title_.clear();  // here: the catalogue artist's name
      AppendCatalogueArtistName(plan_, song.artist, &title_);
      uint64_t x = rng.Below(plan_.pool);
      for (int attempt = 0; attempt < 16; ++attempt, x = (x + 1) % plan_.pool) {
        artist_.clear();
        AppendOutsideArtistName(plan_, x, &artist_);
        if (artist_ != title_) {
          e->play = PlayKind::kNearArtist;
          e->play_aux = x;
          break;
        }
      }
    } else if (variant == 2) {
      title_.clear();
      AppendCatalogueTitle(plan_, j, &title_);
      artist_.clear();
      AppendCatalogueArtistName(plan_, song.artist, &artist_);
      if (HasNonAscii(title_) || HasNonAscii(artist_)) e->play = PlayKind::kNearEncoding;
    }
    if (e->play == PlayKind::kNearLength) {
      const int64_t delta = rng.Between(100000, 3000000);  // 1 s to 30 s
      e->length_e5 = song.duration_e5 - delta >= 100000 && rng.Percent(50) ? song.duration_e5 - delta
                                                                            : song.duration_e5 + delta;
    }
    ++summary_.near_miss_plays;
    return;
  }
  e->play = PlayKind::kOutside;
  e->play_index = Scatter(rng.Skewed(plan_.pool), plan_.pool, plan_.pool_scatter);
  e->length_e5 = OutsideSongAt(plan_, e->play_index).length_e5;
}

void Generator::ResolvePlay(const Event& e) {
  title_.clear();
  artist_.clear();
  title_flags_ = kEscapeSlash;
  artist_flags_ = kEscapeSlash;
  if (e.play == PlayKind::kOutside) {
    // The real logs hold every non-ASCII song and artist name double-encoded.
    title_flags_ |= kMisEncode;
    artist_flags_ |= kMisEncode;
    AppendOutsideTitle(plan_, e.play_index, &title_);
    const OutsideSong song = OutsideSongAt(plan_, e.play_index);
    if (song.catalogue_artist) {
      AppendCatalogueArtistName(plan_, song.artist, &artist_);
    } else {
      AppendOutsideArtistName(plan_, song.artist, &artist_);
    }
    return;
  }
  AppendCatalogueTitle(plan_, e.play_index, &title_);
  if (e.play == PlayKind::kNearArtist) {
    AppendOutsideArtistName(plan_, e.play_aux, &artist_);
  } else {
    AppendCatalogueArtistName(plan_, SongAt(plan_, e.play_index).artist, &artist_);
  }
  if (e.play == PlayKind::kNearEncoding) {
    title_flags_ |= kMisEncode;
    artist_flags_ |= kMisEncode;
  }
}

void Generator::AppendEvent(const Event& e, const DirtyKind* dirty, std::string* out) {
  const bool play = e.page == Page::kNextSong;
  const bool in = e.logged_in;
  const User* u = in ? &users_[e.user] : nullptr;
  if (play) ResolvePlay(e);
  out->append(R"({"artist":)");
  if (play) {
    out->push_back('"');
    AppendJsonText(artist_, artist_flags_, out);
    out->push_back('"');
  } else {
    out->append("null");
  }
  out->append(in ? R"(,"auth":"Logged In","firstName":)" : R"(,"auth":"Logged Out","firstName":)");
  if (in) {
    out->append(user_text_.first_names[u->first_name]).append(u->female ? R"(,"gender":"F")" : R"(,"gender":"M")");
  } else {
    out->append(R"(null,"gender":null)");
  }
  out->append(R"(,"itemInSession":)");
  AppendInt(e.item, out);
  out->append(R"(,"lastName":)");
  out->append(in ? std::string_view(user_text_.last_names[u->last_name]) : std::string_view("null"));
  out->append(R"(,"length":)");
  if (play) {
    AppendDecimal5(e.length_e5, out);
  } else {
    out->append("null");
  }
  out->append(e.level == kPaid ? R"(,"level":"paid","location":)" : R"(,"level":"free","location":)");
  out->append(in ? std::string_view(user_text_.locations[u->location]) : std::string_view("null"));
  out->push_back(',');
  out->append(InfoOf(e.page).fields);
  out->append(R"("registration":)");
  if (in) {
    AppendInt(u->registration_ms, out);
    out->append(".0");
  } else {
    out->append("null");
  }
  if (dirty != nullptr && *dirty == DirtyKind::kNonNumericSessionId) {
    out->append(R"(,"sessionId":"session-)");
    AppendInt(static_cast<int64_t>(e.session), out);
    out->push_back('"');
  } else {
    out->append(R"(,"sessionId":)");
    AppendInt(static_cast<int64_t>(e.session), out);
  }
  out->append(R"(,"song":)");
  if (play) {
    out->push_back('"');
    AppendJsonText(title_, title_flags_, out);
    out->push_back('"');
  } else {
    out->append("null");
  }
  out->append(R"(,"status":)").append(InfoOf(e.page).status);
  if (dirty == nullptr || *dirty != DirtyKind::kMissingTs) {
    out->append(R"(,"ts":)");
    AppendInt(e.ts, out);
  }
  out->append(R"(,"userAgent":)");
  if (in) {
    out->append(user_text_.agents[u->agent]);
    out->append(R"(,"userId":")");
    AppendInt(static_cast<int64_t>(e.user) + 1, out);
    out->append("\"}");
  } else {
    out->append(R"(null,"userId":""})");
  }
}

bool Generator::Eligible(DirtyKind kind, const Event& e) const {
  // Copies that a lenient loader might still load keep to users whose level never changes, so
  // that even then users.level stays what the summary says.
  const bool stable = !e.logged_in || users_[e.user].change_at_ms == kNever;
  switch (kind) {
    case DirtyKind::kTruncatedLine: return true;
    case DirtyKind::kNonNumericSessionId: return stable;
    case DirtyKind::kMissingTs: return e.page == Page::kNextSong && stable;
  }
  return false;
}

void Generator::RenderDay(Rng& dirty_rng) {
  std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    if (a.ts != b.ts) return a.ts < b.ts;
    if (a.session != b.session) return a.session < b.session;
    return a.item < b.item;
  });
  body_.clear();
  body_.reserve(events_.size() * 480);
  for (const Event& e : events_) {
    if (!body_.empty()) body_.push_back('\n');
    AppendEvent(e, nullptr, &body_);
    if (plan_.dirty_threshold == 0) continue;
    if (dirty_rng.Chance(plan_.dirty_threshold)) {
      pending_dirty_.push_back(plan_.dirty_kinds[dirty_rng.Below(plan_.dirty_kinds.size())]);
    }
    if (pending_head_ == pending_dirty_.size() || !Eligible(pending_dirty_[pending_head_], e)) continue;
    const DirtyKind kind = pending_dirty_[pending_head_++];
    if (pending_head_ == pending_dirty_.size()) {
      pending_dirty_.clear();
      pending_head_ = 0;
    }
    body_.push_back('\n');
    if (kind == DirtyKind::kTruncatedLine) {
      line_.clear();
      AppendEvent(e, nullptr, &line_);
      body_.append(line_, 0, static_cast<size_t>(dirty_rng.Between(1, static_cast<int64_t>(line_.size()) - 2)));
    } else {
      AppendEvent(e, &kind, &body_);
    }
    ++summary_.dirty[static_cast<size_t>(kind)];
  }
}

void Generator::FinishUsers() {
  for (const User& u : users_) {
    if (u.last_ts < 0) continue;
    ++summary_.distinct_users;
    if (u.last_level == kPaid) ++summary_.paid_users;
    if (u.carries_both_levels) ++summary_.users_changing_level;
  }
}

Status RunGenerator(const GenerateOptions& options, const ObjectSink& sink, GenerateSummary* summary) {
  LOADSTAR_RETURN_IF_ERROR(ValidateGenerateOptions(options));
  const Plan plan = MakePlan(options);
  Generator generator(plan, sink);
  LOADSTAR_RETURN_IF_ERROR(generator.Run());
  *summary = generator.summary();
  return Status::Ok();
}

bool IsShare(double v) { return v >= 0.0 && v <= 1.0; }  // false for NaN

}  // namespace

uint64_t MaxGeneratedSongs() { return kTitleCapacity / 3 - 1; }

std::string_view DirtyKindName(DirtyKind kind) {
  switch (kind) {
    case DirtyKind::kTruncatedLine: return "truncated_line";
    case DirtyKind::kNonNumericSessionId: return "non_numeric_session_id";
    case DirtyKind::kMissingTs: return "missing_ts";
  }
  return "unknown";
}

uint64_t GenerateSummary::dirty_records() const {
  uint64_t n = 0;
  for (uint64_t d : dirty) n += d;
  return n;
}

std::string GenerateSummary::ToString() const {
  std::string out;
  auto line = [&out](std::string_view name, uint64_t value) {
    out.append(name).append(": ").append(std::to_string(value)).push_back('\n');
  };
  line("files", files);
  line("bytes", bytes);
  line("song files", song_files);
  line("song bytes", song_bytes);
  line("log files", log_files);
  line("log bytes", log_bytes);
  line("songs", songs);
  line("songs without year", songs_without_year);
  line("artists", artists);
  line("artists without coordinates", artists_without_coordinates);
  line("events", events);
  line("NextSong events (songplays)", next_song_events);
  line("logged-out events", logged_out_events);
  line("sessions", sessions);
  line("distinct users", distinct_users);
  line("paid users", paid_users);
  line("users changing level", users_changing_level);
  line("matched plays", matched_plays);
  line("near-miss plays", near_miss_plays);
  line("distinct NextSong ts (time)", distinct_next_song_ts);
  out.append("first ts: ").append(std::to_string(first_ts)).push_back('\n');
  out.append("last ts: ").append(std::to_string(last_ts)).push_back('\n');
  for (size_t k = 0; k < kDirtyKindCount; ++k) {
    out.append("dirty ").append(DirtyKindName(static_cast<DirtyKind>(k))).append(": ");
    out.append(std::to_string(dirty[k])).push_back('\n');
  }
  return out;
}

Status ValidateGenerateOptions(const GenerateOptions& o) {
  if (!WordListsAreSound()) return Status::Internal("the generator's word lists break the title invariants");
  if (o.days < 1 || o.days > 36500) return Status::InvalidArgument("days must be between 1 and 36500");
  if (o.songs > MaxGeneratedSongs()) {
    return Status::InvalidArgument("songs must be at most " + std::to_string(MaxGeneratedSongs()) +
                                   " (titles are unique by construction)");
  }
  if (o.artists > o.songs) {
    return Status::InvalidArgument("artists (" + std::to_string(o.artists) + ") must not exceed songs (" +
                                   std::to_string(o.songs) + "): every artist has a song");
  }
  if (o.users > (uint64_t{1} << 31)) return Status::InvalidArgument("users must be at most 2^31");
  if (!IsShare(o.match_share) || !IsShare(o.near_miss_share) || !IsShare(o.dirty_share)) {
    return Status::InvalidArgument("match_share, near_miss_share and dirty_share must be between 0 and 1");
  }
  if (Threshold(o.match_share) + Threshold(o.near_miss_share) > (uint64_t{1} << 32)) {
    return Status::InvalidArgument("match_share + near_miss_share must not exceed 1");
  }
  if ((o.dirty_kinds & ~kAllDirtyKinds) != 0 || (o.dirty_share > 0 && o.dirty_kinds == 0)) {
    return Status::InvalidArgument("dirty_kinds must be a non-empty mask of DirtyKindBit values");
  }
  const uint64_t users = UserCount(o);
  if (o.events / o.days / users > 40) {
    return Status::InvalidArgument("more than 40 events per user per day: raise users to at least " +
                                   std::to_string(o.events / o.days / 40 + 1));
  }
  return Status::Ok();
}

Result<GenerateSummary> Generate(const GenerateOptions& options, const ObjectSink& sink) {
  ObjectSink with_key = [&sink](std::string_view key, std::string_view body) {
    Status s = sink(key, body);
    return s.ok() ? s : s.WithContext("writing " + std::string(key));
  };
  GenerateSummary summary;
  LOADSTAR_RETURN_IF_ERROR(RunGenerator(options, with_key, &summary));
  return summary;
}

Result<GenerateSummary> GenerateToStore(const GenerateOptions& options, ObjectStore& store, std::string_view prefix) {
  std::string full(prefix);
  if (!full.empty() && full.back() != '/') full.push_back('/');
  const size_t base = full.size();
  ObjectSink put = [&](std::string_view key, std::string_view body) {
    full.resize(base);
    full.append(key);
    Status s = store.Put(full, body);
    return s.ok() ? s : s.WithContext("writing " + store.UriFor(full));
  };
  GenerateSummary summary;
  LOADSTAR_RETURN_IF_ERROR(RunGenerator(options, put, &summary));
  return summary;
}

}  // namespace loadstar
