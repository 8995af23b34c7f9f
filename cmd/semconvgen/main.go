// Command semconvgen generates typed tag helpers and a Markdown reference
// page from a semantic-conventions registry. Package semconv runs it with
// go generate:
//
//	go run ../cmd/semconvgen -registry registry.yaml -go tags_gen.go -md REFERENCE.md
//
// An org with its own registry can generate helpers into its own package:
//
//	semconvgen -registry org.yaml -pkg orgconv -go orgconv/tags_gen.go -md orgconv/REFERENCE.md
//
// The helpers then use package semconv's StringTag, IntTag and so on.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowtrace/flowtrace/semconv"
)

func main() {
	registry := flag.String("registry", "registry.yaml", "registry `file` to read")
	pkg := flag.String("pkg", "semconv", "Go package of the generated helpers")
	goOut := flag.String("go", "", "write Go helpers to `file`")
	mdOut := flag.String("md", "", "write the Markdown reference to `file`")
	flag.Parse()
	if err := run(*registry, *pkg, *goOut, *mdOut); err != nil {
		fmt.Fprintln(os.Stderr, "semconvgen:", err)
		os.Exit(1)
	}
}

func run(registry, pkg, goOut, mdOut string) error {
	reg, err := semconv.LoadFile(registry)
	if err != nil {
		return err
	}
	source := filepath.Base(registry)
	if goOut != "" {
		src, err := Go(reg, pkg, source)
		if err != nil {
			return err
		}
		if err := os.WriteFile(goOut, src, 0o644); err != nil {
			return err
		}
	}
	if mdOut != "" {
		if err := os.WriteFile(mdOut, Markdown(reg, source), 0o644); err != nil {
			return err
		}
	}
	return nil
}
