package serve_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/internal/browsertest"
)

// TestChromiumSeesConsoleErrors: the console check below can fail: a page
// whose script throws is caught.
func TestChromiumSeesConsoleErrors(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction()</script></body></html>`)
	}))
	defer bad.Close()
	_, console := browsertest.Load(t, bad.URL)
	require.NotEmpty(t, console)
	require.Contains(t, strings.Join(console, "\n"), "undefinedFunction")
}

// TestPageInChromium: the live page of the shop data loads in a real
// browser without a console message, and its diagram shows every service
// of the shop, the user node and the edges between them; the SLO table
// lists every SLO.
func TestPageInChromium(t *testing.T) {
	core := live.New(live.Config{SLOs: slos(t)})
	srv := start(t, core, serve.Config{})
	sendShop(t, srv)
	core.Flush()
	dom, console := browsertest.Load(t, "http://"+srv.HTTPAddr()+"/")
	require.Empty(t, console, "console messages")
	svg := regexp.MustCompile(`(?s)<svg[^>]*id="diagram".*</svg>`).FindString(dom)
	require.NotEmpty(t, svg, "the diagram is in the DOM:\n%s", dom)
	for _, svc := range []string{"edge", "catalog", "cart", "payment"} {
		require.Regexp(t, `<g class="node" data-kind="service" data-name="`+svc+`">`, svg)
		require.Regexp(t, `<text[^>]*>`+svc+`</text>`, svg)
	}
	for _, topic := range []string{"orders"} {
		require.Regexp(t, `<text[^>]*>topic `+topic+`</text>`, svg)
	}
	require.Contains(t, svg, `data-kind="user"`)
	require.Contains(t, svg, `class="edge" data-from="user" data-to="edge"`)
	require.Contains(t, svg, `class="edge" data-from="edge" data-to="catalog"`)
	for _, s := range slos(t).SLOs {
		require.Contains(t, dom, "<td>"+s.Name+"</td>")
	}
}
