"""Vocabulary the synthetic catalog draws titles, names and prose from.

Unicode on purpose: real TMDb titles and names are full of accents, CJK and Cyrillic, and a
pipeline that only ever saw ASCII would break on its first real year.
"""

from __future__ import annotations

# (code, English name, native name, weight in the catalog, share of originals in that language)
LANGUAGES = [
    ("en", "English", "English", 0.46),
    ("fr", "French", "Français", 0.07),
    ("es", "Spanish", "Español", 0.06),
    ("de", "German", "Deutsch", 0.05),
    ("ja", "Japanese", "日本語", 0.06),
    ("it", "Italian", "Italiano", 0.04),
    ("ko", "Korean", "한국어/조선말", 0.03),
    ("zh", "Mandarin", "普通话", 0.04),
    ("ru", "Russian", "Pусский", 0.04),
    ("hi", "Hindi", "हिन्दी", 0.03),
    ("pt", "Portuguese", "Português", 0.04),
    ("sv", "Swedish", "svenska", 0.02),
    ("tr", "Turkish", "Türkçe", 0.02),
    ("pl", "Polish", "Polski", 0.02),
    ("cs", "Czech", "Český", 0.02),
]
LANGUAGE_CODES = [code for code, *_ in LANGUAGES]

COUNTRY_OF_LANGUAGE = {
    "en": ("US", "United States of America"), "fr": ("FR", "France"), "es": ("ES", "Spain"),
    "de": ("DE", "Germany"), "ja": ("JP", "Japan"), "it": ("IT", "Italy"),
    "ko": ("KR", "South Korea"), "zh": ("CN", "China"), "ru": ("RU", "Russia"),
    "hi": ("IN", "India"), "pt": ("BR", "Brazil"), "sv": ("SE", "Sweden"),
    "tr": ("TR", "Turkey"), "pl": ("PL", "Poland"), "cs": ("CZ", "Czech Republic"),
}

TITLE_ADJECTIVES = [
    "Silent", "Last", "Broken", "Golden", "Hidden", "Crimson", "Lost", "Eternal", "Wild", "Quiet",
    "Burning", "Frozen", "Distant", "Electric", "Forgotten", "Hollow", "Infinite", "Lonely", "Midnight",
    "Northern", "Pale", "Restless", "Secret", "Savage", "Sleeping", "Stolen", "Sweet", "Velvet",
    "Wandering", "Young", "Black", "Blue", "Dark", "Final", "First", "Little", "Long", "Red", "White",
]
TITLE_NOUNS = [
    "River", "Summer", "Night", "House", "Road", "City", "Heart", "Garden", "Mirror", "Storm", "Island",
    "Kingdom", "Letter", "Machine", "Ocean", "Promise", "Shadow", "Station", "Stranger", "Winter",
    "Witness", "Empire", "Harbor", "Horizon", "Journey", "Legacy", "Mountain", "Orchard", "Passage",
    "Prophecy", "Requiem", "Signal", "Symphony", "Tide", "Valley", "Voyage", "Wolves", "Daughters",
    "Brothers", "Sisters", "Ghosts", "Lovers", "Strangers", "Angels", "Kings", "Hunters",
]
TITLE_PATTERNS = [
    "The {adj} {noun}", "{adj} {noun}", "The {noun}", "{noun} of the {adj} {noun2}",
    "A {adj} {noun}", "{noun} & {noun2}", "The {noun} Affair", "Beyond the {noun}",
    "{adj} {noun}: Part {roman}", "Return of the {noun}", "{noun} at Dawn", "My {adj} {noun}",
]
ROMAN = ["II", "III", "IV", "V"]

NATIVE_TITLE_WORDS = {
    "fr": ["La Nuit", "Le Silence", "Les Amants", "L'Été", "Le Château", "La Rivière", "Les Étoiles",
           "Le Cœur", "La Fenêtre", "Les Ombres"],
    "es": ["El Silencio", "La Noche", "Los Olvidados", "El Corazón", "La Montaña", "Años de Niñez",
           "El Laberinto", "La Canción"],
    "de": ["Die Nacht", "Der Himmel", "Das Schweigen", "Die Brücke", "Der Große Traum", "Über den Fluss",
           "Das Mädchen", "Die Straße"],
    "ja": ["東京", "夜明け", "物語", "桜の季節", "影武者", "千の風", "海の向こう", "夏の終わり"],
    "it": ["La Notte", "Il Silenzio", "La Città", "Il Giardino", "L'Estate", "La Strada", "Il Mare"],
    "ko": ["밤의 끝", "바다", "기억", "서울의 봄", "우리들", "그 여름"],
    "zh": ["长夜", "花样年华", "大地", "故乡", "春光", "归途"],
    "ru": ["Москва", "Тишина", "Зеркало", "Дорога", "Летят журавли", "Сталкер"],
    "hi": ["दिल", "सपने", "रात", "ज़िंदगी", "आसमान"],
    "pt": ["A Noite", "O Silêncio", "Cidade de Deus", "O Coração", "Estação Central"],
    "sv": ["Natten", "Sommaren", "Tystnaden", "Smultronstället", "Höstsonaten"],
    "tr": ["Gece", "Uzak", "Kış Uykusu", "Bir Zamanlar", "Yol"],
    "pl": ["Noc", "Cisza", "Popiół i diament", "Dekalog", "Zimna wojna"],
    "cs": ["Noc", "Ticho", "Obchod na korze", "Ostře sledované vlaky"],
}
NATIVE_SUFFIXES = ["", "", " II", " 2", ": Épilogue", " — Część 2", "!"]

FIRST_NAMES = [
    "Anna", "Bruno", "Chloé", "Dmitri", "Eleni", "Farid", "Greta", "Hiroshi", "Ingrid", "Jamal", "Kaito",
    "Léa", "Marco", "Nadia", "Oskar", "Paulina", "Quentin", "Rosa", "Søren", "Tomás", "Ulla", "Valentina",
    "Wei", "Ximena", "Yuki", "Zoltán", "Amélie", "Björn", "Carmen", "Diego", "Émile", "François", "Gaël",
    "Helga", "Iñaki", "Jürgen", "Katarzyna", "Lucía", "Mei", "Nikolai", "Olga", "Pedro", "Raúl", "Sakura",
    "Thandiwe", "Uma", "Vikram", "Wiktor", "Yasmin", "Zoë", "Jean-Pierre", "Mary", "John", "Michael",
    "Sarah", "David", "Emma", "James", "Laura", "Robert", "Linda", "William", "Susan", "Richard", "Karen",
]
LAST_NAMES = [
    "Andersson", "Baptiste", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann", "Ivanova",
    "Jovanović", "Kowalski", "Lefèvre", "Müller", "Nakamura", "O'Brien", "Petrović", "Quintero", "Rossi",
    "Schäfer", "Tanaka", "Ueda", "Varga", "Wójcik", "Xu", "Yamamoto", "Zhang", "Álvarez", "Björk",
    "Černý", "Dąbrowski", "Eastwood", "Fontaine", "Gonçalves", "Hernández", "Iglesias", "Jensen", "Kim",
    "López", "Martín", "Novák", "Østergaard", "Park", "Romero", "Smith", "Thompson", "Ünal", "Vasquez",
    "Williams", "Yilmaz", "Zielińska", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor",
    "Anderson", "Thomas", "Jackson", "White", "Harris", "Martin", "Clark", "Lewis", "Walker", "Young",
]
# A handful of CJK / Cyrillic full names, as TMDb stores them in original_name.
NATIVE_NAMES = ["黒澤 明", "是枝裕和", "Андрей Тарковский", "봉준호", "王家卫", "Αγγελική Παπούλια"]

CHARACTER_NAMES = [
    "Detective {last}", "Dr. {last}", "{first}", "Captain {last}", "Mrs. {last}", "Young {first}",
    "The Stranger", "Narrator", "{first} {last}", "Himself", "Herself", "Officer {last}", "Mother",
    "Father", "Sister {first}", "Uncle {first}", "Bartender", "Nurse", "Reporter", "Guard #{n}",
]

OVERVIEW_SENTENCES = [
    "When {name} returns to the {place} after twenty years, old secrets begin to surface.",
    "A {adj} {job} must choose between loyalty and the truth.",
    "Set against the backdrop of a {adj} {place}, three strangers find their lives entwined.",
    "{name} has one night to make things right.",
    "Based on a true story that shocked a nation.",
    "What begins as an ordinary summer turns into something no one could have imagined.",
    "A tender portrait of a family on the edge of change.",
    "As the storm closes in, {name} discovers that nobody in the {place} is who they seem.",
    "An unlikely friendship blossoms between a {job} and a runaway.",
    "The past has a way of catching up with everyone.",
]
PLACES = ["village", "city", "harbor", "mountain town", "border town", "island", "old house", "hotel"]
JOBS = ["detective", "schoolteacher", "musician", "nurse", "pilot", "farmer", "journalist", "thief"]
OVERVIEW_ADJ = ["lonely", "brilliant", "reckless", "retired", "stubborn", "gifted", "ruthless", "quiet"]

TAGLINES = [
    "Some secrets never stay buried.", "Every ending is a beginning.", "The truth hurts.",
    "One night. One chance.", "Nothing will ever be the same.", "Love is the strangest journey.",
    "Based on a true story.", "", "", "",
]

KEYWORDS = [
    (818, "based on novel or book"), (1701, "hero"), (4565, "dystopia"), (9672, "based on true story"),
    (10183, "independent film"), (6054, "friendship"), (179431, "duringcreditsstinger"),
    (9748, "revenge"), (10683, "coming of age"), (180547, "murder"), (5565, "biography"),
    (2343, "magic"), (15060, "small town"), (9717, "based on comic"), (14544, "world war ii"),
    (187056, "woman director"), (158718, "lgbt"), (6149, "police"), (9663, "sequel"),
    (1721, "fight"), (190370, "family drama"), (155291, "aftercreditsstinger"),
]

GENRES = [
    (28, "Action"), (12, "Adventure"), (16, "Animation"), (35, "Comedy"), (80, "Crime"),
    (99, "Documentary"), (18, "Drama"), (10751, "Family"), (14, "Fantasy"), (36, "History"),
    (27, "Horror"), (10402, "Music"), (9648, "Mystery"), (10749, "Romance"), (878, "Science Fiction"),
    (10770, "TV Movie"), (53, "Thriller"), (10752, "War"), (37, "Western"),
]

COMPANIES = [
    (1, "Lucasfilm Ltd.", "US"), (25, "20th Century Fox", "US"), (33, "Universal Pictures", "US"),
    (4, "Paramount Pictures", "US"), (174, "Warner Bros. Pictures", "US"), (104, "Canal+", "FR"),
    (7, "DreamWorks Pictures", "US"), (2, "Walt Disney Pictures", "US"), (5, "Columbia Pictures", "US"),
    (10342, "Studio Ghibli", "JP"), (882, "TOHO", "JP"), (7505, "Marvel Entertainment", "US"),
    (491, "Summit Entertainment", "US"), (1632, "Lionsgate", "US"), (6194, "Warner Bros. Animation", "US"),
    (83, "CJ Entertainment", "KR"), (694, "StudioCanal", "FR"), (5358, "Constantin Film", "DE"),
    (2785, "Warner Bros. Television", "US"), (14, "Miramax", "US"), (41077, "A24", "US"),
    (3268, "HBO", "US"), (11073, "Sony Pictures Television Studios", "US"), (20555, "Taurus Film", "DE"),
]

WATCH_PROVIDERS = [
    (8, "Netflix", "/pbpMk2JmcoNnQwx5JGpXngfoWtp.jpg"), (9, "Amazon Prime Video", "/dQeAar5H991VYporEjUspolDarG.jpg"),
    (337, "Disney Plus", "/97yvRBw1GzX7fXprcF80er19ot.jpg"), (2, "Apple TV", "/9ghgSC0MA082EL6HLCW3GalykFD.jpg"),
    (3, "Google Play Movies", "/8z7rC8uIDaTM91X0ZfkRf04ydj2.jpg"), (15, "Hulu", "/bxBlRPEPpMVDc4jMhSrTf2339DW.jpg"),
    (1899, "Max", "/fksCUZ9QDWZMUwL2LgMtLckROUN.jpg"), (531, "Paramount Plus", "/h5DcR0J2EESLitnhR8xLG1QymTE.jpg"),
]

VIDEO_TYPES = ["Trailer", "Teaser", "Clip", "Featurette", "Behind the Scenes"]

CREW_JOBS = [
    ("Directing", "Assistant Director"), ("Directing", "Script Supervisor"), ("Writing", "Writer"), ("Writing", "Novel"),
    ("Production", "Producer"), ("Production", "Executive Producer"), ("Production", "Casting"),
    ("Camera", "Director of Photography"), ("Editing", "Editor"), ("Sound", "Original Music Composer"),
    ("Sound", "Sound Designer"), ("Art", "Production Design"), ("Art", "Art Direction"),
    ("Costume & Make-Up", "Costume Design"), ("Costume & Make-Up", "Makeup Artist"),
    ("Visual Effects", "Visual Effects Supervisor"), ("Crew", "Stunt Coordinator"),
    ("Lighting", "Gaffer"), ("Camera", "Camera Operator"), ("Sound", "Boom Operator"),
]

CERTIFICATIONS = {
    "US": ["G", "PG", "PG-13", "R", "NC-17", ""], "GB": ["U", "PG", "12A", "15", "18", ""],
    "DE": ["0", "6", "12", "16", "18", ""], "FR": ["U", "10", "12", "16", "18", ""],
    "JP": ["G", "PG12", "R15+", "R18+", ""], "BR": ["L", "10", "12", "14", "16", "18"],
}
