package gen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
)

// MultihopSeed is the seed of the committed multi-hop corpus and questions.
const MultihopSeed = 20261205

// Sizes of the multi-hop task.
const (
	mhCountries = 32
	mhCities    = 240
	mhPeople    = 800
	mhBooks     = 800
	// NumMultihopQuestions is the number of two-hop questions.
	NumMultihopQuestions = 300
)

var (
	mhCountryStems = []string{"Vald", "Kest", "Mor", "Aren", "Bel", "Cor", "Dar", "Esk", "Fal", "Gor", "Hal", "Ister",
		"Jor", "Kal", "Lun", "Mir", "Nov", "Or", "Pral", "Quen", "Rav", "Sol", "Tarv", "Ust", "Vey", "Wend", "Zar", "Ald", "Brev", "Calm", "Dunst", "Elv"}
	mhCountryEnds = []string{"oria", "avia", "enia", "ara", "istan", "land", "ovia", "mark"}
	mhFirst       = []string{"Ada", "Bram", "Cora", "Dmitri", "Edda", "Felix", "Greta", "Hugo", "Ilse", "Jonas", "Kira", "Leon",
		"Maren", "Nils", "Olga", "Piet", "Runa", "Sven", "Tilde", "Ulf", "Vera", "Wim", "Yara", "Zeno", "Alma", "Boris", "Clara", "Dario",
		"Elin", "Frida", "Gustav", "Hedda", "Ivo", "Jana", "Karel", "Lotte"}
	mhLast = []string{"Fenwick", "Varga", "Lindqvist", "Okafor", "Moreau", "Haldane", "Quist", "Brandt", "Castell", "Duarte", "Eklund",
		"Forsyth", "Gallo", "Hartmann", "Iversen", "Janssen", "Kowal", "Laine", "Marsh", "Novak", "Ostrander", "Pellegrini", "Rask",
		"Solberg", "Thorne", "Ulrich", "Vasquez", "Whitlock", "Yilmaz", "Zeller", "Abbott", "Bergman"}
	mhAdjs = []string{"Silent", "Crimson", "Hollow", "Golden", "Broken", "Distant", "Frozen", "Hidden", "Last", "Lonely", "Midnight",
		"Northern", "Pale", "Quiet", "Restless", "Scarlet", "Secret", "Shattered", "Sleeping", "Stone", "Summer", "Twelfth", "Velvet",
		"Wandering", "Winter", "Burning", "Copper", "Drifting", "Empty", "Falling"}
	mhNouns = []string{"River", "Harbour", "Orchard", "Lantern", "Bridge", "Garden", "Mirror", "Tower", "Voyage", "Archive", "Meadow",
		"Compass", "Cathedral", "Island", "Letter", "Machine", "Mountain", "Promise", "Season", "Shore", "Signal", "Theatre", "Valley",
		"Window", "Forest", "Kingdom", "Ledger", "Lighthouse", "Orchestra", "Passage", "Quarry", "Railway", "Station", "Tide", "Violin",
		"Wedding", "Winterhouse", "Workshop", "Atlas", "Ballad"}
	mhGenres      = []string{"novel", "short story collection", "play", "memoir", "poetry collection", "historical novel"}
	mhProfessions = []string{"teacher", "physician", "journalist", "lawyer", "engineer", "librarian", "sailor", "painter", "pharmacist",
		"surveyor", "clockmaker", "botanist"}
	mhTownKinds = []string{"port town", "market town", "river city", "mountain village", "university town", "mining town"}
	mhKnownFor  = []string{"its glassworks", "a spring fair", "its stone bridge", "salt marshes", "a clock tower", "its shipyards",
		"wool weaving", "a botanical garden", "its observatory", "cherry orchards"}
)

// MultihopPassage is one passage of the multi-hop corpus.
type MultihopPassage struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// MultihopQuestion is one two-hop question: its answer needs the passage
// about the book (to find its author, the bridge) and the passage about the
// author.
type MultihopQuestion struct {
	ID       string   `json:"id"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	GoldIDs  []string `json:"gold_ids"`
	Bridge   string   `json:"bridge"`
}

type mhPerson struct {
	name, city, country, profession string
}

// Multihop returns the corpus and questions of the multi-hop task: 32
// countries, 240 towns, 800 people and 800 books of fictional names, as
// 3,040 passages (a passage per book, a second one about its stage
// adaptation, a passage per person's birth, a later-life passage for half
// of them, a passage per town), and NumMultihopQuestions questions in three
// forms: "Which country is the birthplace of the author of X?", "In which
// city was the author of X born?" and "What was the profession of the
// author of X?". The same seed always gives the same task.
func Multihop(seed uint64) ([]MultihopPassage, []MultihopQuestion) {
	r := rand.New(rand.NewPCG(seed, 0x6d75_6c74))
	countries := uniqueNames(mhCountries, func() string { return pick(r, mhCountryStems) + pick(r, mhCountryEnds) })
	cities := uniqueNames(mhCities, func() string {
		name := pick(r, syllablesA) + pick(r, syllablesB)
		if r.IntN(4) == 0 {
			name = pick(r, placePrefixes) + " " + name
		}
		return name
	})
	cityCountry := make(map[string]string, len(cities))
	var out []MultihopPassage
	for i, c := range cities {
		cityCountry[c] = countries[i%len(countries)]
	}
	names := uniqueNames(mhPeople, func() string { return pick(r, mhFirst) + " " + pick(r, mhLast) })
	people := make([]mhPerson, len(names))
	for i, n := range names {
		c := pick(r, cities)
		people[i] = mhPerson{name: n, city: c, country: cityCountry[c], profession: pick(r, mhProfessions)}
	}
	titles := uniqueNames(mhBooks, func() string { return "The " + pick(r, mhAdjs) + " " + pick(r, mhNouns) })
	authors := make([]int, len(titles))
	for i, t := range titles {
		authors[i] = r.IntN(len(people))
		a := people[authors[i]]
		out = append(out, MultihopPassage{ID: fmt.Sprintf("book-%04d", i+1), Title: t,
			Text: fmt.Sprintf("%s is a %s written by %s and first published in %d.", t, pick(r, mhGenres), a.name, between(r, 1850, 1990))})
		stage := pick(r, cities)
		out = append(out, MultihopPassage{ID: fmt.Sprintf("stage-%04d", i+1), Title: t,
			Text: fmt.Sprintf("%s was translated into %d languages and adapted for the stage in %s, %s.", t, between(r, 2, 30), stage, cityCountry[stage])})
	}
	for i, p := range people {
		out = append(out, MultihopPassage{ID: fmt.Sprintf("person-%04d", i+1), Title: p.name,
			Text: fmt.Sprintf("%s was born in %s, %s, and worked as a %s.", p.name, p.city, p.country, p.profession)})
		if i%2 == 0 {
			later := pick(r, cities)
			out = append(out, MultihopPassage{ID: fmt.Sprintf("later-%04d", i+1), Title: p.name,
				Text: fmt.Sprintf("In later life %s moved to %s in %s and gave lectures there.", p.name, later, cityCountry[later])})
		}
	}
	for i, c := range cities {
		out = append(out, MultihopPassage{ID: fmt.Sprintf("town-%04d", i+1), Title: c,
			Text: fmt.Sprintf("%s is a %s in %s, known for %s.", c, pick(r, mhTownKinds), cityCountry[c], pick(r, mhKnownFor))})
	}
	var qs []MultihopQuestion
	for n, bi := range r.Perm(len(titles))[:NumMultihopQuestions] {
		t, a := titles[bi], people[authors[bi]]
		q := MultihopQuestion{ID: fmt.Sprintf("mh-%03d", n+1), Bridge: a.name,
			GoldIDs: []string{fmt.Sprintf("book-%04d", bi+1), fmt.Sprintf("person-%04d", authors[bi]+1)}}
		switch n % 3 {
		case 0:
			q.Question, q.Answer = fmt.Sprintf("Which country is the birthplace of the author of %s?", t), a.country
		case 1:
			q.Question, q.Answer = fmt.Sprintf("In which city was the author of %s born?", t), a.city
		default:
			q.Question, q.Answer = fmt.Sprintf("What was the profession of the author of %s?", t), a.profession
		}
		qs = append(qs, q)
	}
	return out, qs
}

func uniqueNames(n int, gen func() string) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		s := gen()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return slices.Clip(out)
}

// WriteMultihopCorpus writes the committed corpus as JSON lines.
func WriteMultihopCorpus(w io.Writer) error {
	ps, _ := Multihop(MultihopSeed)
	return writeRecords(w, ps)
}

// WriteMultihopQuestions writes the committed questions as JSON lines.
func WriteMultihopQuestions(w io.Writer) error {
	_, qs := Multihop(MultihopSeed)
	return writeRecords(w, qs)
}
