//go:build !unix

package safefile

import "testing"

// specialCases: no FIFOs to make here.
func specialCases(*testing.T, string) []struct {
	name string
	path string
	want error
} {
	return nil
}
