package gen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// ArchiveSeed is the seed of the committed archive (archive.txt.gz).
const ArchiveSeed = 20261206

// archivePlaces is the number of places the archive describes; each has
// one entry per office in archiveOffices.
const archivePlaces = 640

// NumArchiveQuestions is the number of questions asked about the archive.
const NumArchiveQuestions = 12

var (
	placePrefixes  = []string{"Port", "Cape", "Fort", "Lake", "Mount", "Glen"}
	syllablesA     = []string{"Al", "Bri", "Cas", "Dun", "Ely", "Fen", "Gal", "Hol", "Ist", "Kel", "Lor", "Mar", "Nor", "Oak", "Pel", "Quar", "Ros", "Sel", "Tam", "Ul", "Ves", "Wyn"}
	syllablesB     = []string{"der", "mere", "wick", "ford", "haven", "moor", "ton", "by", "stead", "holm", "ridge", "vale", "wood", "gate", "marsh"}
	archiveOffices = []string{"harbour master", "lighthouse keeper", "mayor", "head librarian", "chief engineer", "ferry captain", "school principal", "town doctor"}
	firstNames     = []string{"Ada", "Bram", "Cora", "Dmitri", "Edda", "Felix", "Greta", "Hugo", "Ilse", "Jonas", "Kira", "Leon", "Maren", "Nils", "Olga", "Piet", "Runa", "Sven", "Tilde", "Ulf", "Vera", "Wim", "Yara", "Zeno"}
	lastNames      = []string{"Fenwick", "Varga", "Lindqvist", "Okafor", "Moreau", "Haldane", "Quist", "Brandt", "Castell", "Duarte", "Eklund", "Forsyth", "Gallo", "Hartmann", "Iversen", "Janssen", "Kowal", "Laine", "Marsh", "Novak"}
	recordVerbs    = []string{"was recorded", "was confirmed", "was entered", "was noted"}
)

// ArchiveEntry is one line of the archive: the holder of an office in a
// place.
type ArchiveEntry struct {
	Place, Office, Holder string
	Year                  int
}

// Archive returns the archive's title line and entries: one entry for every
// office of every place, shuffled, each with its own holder. The same seed
// always gives the same archive.
func Archive(seed uint64) []ArchiveEntry {
	r := rand.New(rand.NewPCG(seed, 0xa2c4_1e5d))
	seen := map[string]bool{}
	var places []string
	for len(places) < archivePlaces {
		name := pick(r, syllablesA) + pick(r, syllablesB)
		if p := pick(r, placePrefixes); r.IntN(3) > 0 {
			name = p + " " + name
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		places = append(places, name)
	}
	var out []ArchiveEntry
	for _, p := range places {
		for _, o := range archiveOffices {
			out = append(out, ArchiveEntry{Place: p, Office: o,
				Holder: pick(r, firstNames) + " " + pick(r, lastNames), Year: between(r, 1801, 1899)})
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// WriteArchive writes the archive's text: a title, then one line per
// entry, "Entry 00042. The ferry captain of Cape Dunmere is Ada Fenwick.
// The appointment was recorded in 1873."
func WriteArchive(w io.Writer) error {
	var b strings.Builder
	b.WriteString("THE REGISTRY OF OFFICES OF THE OUTER ISLES\n")
	for i, e := range Archive(ArchiveSeed) {
		fmt.Fprintf(&b, "Entry %05d. The %s of %s is %s. The appointment %s in %d.\n",
			i+1, e.Office, e.Place, e.Holder, recordVerbs[i%len(recordVerbs)], e.Year)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ArchiveQuestions returns NumArchiveQuestions questions about the
// archive, "Who is the mayor of Port Alder?", with their answers, spread
// over the whole text.
func ArchiveQuestions() []Record {
	entries := Archive(ArchiveSeed)
	out := make([]Record, 0, NumArchiveQuestions)
	for i := range NumArchiveQuestions {
		e := entries[(i*len(entries))/NumArchiveQuestions+len(entries)/(2*NumArchiveQuestions)]
		out = append(out, Record{ID: fmt.Sprintf("archive-%03d", i+1), Kind: "archive",
			Question: fmt.Sprintf("Who is the %s of %s?", e.Office, e.Place), Answer: e.Holder})
	}
	return out
}
