package deps

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the graph as indented JSON: nodes, edges (each with its
// observed spans and the weighted calls they stand for; durations in
// nanoseconds), unresolved calls, integrity counts, links, and the notes
// Mermaid and DOT carry as comments. Empty lists are [] rather than null.
func (g *Graph) WriteJSON(w io.Writer) error {
	out := struct {
		Graph
		Notes []string `json:"notes"`
	}{*g, g.Notes()}
	if out.Nodes == nil {
		out.Nodes = []Node{}
	}
	if out.Edges == nil {
		out.Edges = []Edge{}
	}
	if out.Unresolved == nil {
		out.Unresolved = []Unresolved{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
