package main

import (
	"flag"
	"os"

	"github.com/flowtrace/flowtrace/analysis/owners"
)

// ownersFlag is --owners, shared by the commands that name teams.
type ownersFlag struct{ file string }

func (f *ownersFlag) add(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "owners", "", "ownership `file` (YAML services: {<service>: {team, channel}}); default $"+owners.Env+
		"; it wins over a span's team attribute for the services it lists")
}

// load reads the file --owners or FLOWTRACE_OWNERS names; nil without one.
func (f *ownersFlag) load() (*owners.Map, error) {
	path := f.file
	if path == "" {
		path = os.Getenv(owners.Env)
	}
	if path == "" {
		return nil, nil
	}
	return owners.Load(path)
}
