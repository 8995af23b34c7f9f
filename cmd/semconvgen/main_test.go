package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/semconv"
)

// TestGeneratedUpToDate fails when semconv/tags_gen.go or REFERENCE.md
// differ from what the generator makes of semconv/registry.yaml: run
// go generate ./semconv.
func TestGeneratedUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "semconv")
	reg, err := semconv.LoadFile(filepath.Join(dir, "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Go(reg, "semconv", "registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"tags_gen.go": src, "REFERENCE.md": Markdown(reg, "registry.yaml")} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("semconv/%s is out of date: run go generate ./semconv", name)
		}
	}
	// The embedded registry is the same file.
	if got, want := semconv.Default().Keys(), reg.Keys(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("embedded registry differs from registry.yaml")
	}
}

func TestOtherPackage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(path, []byte("extends: default\ntags:\n  - key: shop.cart_size\n    type: int\n  - key: shop.tier\n    type: string\n    enum: [gold, silver]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tags_gen.go")
	if err := run(path, "orgconv", out, filepath.Join(dir, "REFERENCE.md")); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(out)
	for _, want := range []string{"package orgconv", `import "github.com/flowtrace/flowtrace/semconv"`, `ShopCartSize semconv.IntTag = "shop.cart_size"`, "ShopTierGold "} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("generated code lacks %q", want)
		}
	}
	if err := run(filepath.Join(dir, "missing.yaml"), "x", out, ""); err == nil {
		t.Error("missing registry: no error")
	}
}
