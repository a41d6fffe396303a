package teleprompter

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// candidatePool is GEPA's pool of candidate programs: for each, the
// instructions of every predictor, its parents in the pool and its score
// on every validation example. Its methods are pure functions of that
// table, so the frontier logic is tested on hand-built tables.
type candidatePool struct {
	cands []poolCandidate
}

// poolCandidate is one program of the pool.
type poolCandidate struct {
	instr   map[string]string // predictor name -> instructions
	parents []int             // indices in the pool; none for the seed
	scores  []float64         // per validation example
}

// mean returns the candidate's average validation score.
func (c poolCandidate) mean() float64 { return mean(c.scores) }

// add appends a candidate and returns its index.
func (p *candidatePool) add(c poolCandidate) int {
	p.cands = append(p.cands, c)
	return len(p.cands) - 1
}

// best returns the index of the candidate with the highest mean score
// (the earliest on ties); -1 for an empty pool.
func (p *candidatePool) best() int {
	b := -1
	for i, c := range p.cands {
		if b < 0 || c.mean() > p.cands[b].mean() {
			b = i
		}
	}
	return b
}

// fronts returns, for every validation example, the candidates whose
// score on it is the highest (the per-example Pareto front).
func (p *candidatePool) fronts() [][]int {
	if len(p.cands) == 0 {
		return nil
	}
	n := len(p.cands[0].scores)
	out := make([][]int, n)
	for i := range n {
		top := p.cands[0].scores[i]
		for _, c := range p.cands[1:] {
			top = max(top, c.scores[i])
		}
		for ci, c := range p.cands {
			if c.scores[i] == top {
				out[i] = append(out[i], ci)
			}
		}
	}
	return out
}

// frontier returns how often each candidate of the Pareto frontier is on
// an example's front, after removing dominated candidates: a candidate is
// dominated when every front it is on also holds another candidate still
// kept. Candidates are considered for removal from the lowest mean score
// up (later ones first on ties), so of two candidates on exactly the same
// fronts the better (or earlier) one stays. Candidates on no front are
// left out.
func (p *candidatePool) frontier() map[int]int {
	fronts := p.fronts()
	on := make(map[int][]int) // candidate -> examples whose front holds it
	for ex, f := range fronts {
		for _, c := range f {
			on[c] = append(on[c], ex)
		}
	}
	kept := make(map[int]bool, len(on))
	for c := range on {
		kept[c] = true
	}
	order := slices.Sorted(maps.Keys(on))
	slices.SortStableFunc(order, func(a, b int) int {
		ma, mb := p.cands[a].mean(), p.cands[b].mean()
		switch {
		case ma < mb:
			return -1
		case ma > mb:
			return 1
		default:
			return b - a
		}
	})
	for _, c := range order {
		dominated := true
		for _, ex := range on[c] {
			other := false
			for _, d := range fronts[ex] {
				if d != c && kept[d] {
					other = true
					break
				}
			}
			if !other {
				dominated = false
				break
			}
		}
		if dominated {
			delete(kept, c)
		}
	}
	freq := make(map[int]int, len(kept))
	for c := range kept {
		freq[c] = len(on[c])
	}
	return freq
}

// sample picks a frontier candidate with probability proportional to how
// many fronts it is on.
func (p *candidatePool) sample(rng *rand.Rand) int {
	freq := p.frontier()
	ids := slices.Sorted(maps.Keys(freq))
	total := 0
	for _, c := range ids {
		total += freq[c]
	}
	if total == 0 {
		return p.best()
	}
	r := rng.IntN(total)
	for _, c := range ids {
		if r < freq[c] {
			return c
		}
		r -= freq[c]
	}
	return ids[len(ids)-1]
}

// ancestors returns every candidate c descends from, c excluded.
func (p *candidatePool) ancestors(c int) map[int]bool {
	out := map[int]bool{}
	stack := slices.Clone(p.cands[c].parents)
	for len(stack) > 0 {
		a := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !out[a] {
			out[a] = true
			stack = append(stack, p.cands[a].parents...)
		}
	}
	return out
}

// changed returns the predictor names whose instructions differ between
// candidates a and b, sorted.
func (p *candidatePool) changed(a, b int) []string {
	var out []string
	for name, s := range p.cands[b].instr {
		if p.cands[a].instr[name] != s {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// merge finds two frontier candidates i < j, neither descending from the
// other, with a common ancestor from which they improved disjoint sets of
// predictors, whose pair is not in tried, and returns the merged
// instructions (the ancestor's, with each side's changed predictors) and
// the pair. Of several common ancestors the best by mean score is used.
// The merged instructions must not be a candidate's already.
func (p *candidatePool) merge(tried map[[2]int]bool) (instr map[string]string, pair [2]int, ok bool) {
	ids := slices.Sorted(maps.Keys(p.frontier()))
	for x, i := range ids {
		for _, j := range ids[x+1:] {
			key := [2]int{i, j}
			if tried[key] {
				continue
			}
			ai, aj := p.ancestors(i), p.ancestors(j)
			if ai[j] || aj[i] {
				continue
			}
			anc := -1
			for a := range ai {
				if aj[a] && (anc < 0 || p.cands[a].mean() > p.cands[anc].mean() ||
					p.cands[a].mean() == p.cands[anc].mean() && a < anc) {
					anc = a
				}
			}
			if anc < 0 {
				continue
			}
			si, sj := p.changed(anc, i), p.changed(anc, j)
			if len(si) == 0 || len(sj) == 0 || slices.ContainsFunc(si, func(n string) bool { return slices.Contains(sj, n) }) {
				continue
			}
			merged := maps.Clone(p.cands[anc].instr)
			for _, n := range si {
				merged[n] = p.cands[i].instr[n]
			}
			for _, n := range sj {
				merged[n] = p.cands[j].instr[n]
			}
			if p.has(merged) {
				continue
			}
			return merged, key, true
		}
	}
	return nil, [2]int{}, false
}

// has reports whether a candidate has exactly these instructions.
func (p *candidatePool) has(instr map[string]string) bool {
	return slices.ContainsFunc(p.cands, func(c poolCandidate) bool { return maps.Equal(c.instr, instr) })
}
