package triage

import (
	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/owners"
)

// AssignOwners names each culprit's team and on-call channel from the
// ownership file m, keeping the span's team attribute for services m does
// not list (m.Resolve; see package owners for why the file wins). Culprits
// that differed only by the attribute's team are merged. A nil m leaves
// the attribute's teams as they are.
func AssignOwners(reps []*Report, m *owners.Map) {
	if m == nil {
		return
	}
	for _, r := range reps {
		type key struct{ svc, op, team, kind string }
		idx := map[key]int{}
		var out []Culprit
		for _, c := range r.Culprits {
			o := m.Resolve(c.Service, c.Team)
			c.Team, c.Channel, c.TeamSource = o.Team, o.Channel, o.Source
			if o.Conflict != "" {
				c.AttributeTeam = o.Conflict
			}
			k := key{c.Service, c.Operation, c.Team, c.Kind}
			i, ok := idx[k]
			if !ok {
				idx[k] = len(out)
				out = append(out, c)
				continue
			}
			a := &out[i]
			a.Events += c.Events
			a.Weighted = stats.Round(a.Weighted+c.Weighted, 6)
			a.Share = stats.Round(a.Share+c.Share, 4)
			if a.AttributeTeam == "" {
				a.AttributeTeam = c.AttributeTeam
			}
			for _, e := range c.Examples {
				if len(a.Examples) < 3 {
					a.Examples = append(a.Examples, e)
				}
			}
		}
		sortCulprits(out)
		r.Culprits = out
	}
}
