package semconv

// Suggest returns the registered key closest to key by edit distance, or ""
// when none is close (more than a third of the key's length, at least 2,
// away). Templates are suggested by their prefix and "*".
//
// The key is untrusted (any tag a caller sets), so the work is bounded: the
// edit distance is at least the difference of the lengths, and a registered
// key whose length differs from key's by more than the limit is skipped
// without computing a distance. A key much longer than every registered key
// (a 1 MiB key, say) is thus answered in one pass over the definitions, with
// no allocation.
func (r *Registry) Suggest(key string) string {
	limit := max(2, len(key)/3)
	best, bestDist := "", limit+1
	for _, d := range r.defs {
		n := len(d.Key)
		if d.Template {
			n++ // DisplayKey adds "*"; not built unless compared
		}
		if diff := len(key) - n; diff > limit || -diff > limit {
			continue
		}
		k := d.DisplayKey()
		if dist := Levenshtein(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

// Levenshtein returns the edit distance (insertions, deletions,
// substitutions of bytes) between a and b.
func Levenshtein(a, b string) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
