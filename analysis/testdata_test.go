package analysis_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/internal/shopdata"
)

// TestShopFile keeps testdata/shop.jsonl equal to the generator's output, or
// rewrites it with -update. Once the file is one the shop demo recorded (it
// no longer carries the generator's scope name), the test skips.
func TestShopFile(t *testing.T) {
	var buf bytes.Buffer
	if err := shopdata.WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	path := golden.ShopFile()
	if *golden.Update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to generate it)", err)
	}
	if !strings.Contains(string(have), shopdata.ScopeName) {
		t.Skip("span file was recorded by the demo, not generated")
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Error("testdata/shop.jsonl is not what the generator writes; rerun with -update")
	}
}
