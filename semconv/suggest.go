package semconv

// Suggest returns the registered key closest to key by edit distance, or ""
// when none is close (more than a third of the key's length, at least 2,
// away). Templates are suggested by their prefix and "*".
func (r *Registry) Suggest(key string) string {
	best, bestDist := "", -1
	for _, d := range r.defs {
		k := d.DisplayKey()
		dist := Levenshtein(key, k)
		if bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := max(2, len(key)/3)
	if bestDist < 0 || bestDist > limit {
		return ""
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
